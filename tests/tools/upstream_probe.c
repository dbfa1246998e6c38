/*
 * upstream_probe.c - drive one upstream kind by hand.
 *
 *   upstream_probe [-t timeout_ms] [-c cancel_ms] {direct|http|socks5}
 *       PARENT_HOST:PORT [user:pass] DEST_HOST DEST_PORT
 *   upstream_probe [-t timeout_ms] [-c cancel_ms] [-efk] [-n count]
 *       [-o outer_port] [-p KIND:PARENT_HOST:PORT] tls CA_FILE|- HOST PORT
 *       [CONNECT_IP]
 *
 * Connects to DEST through the kind (PARENT is ignored by direct; "-"
 * will do), then sends "GET / HTTP/1.0" and prints the first line of the
 * answer: exit 0.  A failed connect prints "STATUS reason": exit 1.  With
 * -c an attempt still pending after cancel_ms is cancelled ("cancelled",
 * exit 0), which exercises upstream_cancel() at any phase under ASan.
 * Usage errors exit 2; 3 means the loop ended with no result at all (a
 * bug).  The time taken and the parent's address go to stderr.
 *
 * tls connects directly to HOST (or to CONNECT_IP, still verifying HOST),
 * or with -p through a parent of kind http or socks5, wraps the
 * connection with tls_connect() trusting CA_FILE ("-": the system store),
 * sends "GET / HTTP/1.1" with "Connection: close", prints the first
 * answer line and reads to the end: exit 0 on a clean EOF, 1 on a failed
 * handshake or a read error.  -t bounds the connect and the
 * handshake together.  Test hooks: -f puts a pass-through filter between
 * the socket and TLS (the filter path of tls_connect); -e plants bytes in
 * the input before the handshake (as a parent's early bytes would be);
 * -k first asks on a kept-alive connection, parks it idle (no callbacks,
 * reading off, as a pool would) for a moment and asks again; -n repeats
 * the whole probe, so the later runs resume the cached session; -o dials
 * outer_port instead, speaks TLS to HOST there (a TLS-terminating relay,
 * like an HTTPS parent's tunnel) and then TLS to HOST:PORT inside it.
 * TLS details (version, resumption, path) go to stderr.
 *
 * Not part of the build; for example:
 *   gcc -std=c11 -D_GNU_SOURCE -Iproxyd -g -fsanitize=address,undefined \
 *     tests/tools/upstream_probe.c proxyd/upstream.c proxyd/upstream_http.c \
 *     proxyd/upstream_socks5.c proxyd/util.c proxyd/addr.c proxyd/http_parse.c \
 *     proxyd/tls.c $(pkg-config --cflags --libs libevent \
 *     libevent_openssl libssl libcrypto) -o /tmp/probe
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "upstream.h"

/* How long the destination may take to answer our GET. */
#define ANSWER_TIMEOUT_MS	10000

/* -k: how long the kept-alive connection idles between requests. */
#define PARK_MS			300

struct probe {
	struct worker		 w;
	struct upconn		*handle;	/* while connecting */
	struct bufferevent	*bev;		/* after connecting */
	struct event		*cancel_ev;
	int			 in_connect;	/* upstream_connect() running */
	int64_t			 start;
	char			 dest[300];	/* Host header value */
	int			 rc;

	/* tls mode */
	struct tls_client	*tls;
	const char		*tls_host;	/* verified name */
	const char		*connect_to;	/* address to dial */
	uint16_t		 tls_port;
	uint16_t		 outer_port;	/* -o */
	const struct upstream_kind *via;	/* -p: kind, or NULL */
	struct upstream_conf	 via_uc;	/* -p: the parent */
	int			 timeout_ms;
	int			 filter;	/* -f */
	int			 early;		/* -e */
	int			 keep_opt;	/* -k */
	int			 keepalive;	/* reading the kept answer */
	int			 runs;		/* -n: probes left */
	struct event		*park_ev;	/* -k: idle pause */
	size_t			 body_left;	/* -k: first answer's body */
	int			 in_body;
	int			 line_done;	/* first line printed */
	size_t			 nread;		/* bytes of the answers */
};

