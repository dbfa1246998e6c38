/*
 * upstream_socks5.c - the "socks5" kind: a tunnel through a parent SOCKS5
 * proxy (RFC 1928, username/password per RFC 1929).
 *
 * The parent is reached with the direct kind, then the handshake runs as
 * an explicit state machine, one request and one answer per state:
 *
 *   S5_CONNECTING  direct connect to the parent
 *   S5_METHOD      greeting sent (NO AUTH, plus USERNAME/PASSWORD when
 *                  credentials are configured); awaiting VER METHOD
 *   S5_AUTH        RFC 1929 request sent; awaiting VER STATUS
 *   S5_REPLY       CONNECT request sent; awaiting the reply with its
 *                  variable-length BND.ADDR
 *
 * Destination names are sent unresolved (ATYP 0x03) so that the parent,
 * which may see a different DNS, resolves them; IP literals go as 0x01 or
 * 0x04.  One deadline, taken when the attempt starts, bounds the parent
 * connect and the whole handshake.  Bytes after the reply belong to the
 * destination and stay in the bufferevent's input.  The deadline, parked
 * failures and the hand-over are the staged connect's (upstream.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "upstream.h"

#define SOCKS5_VERSION		0x05
#define SOCKS5_AUTH_VERSION	0x01	/* RFC 1929 sub-negotiation */
#define SOCKS5_NO_AUTH		0x00
#define SOCKS5_USERPASS		0x02
#define SOCKS5_NO_METHOD	0xff
#define SOCKS5_CMD_CONNECT	0x01
#define SOCKS5_ATYP_IPV4	0x01
#define SOCKS5_ATYP_DOMAIN	0x03
#define SOCKS5_ATYP_IPV6	0x04
#define SOCKS5_NAME_MAX		255	/* one length byte */

enum s5_state {
	S5_CONNECTING,
	S5_METHOD,
	S5_AUTH,
	S5_REPLY
};

/* What a state's handler did with the input. */
enum s5_step {
	STEP_MORE,		/* needs more bytes */
	STEP_NEXT,		/* moved to the next state */
	STEP_DONE		/* attempt over, struct freed */
};

struct socks5_conn {
	struct staged_conn	 s;		/* first: cast target */
	enum s5_state		 state;
	/* Built up front so that bad input fails before any I/O. */
	unsigned char		 request[4 + 1 + SOCKS5_NAME_MAX + 2];
	size_t			 request_len;
	unsigned char		 auth[3 + 2 * 255];	/* 0 length: none */
	size_t			 auth_len;
	char			 parent[280];	/* "host:port", "[v6]:port" */
};

/*
 * Build the CONNECT request for host:port: an IP literal as such, any
 * other name unresolved.  Returns 0, or fails the attempt (parked) and
 * returns -1.
 */
static int
s5_build_request(struct socks5_conn *u, const char *host, uint16_t port)
{
	unsigned char *p = u->request;
	char bare[64];
	size_t n = strlen(host);

	*p++ = SOCKS5_VERSION;
	*p++ = SOCKS5_CMD_CONNECT;
	*p++ = 0x00;			/* RSV */
	/* The tunnel hands IPv6 literals without brackets; allow both.
	 * Too long for a literal: bare stays empty, host is a name. */
	bare[0] = '\0';
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' &&
	    n - 2 < sizeof(bare))
		snprintf(bare, sizeof(bare), "%.*s", (int)(n - 2), host + 1);
	else if (n < sizeof(bare))
		snprintf(bare, sizeof(bare), "%s", host);
	if (inet_pton(AF_INET, bare, p + 1) == 1) {
		*p = SOCKS5_ATYP_IPV4;
		p += 1 + 4;
	} else if (inet_pton(AF_INET6, bare, p + 1) == 1) {
		*p = SOCKS5_ATYP_IPV6;
		p += 1 + 16;
	} else if (n == 0 || n > SOCKS5_NAME_MAX) {
		staged_fail(&u->s, 502, "socks5 parent %s: destination name "
		    "must be 1 to %d bytes, not %zu", u->parent,
		    SOCKS5_NAME_MAX, n);
		return -1;
	} else {
		*p++ = SOCKS5_ATYP_DOMAIN;
		*p++ = (unsigned char)n;
		memcpy(p, host, n);
		p += n;
	}
	*p++ = (unsigned char)(port >> 8);
	*p++ = (unsigned char)(port & 0xff);
	u->request_len = (size_t)(p - u->request);
	return 0;
}

