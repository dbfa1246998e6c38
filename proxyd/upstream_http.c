/*
 * upstream_http.c - the "http" kind: a tunnel through a parent HTTP proxy.
 *
 * The parent is reached with the direct kind, then asked to CONNECT to
 * the destination (RFC 9110 9.3.6); its answer head is read with the
 * response parser.  A 2xx makes the connection a path to the destination:
 * whatever follows the head already comes from the destination and is
 * left in the bufferevent's input.  One deadline, taken when the attempt
 * starts, bounds the parent connect and the answer together; that, the
 * parked failures and the hand-over are the staged connect's (upstream.h).
 *
 * Every reason names the parent ("parent proxy HOST:PORT ...") because
 * the client sees it in a 502/504 and needs to know which hop failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/evp.h>

#include "upstream.h"

/* The answer to a CONNECT is a short head; anything bigger is not one. */
#define ANSWER_MAX_HEAD		(16 * 1024)
#define ANSWER_MAX_LINE		(8 * 1024)
#define ANSWER_MAX_HEADERS	100

/* Longest "user:pass" we encode; keeps the request under the parent's
 * head limits and the base64 length well inside an int. */
#define CREDENTIALS_MAX		4096

/* At most this much of the parent's reason phrase goes into ours. */
#define PARENT_REASON_MAX	80

struct http_conn {
	struct staged_conn	 s;		/* first: cast target */
	struct evbuffer		*request;	/* CONNECT head, until sent */
	int			 credentials;	/* request carries them */
	char			 parent[280];	/* "host:port", "[v6]:port" */
};

/*
 * Is host safe to put in a request line?  The tunnel parsed it already,
 * but a CR, LF or space here would let a name rewrite our request.
 */
static int
host_is_clean(const char *host)
{
	const unsigned char *p;

	if (*host == '\0')
		return 0;
	for (p = (const unsigned char *)host; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	return 1;
}

/*
 * Append "Proxy-Authorization: Basic base64(user:pass)" (RFC 7617) to
 * req.  Returns 0, or -1 when the credentials are too long or memory
 * runs out.
 */
static int
add_credentials(struct evbuffer *req, const char *user, const char *pass)
{
	size_t ulen = strlen(user), plen = pass ? strlen(pass) : 0;
	unsigned char *plain = NULL, *enc = NULL;
	int n, rv = -1;

	if (ulen + plen + 1 > CREDENTIALS_MAX)
		return -1;
	if ((plain = malloc(ulen + plen + 1)) == NULL ||
	    (enc = malloc(4 * ((ulen + plen + 3) / 3) + 1)) == NULL)
		goto done;
	memcpy(plain, user, ulen);
	plain[ulen] = ':';
	if (plen)
		memcpy(plain + ulen + 1, pass, plen);
	n = EVP_EncodeBlock(enc, plain, (int)(ulen + plen + 1));
	if (evbuffer_add_printf(req, "Proxy-Authorization: Basic %.*s\r\n",
	    n, (const char *)enc) != -1)
		rv = 0;
	/* Credentials linger in freed heap otherwise. */
	OPENSSL_cleanse(plain, ulen + plen + 1);
	OPENSSL_cleanse(enc, (size_t)n);
done:
	free(plain);
	free(enc);
	return rv;
}

/*
 * Build the CONNECT head for host:port into u->request.  Returns 0, or
 * fails the attempt (parked: we are inside the connect call) and returns
 * -1.
 */
static int
hc_build_request(struct http_conn *u, const struct upstream_conf *uc,
    const char *host, uint16_t port)
{
	char authority[280];

	if (!host_is_clean(host)) {
		staged_fail(&u->s, 502, "parent proxy %s: invalid destination "
		    "host", u->parent);
		return -1;
	}
	upstream_hostport(authority, sizeof(authority), host, port);
	if ((u->request = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(u->request,
	    "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", authority, authority) == -1)
		goto nomem;
	if (uc->user != NULL) {
		if (add_credentials(u->request, uc->user, uc->pass) == -1) {
			staged_fail(&u->s, 502, "parent proxy %s: credentials "
			    "too long or out of memory", u->parent);
			return -1;
		}
		u->credentials = 1;
	}
	if (evbuffer_add(u->request, "\r\n", 2) == -1)
		goto nomem;
	return 0;
nomem:
	staged_fail(&u->s, 502, "parent proxy %s: out of memory", u->parent);
	return -1;
}

/*
 * A final answer that is not 2xx.  The parent's reason phrase is quoted,
 * shortened and stripped of non-ASCII bytes: it ends up in our own 502.
 */
static void
hc_refused(struct http_conn *u, const struct http_response *res)
{
	char phrase[PARENT_REASON_MAX + 1];
	size_t i, n;

	/*
	 * A CONNECT is addressed to the proxy itself, so a 401 is its own
	 * doing too: tinyproxy answers wrong credentials with one.
	 */
	if (res->status == 407 || res->status == 401) {
		staged_fail(&u->s, 502, "parent proxy %s requires "
		    "authentication (%d)%s", u->parent, res->status,
		    u->credentials ? ": our credentials were rejected" : "");
		return;
	}
	n = res->reason_len < PARENT_REASON_MAX ? res->reason_len :
	    PARENT_REASON_MAX;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)res->reason[i];

		phrase[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	phrase[n] = '\0';
	staged_fail(&u->s, 502, "parent proxy %s refused CONNECT: %d%s%s",
	    u->parent, res->status, n ? " " : "", phrase);
}

/*
 * Parse what has arrived of the answer.  Interim 1xx heads are skipped
 * (a parent may send 100 Continue); the first final head decides.
 * Returns 1 when the attempt is over (u is freed), 0 when more bytes are
 * needed.
 */
static int
hc_read_answer(struct http_conn *u)
{
	const struct http_limits lim = { ANSWER_MAX_LINE, ANSWER_MAX_HEAD,
	    ANSWER_MAX_HEADERS };
	struct evbuffer *in = bufferevent_get_input(u->s.bev);
	struct http_header hdrs[ANSWER_MAX_HEADERS];
	struct http_response res;
	struct http_error err;
	const char *head;
	size_t len, want;
	int n;

	for (;;) {
		if ((len = evbuffer_get_length(in)) == 0)
			return 0;
		/* One byte over the limit tells the parser it is exceeded. */
		want = len < ANSWER_MAX_HEAD + 1 ? len : ANSWER_MAX_HEAD + 1;
		if ((head = (const char *)evbuffer_pullup(in,
		    (ssize_t)want)) == NULL) {
			staged_fail(&u->s, 502, "parent proxy %s: out of "
			    "memory", u->parent);
			return 1;
		}
		memset(&res, 0, sizeof(res));
		memset(&err, 0, sizeof(err));
		res.headers = hdrs;
		res.num_headers = ANSWER_MAX_HEADERS;
		n = http_parse_response(head, want, &lim, &res, &err);
		if (n == HTTP_PARSE_INCOMPLETE)
			return 0;
		if (n < 0) {
			staged_fail(&u->s, 502, "parent proxy %s: invalid "
			    "answer to CONNECT: %s", u->parent, err.reason ?
			    err.reason : "unparsable head");
			return 1;
		}
		/* 101 to a CONNECT is nonsense: let it count as a refusal. */
		if (res.status >= 200 || res.status == 101)
			break;
		evbuffer_drain(in, (size_t)n);
	}
	if (res.status < 200 || res.status > 299) {
		hc_refused(u, &res);
		return 1;
	}
	/* RFC 9110 9.3.6: after a 2xx head the tunnel begins at once;
	 * Content-Length and Transfer-Encoding in it mean nothing. */
	evbuffer_drain(in, (size_t)n);
	staged_deliver(&u->s);
	return 1;
}

/* More of the answer arrived. */
static void
hc_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)hc_read_answer(arg);
}