/* Print the synopsis and exit 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: upstream_probe [-t timeout_ms] "
	    "[-c cancel_ms] {direct|http|socks5} PARENT_HOST:PORT "
	    "[user:pass] DEST_HOST DEST_PORT\n"
	    "       upstream_probe [-t timeout_ms] [-c cancel_ms] [-efk] "
	    "[-n count] [-o outer_port] [-p KIND:PARENT_HOST:PORT] tls "
	    "CA_FILE|- HOST PORT [CONNECT_IP]\n");
	exit(2);
}

/* Parse a port number; 0 when invalid. */
static uint16_t
parse_port(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return 0;
	return (uint16_t)v;
}

/*
 * Split "host:port" or "[v6]:port" into uc->host (malloc'd, brackets
 * removed) and uc->port.  Returns 0 or -1.
 */
static int
parse_parent(const char *s, struct upstream_conf *uc)
{
	const char *colon = strrchr(s, ':');
	const char *h = s, *he;

	if (colon == NULL)
		return -1;
	he = colon;
	if (*s == '[') {
		if (colon == s || colon[-1] != ']')
			return -1;
		h = s + 1;
		he = colon - 1;
	}
	if (he == h || (uc->port = parse_port(colon + 1)) == 0)
		return -1;
	if ((uc->host = strndup(h, (size_t)(he - h))) == NULL)
		return -1;
	return 0;
}

/* Split "user:pass" into uc->user and uc->pass (both malloc'd). */
static int
parse_credentials(const char *s, struct upstream_conf *uc)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL)
		return -1;
	uc->user = strndup(s, (size_t)(colon - s));
	uc->pass = strdup(colon + 1);
	return uc->user && uc->pass ? 0 : -1;
}

/* Milliseconds since the connect started. */
static int64_t
elapsed(struct probe *p)
{
	return now_ms(p->w.base) - p->start;
}

/* The probe is over: drop what is left so the loop runs dry. */
static void
probe_done(struct probe *p, int rc)
{
	p->rc = rc;
	if (p->bev) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	if (p->cancel_ev)
		event_del(p->cancel_ev);
	if (p->park_ev)
		event_del(p->park_ev);
}

/* Print the destination's first answer line once it is complete. */
static void
answer_read_cb(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	size_t n;
	char *line;

	line = evbuffer_readln(bufferevent_get_input(bev), &n,
	    EVBUFFER_EOL_CRLF);
	if (line == NULL)
		return;
	printf("%s\n", line);
	free(line);
	probe_done(p, 0);
}

/* The destination closed, failed or timed out before a whole line. */
static void
answer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;

	(void)bev;
	printf("no answer line from the destination (%s)\n",
	    what & BEV_EVENT_TIMEOUT ? "timeout" :
	    what & BEV_EVENT_EOF ? "EOF" : strerror(errno));
	probe_done(p, 1);
}

/*
 * The upstream kind's verdict.  On success ask the destination for "/"
 * and wait for the first line of its answer.
 */
static void
connected_cb(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct probe *p = arg;
	struct timeval tv;

	if (p->in_connect) {
		fprintf(stderr, "BUG: callback ran inside upstream_connect\n");
		abort();
	}
	p->handle = NULL;
	fprintf(stderr, "after %lld ms, peer %s\n", (long long)elapsed(p),
	    peer);
	if (bev == NULL) {
		printf("%d %s\n", err->status, err->reason);
		probe_done(p, 1);
		return;
	}
	fprintf(stderr, "%zu early bytes\n",
	    evbuffer_get_length(bufferevent_get_input(bev)));
	p->bev = bev;
	bufferevent_setcb(bev, answer_read_cb, NULL, answer_event_cb, p);
	ms_to_tv(ANSWER_TIMEOUT_MS, &tv);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	evbuffer_add_printf(bufferevent_get_output(bev),
	    "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", p->dest);
	/* Bytes that came with the handover never trigger a read. */
	answer_read_cb(bev, p);
}