/*
 * Build the RFC 1929 request VER ULEN UNAME PLEN PASSWD.  Each field is
 * 1 to 255 bytes by the RFC; an empty password is sent anyway, since
 * some parents accept it.  Returns 0, or fails (parked) and returns -1.
 */
static int
s5_build_auth(struct socks5_conn *u, const char *user, const char *pass)
{
	size_t ulen = strlen(user), plen = pass ? strlen(pass) : 0;
	unsigned char *p = u->auth;

	if (ulen == 0 || ulen > 255 || plen > 255) {
		staged_fail(&u->s, 502, "socks5 parent %s: username and "
		    "password must be 1 to 255 bytes each", u->parent);
		return -1;
	}
	*p++ = SOCKS5_AUTH_VERSION;
	*p++ = (unsigned char)ulen;
	memcpy(p, user, ulen);
	p += ulen;
	*p++ = (unsigned char)plen;
	if (plen)
		memcpy(p, pass, plen);
	p += plen;
	u->auth_len = (size_t)(p - u->auth);
	return 0;
}

/* Queue bytes for the parent and enter state next. */
static enum s5_step
s5_send(struct socks5_conn *u, const unsigned char *buf, size_t len,
    enum s5_state next)
{
	if (bufferevent_write(u->s.bev, buf, len) == -1) {
		staged_fail(&u->s, 502, "socks5 parent %s: out of memory",
		    u->parent);
		return STEP_DONE;
	}
	u->state = next;
	return STEP_NEXT;
}

/* S5_METHOD: the parent picked an authentication method. */
static enum s5_step
s5_method(struct socks5_conn *u, struct evbuffer *in)
{
	unsigned char ans[2];

	if (evbuffer_get_length(in) < sizeof(ans))
		return STEP_MORE;
	evbuffer_remove(in, ans, sizeof(ans));
	if (ans[0] != SOCKS5_VERSION) {
		staged_fail(&u->s, 502, "socks5 parent %s: not a SOCKS5 "
		    "server (version byte 0x%02x)", u->parent, ans[0]);
		return STEP_DONE;
	}
	if (ans[1] == SOCKS5_NO_AUTH)
		return s5_send(u, u->request, u->request_len, S5_REPLY);
	if (ans[1] == SOCKS5_USERPASS && u->auth_len > 0)
		return s5_send(u, u->auth, u->auth_len, S5_AUTH);
	if (ans[1] == SOCKS5_NO_METHOD)
		staged_fail(&u->s, 502, "socks5 parent %s: no acceptable "
		    "authentication method (we offered %s)", u->parent,
		    u->auth_len > 0 ? "no-auth and username/password" :
		    "no-auth only; it may want credentials");
	else
		staged_fail(&u->s, 502, "socks5 parent %s: chose "
		    "authentication method 0x%02x, which we did not offer",
		    u->parent, ans[1]);
	return STEP_DONE;
}

