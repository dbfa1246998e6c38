/*
 * upstream_probe.c - drive one upstream kind by hand.
 *
 *   upstream_probe [-t timeout_ms] [-c cancel_ms] {direct|http|socks5}
 *       PARENT_HOST:PORT [user:pass] DEST_HOST DEST_PORT
 *
 * Connects to DEST through the kind (PARENT is ignored by direct; "-"
 * will do), then sends "GET / HTTP/1.0" and prints the first line of the
 * answer: exit 0.  A failed connect prints "STATUS reason": exit 1.  With
 * -c an attempt still pending after cancel_ms is cancelled ("cancelled",
 * exit 0), which exercises upstream_cancel() at any phase under ASan.
 * Usage errors exit 2; 3 means the loop ended with no result at all (a
 * bug).  The time taken and the parent's address go to stderr.
 *
 * Not part of the build; for example:
 *   gcc -std=c11 -D_GNU_SOURCE -Iproxyd -g -fsanitize=address,undefined \
 *     tests/tools/upstream_probe.c proxyd/upstream.c proxyd/upstream_http.c \
 *     proxyd/upstream_socks5.c proxyd/util.c proxyd/http_parse.c \
 *     $(pkg-config --cflags --libs libevent libssl libcrypto) -o /tmp/probe
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

#include "upstream.h"

/* How long the destination may take to answer our GET. */
#define ANSWER_TIMEOUT_MS	10000

struct probe {
	struct worker		 w;
	struct upconn		*handle;	/* while connecting */
	struct bufferevent	*bev;		/* after connecting */
	struct event		*cancel_ev;
	int			 in_connect;	/* upstream_connect() running */
	int64_t			 start;
	char			 dest[300];	/* Host header value */
	int			 rc;
};

/* Print the synopsis and exit 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: upstream_probe [-t timeout_ms] "
	    "[-c cancel_ms] {direct|http|socks5} PARENT_HOST:PORT "
	    "[user:pass] DEST_HOST DEST_PORT\n");
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
	while ((ch = getopt(argc, argv, "t:c:")) != -1) {
		switch (ch) {
		case 't':
			timeout_ms = atoi(optarg);
			break;
		case 'c':
			cancel_ms = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
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
	snprintf(p.dest, sizeof(p.dest), strchr(argv[argc - 2], ':') ?
	    "[%s]:%u" : "%s:%u", argv[argc - 2], dport);
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