/* -c: abandon the attempt if it is still pending. */
static void
cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	upstream_cancel(p->handle);
	p->handle = NULL;
	fprintf(stderr, "cancelled after %lld ms\n", (long long)elapsed(p));
	printf("cancelled\n");
	p->rc = 0;
}

/* --- tls mode --- */

static void	tls_start(struct probe *p);
static void	tls_read_cb(struct bufferevent *bev, void *arg);
static void	tls_event_cb(struct bufferevent *bev, short what, void *arg);

/* One probe is over; start the next of -n if this one went well. */
static void
tls_finish(struct probe *p, int rc)
{
	probe_done(p, rc);
	if (rc == 0 && --p->runs > 0)
		tls_start(p);
}

/* Print the answer's first line once it is complete (it stays buffered). */
static void
tls_first_line(struct probe *p, struct evbuffer *in)
{
	struct evbuffer_ptr eol;
	size_t n;
	char *line;

	if (p->line_done)
		return;
	eol = evbuffer_search_eol(in, NULL, &n, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0)
		return;
	if ((line = malloc((size_t)eol.pos + 1)) == NULL)
		return;
	evbuffer_copyout(in, line, (size_t)eol.pos);
	line[eol.pos] = '\0';
	printf("%s\n", line);
	fflush(stdout);
	free(line);
	p->line_done = 1;
}

/* Send GET / on bev; the last request of a probe asks to close. */
static void
tls_send_request(struct probe *p, struct bufferevent *bev, int last)
{
	evbuffer_add_printf(bufferevent_get_output(bev),
	    "GET / HTTP/1.1\r\nHost: %s\r\n%s\r\n", p->dest,
	    last ? "Connection: close\r\n" : "");
}

/* -k: the pause is over; ask again on the parked connection. */
static void
tls_park_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "asking again after %d ms idle\n", PARK_MS);
	p->keepalive = 0;
	p->line_done = 0;
	bufferevent_setcb(p->bev, tls_read_cb, NULL, tls_event_cb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	tls_send_request(p, p->bev, 1);
	/* Bytes read before parking never trigger a read. */
	tls_read_cb(p->bev, p);
}

/* Leave the connection as a pool would: no callbacks, reading off. */
static void
tls_park(struct probe *p)
{
	struct timeval tv;

	bufferevent_setcb(p->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(p->bev, EV_READ);
	evtimer_add(p->park_ev, ms_to_tv(PARK_MS, &tv));
}

/*
 * -k: take the first answer's head (printing its first line) and then
 * exactly Content-Length body bytes.  Returns 1 once it is all read.
 */
static int
tls_read_kept(struct probe *p, struct evbuffer *in)
{
	struct evbuffer_ptr end;
	const char *cl;
	char *head;
	size_t n;

	if (!p->in_body) {
		end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0)
			return 0;
		tls_first_line(p, in);
		if ((head = malloc((size_t)end.pos + 5)) == NULL)
			return 0;
		evbuffer_remove(in, head, (size_t)end.pos + 4);
		head[end.pos + 4] = '\0';
		cl = strcasestr(head, "\r\ncontent-length:");
		p->body_left = cl ? strtoul(cl + 17, NULL, 10) : 0;
		free(head);
		p->in_body = 1;
	}
	n = evbuffer_get_length(in);
	if (n > p->body_left)
		n = p->body_left;
	evbuffer_drain(in, n);
	p->nread += n;
	p->body_left -= n;
	return p->body_left == 0;
}