/* S5_AUTH: the verdict on our username and password. */
static enum s5_step
s5_auth(struct socks5_conn *u, struct evbuffer *in)
{
	unsigned char ans[2];

	if (evbuffer_get_length(in) < sizeof(ans))
		return STEP_MORE;
	evbuffer_remove(in, ans, sizeof(ans));
	/* Some servers answer with version 5 here; the status is what
	 * matters. */
	if (ans[0] != SOCKS5_AUTH_VERSION && ans[0] != SOCKS5_VERSION) {
		staged_fail(&u->s, 502, "socks5 parent %s: invalid "
		    "authentication answer (version byte 0x%02x)", u->parent,
		    ans[0]);
		return STEP_DONE;
	}
	if (ans[1] != 0x00) {
		staged_fail(&u->s, 502, "socks5 parent %s: username/password "
		    "authentication failed (status 0x%02x)", u->parent,
		    ans[1]);
		return STEP_DONE;
	}
	return s5_send(u, u->request, u->request_len, S5_REPLY);
}

/* RFC 1928 section 6 reply codes. */
static const char *
s5_reply_text(unsigned char rep)
{
	static const char *const text[] = {
		[0x01] = "general SOCKS server failure",
		[0x02] = "connection not allowed by ruleset",
		[0x03] = "network unreachable",
		[0x04] = "host unreachable",
		[0x05] = "connection refused",
		[0x06] = "TTL expired",
		[0x07] = "command not supported",
		[0x08] = "address type not supported",
	};

	if (rep < sizeof(text) / sizeof(text[0]) && text[rep] != NULL)
		return text[rep];
	return "unknown reply code";
}

/*
 * Length of the reply VER REP RSV ATYP BND.ADDR BND.PORT given its first
 * five bytes (fewer are enough for 0x01 and 0x04), 0 if the address type
 * is unknown.
 */
static size_t
s5_reply_len(const unsigned char *hdr, size_t have)
{
	switch (hdr[3]) {
	case SOCKS5_ATYP_IPV4:
		return 4 + 4 + 2;
	case SOCKS5_ATYP_IPV6:
		return 4 + 16 + 2;
	case SOCKS5_ATYP_DOMAIN:
		return have < 5 ? 5 : 4 + 1 + (size_t)hdr[4] + 2;
	default:
		return 0;
	}
}

/* S5_REPLY: the parent's verdict on the CONNECT, read to its end. */
static enum s5_step
s5_reply(struct socks5_conn *u, struct evbuffer *in)
{
	unsigned char hdr[5];
	size_t have = evbuffer_get_length(in), need;

	if (have < 4)
		return STEP_MORE;
	evbuffer_copyout(in, hdr, have < 5 ? have : 5);
	if (hdr[0] != SOCKS5_VERSION) {
		staged_fail(&u->s, 502, "socks5 parent %s: invalid reply "
		    "(version byte 0x%02x)", u->parent, hdr[0]);
		return STEP_DONE;
	}
	/* A refusal needs no address: the parent closes anyway. */
	if (hdr[1] != 0x00) {
		staged_fail(&u->s, 502, "socks5 parent %s: %s (0x%02x)",
		    u->parent, s5_reply_text(hdr[1]), hdr[1]);
		return STEP_DONE;
	}
	if ((need = s5_reply_len(hdr, have)) == 0) {
		staged_fail(&u->s, 502, "socks5 parent %s: invalid address "
		    "type 0x%02x in reply", u->parent, hdr[3]);
		return STEP_DONE;
	}
	if (have < need)
		return STEP_MORE;
	evbuffer_drain(in, need);
	staged_deliver(&u->s);
	return STEP_DONE;
}

/*
 * Run the state machine over what has arrived.  Returns 1 when the
 * attempt is over (u is freed), 0 when more bytes are needed.
 */
static int
s5_advance(struct socks5_conn *u)
{
	struct evbuffer *in = bufferevent_get_input(u->s.bev);
	enum s5_step step;

	do {
		switch (u->state) {
		case S5_METHOD:
			step = s5_method(u, in);
			break;
		case S5_AUTH:
			step = s5_auth(u, in);
			break;
		case S5_REPLY:
			step = s5_reply(u, in);
			break;
		default:
			return 0;
		}
	} while (step == STEP_NEXT);
	return step == STEP_DONE;
}

/* More of the parent's answer arrived. */
static void
s5_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)s5_advance(arg);
}