/* EOF or a socket error while the CONNECT is outstanding. */
static void
hc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *u = arg;
	int error = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_EOF) {
		/* A head completed by the last read still counts. */
		if (hc_read_answer(u))
			return;
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			staged_fail(&u->s, 502, "parent proxy %s: closed the "
			    "connection in the middle of its answer to CONNECT",
			    u->parent);
		else
			staged_fail(&u->s, 502, "parent proxy %s: closed the "
			    "connection without answering CONNECT",
			    u->parent);
		return;
	}
	staged_fail(&u->s, 502, "parent proxy %s: %s failed during CONNECT: "
	    "%s", u->parent, what & BEV_EVENT_READING ? "read" : "write",
	    evutil_socket_error_to_string(error));
}

/* The deadline passed while waiting for the answer. */
static void
hc_timeout(struct staged_conn *s)
{
	struct http_conn *u = (struct http_conn *)s;

	staged_fail(s, 504, "parent proxy %s: CONNECT answer timed out",
	    u->parent);
}

/*
 * The direct connect to the parent is over.  On success send the
 * CONNECT and wait for the answer until what is left of the deadline.
 */
static void
hc_dialed(struct staged_conn *s, const struct http_error *err)
{
	struct http_conn *u = (struct http_conn *)s;

	if (err != NULL) {
		staged_fail(s, err->status, "parent proxy %s: %s", u->parent,
		    err->reason);
		return;
	}
	bufferevent_setcb(s->bev, hc_read_cb, NULL, hc_event_cb, u);
	if (bufferevent_write_buffer(s->bev, u->request) == -1 ||
	    bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1) {
		staged_fail(s, 502, "parent proxy %s: out of memory",
		    u->parent);
		return;
	}
	evbuffer_free(u->request);
	u->request = NULL;
	staged_wait(s);
}

/* Free the CONNECT head if it was never sent. */
static void
hc_release(struct staged_conn *s)
{
	struct http_conn *u = (struct http_conn *)s;

	if (u->request)
		evbuffer_free(u->request);
}

static const struct staged_ops http_ops = {
	.timeout = hc_timeout,
	.dialed = hc_dialed,
	.release = hc_release,
};

/*
 * Start a CONNECT through the parent uc to host:port.  Returns NULL only
 * when out of memory (cb is then never called).
 */
static struct upconn *
http_connect(struct worker *w, const struct upstream_conf *uc,
    const char *host, uint16_t port, int timeout_ms, upstream_cb *cb,
    void *arg)
{
	struct http_conn *u;

	if ((u = staged_new(sizeof(*u), &http_ops, w, timeout_ms, cb,
	    arg)) == NULL)
		return NULL;
	upstream_hostport(u->parent, sizeof(u->parent), uc->host, uc->port);
	/* A bad request fails before any I/O, parked for the loop. */
	if (hc_build_request(u, uc, host, port) == -1)
		return &u->s.base;
	if (staged_dial(&u->s, uc->host, uc->port) == -1) {
		staged_free(&u->s);
		return NULL;
	}
	return &u->s.base;
}

const struct upstream_kind upstream_http = {
	"http",
	http_connect,
};