/* Answer bytes arrived. */
static void
tls_read_cb(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (p->keepalive) {
		if (tls_read_kept(p, in)) {
			fprintf(stderr, "first answer complete, parking\n");
			tls_park(p);
		}
		return;
	}
	tls_first_line(p, in);
	p->nread += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* The answer ended: a clean EOF, or an error worth showing in full. */
static void
tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;
	unsigned long e;
	char buf[256];
	int n = 0;

	if (what & BEV_EVENT_EOF) {
		fprintf(stderr, "%zu bytes, then EOF\n", p->nread);
		tls_finish(p, p->line_done ? 0 : 1);
		return;
	}
	printf("%s error after %zu bytes:", what & BEV_EVENT_TIMEOUT ?
	    "timeout" : "read/write", p->nread);
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		printf(" %s", buf);
		n++;
	}
	printf("%s%s\n", n ? "" : " ", n ? "" : strerror(errno));
	tls_finish(p, 1);
}

/* The handshake's verdict: on success, ask for "/". */
static void
tls_done_cb(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct probe *p = arg;
	struct timeval tv;
	SSL *ssl;

	if (p->in_connect) {
		fprintf(stderr, "BUG: callback ran inside tls_connect\n");
		abort();
	}
	p->handle = NULL;
	fprintf(stderr, "TLS after %lld ms, peer %s\n", (long long)elapsed(p),
	    peer);
	if (bev == NULL) {
		printf("%d %s\n", err->status, err->reason);
		tls_finish(p, 1);
		return;
	}
	ssl = bufferevent_openssl_get_ssl(bev);
	fprintf(stderr, "%s %s, %s path, session %s, %zu early bytes\n",
	    SSL_get_version(ssl), SSL_get_cipher(ssl),
	    bufferevent_get_underlying(bev) ? "filter" : "socket",
	    SSL_session_reused(ssl) ? "resumed" : "new",
	    evbuffer_get_length(bufferevent_get_input(bev)));
	p->bev = bev;
	bufferevent_setcb(bev, tls_read_cb, NULL, tls_event_cb, p);
	ms_to_tv(ANSWER_TIMEOUT_MS, &tv);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	tls_send_request(p, bev, !p->keepalive);
	tls_read_cb(bev, p);
}

/* Start the TLS handshake to port on bev; returns 0, or -1 (reported). */
static int
tls_wrap(struct probe *p, struct bufferevent *bev, uint16_t port,
    upstream_cb *cb)
{
	int64_t left = p->timeout_ms - elapsed(p);

	p->in_connect = 1;
	p->handle = tls_connect(p->tls, &p->w, bev, p->tls_host, port,
	    left > 0 ? (int)left : 0, cb, p);
	p->in_connect = 0;
	if (p->handle == NULL) {
		printf("tls_connect: out of memory\n");
		tls_finish(p, 2);
		return -1;
	}
	return 0;
}

/* -o: the outer TLS is up; now TLS to HOST:PORT inside it. */
static void
tls_outer_cb(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct probe *p = arg;

	if (p->in_connect) {
		fprintf(stderr, "BUG: callback ran inside tls_connect\n");
		abort();
	}
	p->handle = NULL;
	fprintf(stderr, "outer TLS after %lld ms, peer %s\n",
	    (long long)elapsed(p), peer);
	if (bev == NULL) {
		printf("outer: %d %s\n", err->status, err->reason);
		tls_finish(p, 1);
		return;
	}
	fprintf(stderr, "outer: %s\n",
	    SSL_get_version(bufferevent_openssl_get_ssl(bev)));
	(void)tls_wrap(p, bev, p->tls_port, tls_done_cb);
}

/* The plain connection is up: apply the test hooks, then TLS. */
static void
tls_plain_cb(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct probe *p = arg;

	if (p->in_connect) {
		fprintf(stderr, "BUG: callback ran inside upstream_connect\n");
		abort();
	}
	p->handle = NULL;
	fprintf(stderr, "connected after %lld ms, peer %s\n",
	    (long long)elapsed(p), peer);
	if (bev == NULL) {
		printf("%d %s\n", err->status, err->reason);
		tls_finish(p, 1);
		return;
	}
	/*
	 * A filter reads through its underlying bufferevent: let it read.
	 * Deferred callbacks, as tls.h requires of a filter.
	 */
	if (p->filter)
		bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (p->filter && (bev = bufferevent_filter_new(bev, NULL, NULL,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, NULL,
	    NULL)) == NULL) {
		fprintf(stderr, "bufferevent_filter_new failed\n");
		exit(2);
	}
	if (p->early)
		evbuffer_add(bufferevent_get_input(bev), "SSH-2.0-x\r\n", 11);
	if (p->outer_port)
		(void)tls_wrap(p, bev, p->outer_port, tls_outer_cb);
	else
		(void)tls_wrap(p, bev, p->tls_port, tls_done_cb);
}