/* What the parent is expected to answer in the current state. */
static const char *
s5_waiting_for(const struct socks5_conn *u)
{
	switch (u->state) {
	case S5_METHOD:
		return "method selection";
	case S5_AUTH:
		return "username/password authentication";
	default:
		return "CONNECT reply";
	}
}

/* EOF or a socket error during the handshake. */
static void
s5_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct socks5_conn *u = arg;
	int error = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		/* An answer completed by the last read still counts. */
		if (s5_advance(u))
			return;
		staged_fail(&u->s, 502, "socks5 parent %s: closed the "
		    "connection while we awaited the %s", u->parent,
		    s5_waiting_for(u));
		return;
	}
	staged_fail(&u->s, 502, "socks5 parent %s: %s failed during %s: %s",
	    u->parent, what & BEV_EVENT_READING ? "read" : "write",
	    s5_waiting_for(u), evutil_socket_error_to_string(error));
}

/* The deadline passed during the handshake. */
static void
s5_timeout(struct staged_conn *s)
{
	struct socks5_conn *u = (struct socks5_conn *)s;

	staged_fail(s, 504, "socks5 parent %s: %s timed out", u->parent,
	    s5_waiting_for(u));
}

/*
 * The direct connect to the parent is over.  On success send the
 * greeting and run the handshake until what is left of the deadline.
 */
static void
s5_dialed(struct staged_conn *s, const struct http_error *err)
{
	struct socks5_conn *u = (struct socks5_conn *)s;
	unsigned char greeting[4];
	size_t glen = 0;

	if (err != NULL) {
		/* Say which hop failed, not just "host:port: ...". */
		staged_fail(s, err->status, "socks5 parent %s: %s", u->parent,
		    err->reason);
		return;
	}
	bufferevent_setcb(s->bev, s5_read_cb, NULL, s5_event_cb, u);
	greeting[glen++] = SOCKS5_VERSION;
	greeting[glen++] = u->auth_len > 0 ? 2 : 1;
	greeting[glen++] = SOCKS5_NO_AUTH;
	if (u->auth_len > 0)
		greeting[glen++] = SOCKS5_USERPASS;
	if (s5_send(u, greeting, glen, S5_METHOD) != STEP_NEXT)
		return;
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1) {
		staged_fail(s, 502, "socks5 parent %s: out of memory",
		    u->parent);
		return;
	}
	staged_wait(s);
}

/* Credentials linger in freed heap otherwise. */
static void
s5_release(struct staged_conn *s)
{
	struct socks5_conn *u = (struct socks5_conn *)s;

	explicit_bzero(u->auth, sizeof(u->auth));
}

static const struct staged_ops socks5_ops = {
	.timeout = s5_timeout,
	.dialed = s5_dialed,
	.release = s5_release,
};

/*
 * Start a SOCKS5 CONNECT through the parent uc to host:port.  Returns
 * NULL only when out of memory (cb is then never called).
 */
static struct upconn *
socks5_connect(struct worker *w, const struct upstream_conf *uc,
    const char *host, uint16_t port, int timeout_ms, upstream_cb *cb,
    void *arg)
{
	struct socks5_conn *u;

	if ((u = staged_new(sizeof(*u), &socks5_ops, w, timeout_ms, cb,
	    arg)) == NULL)
		return NULL;
	upstream_hostport(u->parent, sizeof(u->parent), uc->host, uc->port);
	/* Bad input fails before any I/O, parked for the loop. */
	if (s5_build_request(u, host, port) == -1)
		return &u->s.base;
	if (uc->user != NULL && s5_build_auth(u, uc->user, uc->pass) == -1)
		return &u->s.base;
	if (staged_dial(&u->s, uc->host, uc->port) == -1) {
		staged_free(&u->s);
		return NULL;
	}
	return &u->s.base;
}

const struct upstream_kind upstream_socks5 = {
	"socks5",
	socks5_connect,
};