/*
 * Dial HOST (or CONNECT_IP), directly or through the -p parent; TLS
 * follows in tls_plain_cb.
 */
static void
tls_start(struct probe *p)
{
	p->start = now_ms(p->w.base);
	p->line_done = 0;
	p->nread = 0;
	p->in_body = 0;
	p->keepalive = p->keep_opt;
	p->rc = 3;
	p->in_connect = 1;
	p->handle = upstream_connect(p->via ? p->via : &upstream_direct,
	    &p->w, p->via ? &p->via_uc : NULL, p->connect_to,
	    p->outer_port ? p->outer_port : p->tls_port, p->timeout_ms,
	    tls_plain_cb, p);
	p->in_connect = 0;
	if (p->handle == NULL) {
		fprintf(stderr, "upstream_connect: out of memory\n");
		exit(2);
	}
}

/* The kind called name, or NULL. */
static const struct upstream_kind *
kind_named(const char *name)
{
	if (strcmp(name, "direct") == 0)
		return &upstream_direct;
	if (strcmp(name, "http") == 0)
		return &upstream_http;
	if (strcmp(name, "socks5") == 0)
		return &upstream_socks5;
	return NULL;
}

/*
 * -p: "KIND:PARENT_HOST:PORT" (KIND http or socks5) into p->via and
 * p->via_uc.  Returns 0 or -1.
 */
static int
parse_via(struct probe *p, const char *s)
{
	const char *colon = strchr(s, ':');
	char kind[16];

	if (colon == NULL || (size_t)(colon - s) >= sizeof(kind))
		return -1;
	snprintf(kind, sizeof(kind), "%.*s", (int)(colon - s), s);
	p->via = kind_named(kind);
	if (p->via == NULL || p->via == &upstream_direct)
		return -1;
	p->via_uc.type = p->via == &upstream_http ? UPSTREAM_HTTP :
	    UPSTREAM_SOCKS5;
	return parse_parent(colon + 1, &p->via_uc);
}

/* A worker with just what the upstream kinds use: a loop and a resolver. */
static int
worker_init(struct worker *w)
{
	int r;

	if ((w->base = event_base_new()) == NULL)
		return -1;
	/* Inactive nameservers hold no events: the loop ends when we do. */
	if ((w->dns = evdns_base_new(w->base,
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		return -1;
	r = evdns_base_resolv_conf_parse(w->dns, DNS_OPTION_NAMESERVERS |
	    DNS_OPTION_SEARCH | DNS_OPTION_MISC, "/etc/resolv.conf");
	if (r != 0 && r != 6)
		fprintf(stderr, "/etc/resolv.conf: evdns error %d\n", r);
	if (evdns_base_load_hosts(w->dns, "/etc/hosts") != 0)
		fprintf(stderr, "/etc/hosts: cannot read\n");
	return 0;
}

/* tls CA_FILE|- HOST PORT [CONNECT_IP]: see the top of the file. */
static int
tls_main(struct probe *p, int argc, char **argv, int timeout_ms,
    int cancel_ms)
{
	struct timeval tv;
	char err[512];

	if (argc != 4 && argc != 5)
		usage();
	if ((p->tls_port = parse_port(argv[3])) == 0 || p->runs < 1)
		usage();
	p->tls_host = argv[2];
	p->connect_to = argc == 5 ? argv[4] : argv[2];
	p->timeout_ms = timeout_ms;
	upstream_hostport(p->dest, sizeof(p->dest), p->tls_host, p->tls_port);
	if ((p->tls = tls_client_new(strcmp(argv[1], "-") == 0 ? NULL :
	    argv[1], err, sizeof(err))) == NULL) {
		printf("tls_client_new: %s\n", err);
		return 1;
	}
	if (worker_init(&p->w) == -1 ||
	    (p->park_ev = evtimer_new(p->w.base, tls_park_cb, p)) == NULL) {
		fprintf(stderr, "cannot set up the event loop\n");
		return 2;
	}
	if (cancel_ms >= 0) {
		p->cancel_ev = evtimer_new(p->w.base, cancel_cb, p);
		evtimer_add(p->cancel_ev, ms_to_tv(cancel_ms, &tv));
	}
	tls_start(p);
	event_base_dispatch(p->w.base);

	if (p->cancel_ev)
		event_free(p->cancel_ev);
	event_free(p->park_ev);
	tls_client_free(p->tls);
	free(p->via_uc.host);
	evdns_base_free(p->w.dns, 0);
	event_base_free(p->w.base);
	return p->rc;
}

int
main(int argc, char **argv)
{
	struct upstream_conf uc;
	const struct upstream_kind *kind;
	struct probe p;
	struct timeval tv;
	int ch, timeout_ms = 5000, cancel_ms = -1;
	uint16_t dport;

	memset(&p, 0, sizeof(p));
	memset(&uc, 0, sizeof(uc));
	p.runs = 1;
	while ((ch = getopt(argc, argv, "t:c:efkn:o:p:")) != -1) {
		switch (ch) {
		case 't':
			timeout_ms = atoi(optarg);
			break;
		case 'c':
			cancel_ms = atoi(optarg);
			break;
		case 'e':
			p.early = 1;
			break;
		case 'f':
			p.filter = 1;
			break;
		case 'k':
			p.keep_opt = 1;
			break;
		case 'n':
			p.runs = atoi(optarg);
			break;
		case 'o':
			if ((p.outer_port = parse_port(optarg)) == 0)
				usage();
			break;
		case 'p':
			if (parse_via(&p, optarg) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 1 && strcmp(argv[0], "tls") == 0)
		return tls_main(&p, argc, argv, timeout_ms, cancel_ms);
	if (argc != 4 && argc != 5)
		usage();
	if ((kind = kind_named(argv[0])) == NULL)
		usage();
	if (kind != &upstream_direct && parse_parent(argv[1], &uc) == -1)
		usage();
	if (argc == 5 && parse_credentials(argv[2], &uc) == -1)
		usage();
	if ((dport = parse_port(argv[argc - 1])) == 0)
		usage();
	upstream_hostport(p.dest, sizeof(p.dest), argv[argc - 2], dport);
	uc.type = kind == &upstream_http ? UPSTREAM_HTTP : UPSTREAM_SOCKS5;

	if (worker_init(&p.w) == -1) {
		fprintf(stderr, "cannot set up the event loop\n");
		return 2;
	}
	p.rc = 3;	/* neither callback nor cancel */
	p.start = now_ms(p.w.base);
	if (cancel_ms >= 0) {
		p.cancel_ev = evtimer_new(p.w.base, cancel_cb, &p);
		evtimer_add(p.cancel_ev, ms_to_tv(cancel_ms, &tv));
	}
	p.in_connect = 1;
	p.handle = upstream_connect(kind, &p.w,
	    kind == &upstream_direct ? NULL : &uc, argv[argc - 2], dport,
	    timeout_ms, connected_cb, &p);
	p.in_connect = 0;
	if (p.handle == NULL) {
		fprintf(stderr, "upstream_connect: out of memory\n");
		return 2;
	}
	event_base_dispatch(p.w.base);

	if (p.cancel_ev)
		event_free(p.cancel_ev);
	evdns_base_free(p.w.dns, 0);
	event_base_free(p.w.base);
	free(uc.host);
	free(uc.user);
	free(uc.pass);
	return p.rc;
}
