/*
 * transparent.c - connections a transparent listener accepted (squid's
 * intercept, Envoy's original_dst): what the redirected client was
 * connecting to, what it speaks, and which of proxyd's kinds of request
 * takes it.  Nothing new is relayed here: HTTP goes to forward.c (and
 * from there to modproxy.c for a GOPROXY host), TLS and other bytes to
 * tunnel.c, with the same routes, limits, timeouts and access log.
 *
 * Classification looks only at bytes the client has sent and consumes
 * none of them: a ClientHello is read in place (sni.c) and relayed
 * as it came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "addr.h"
#include "client.h"
#include "destpolicy.h"
#include "forward.h"
#include "origdst.h"
#include "request.h"
#include "sni.h"
#include "transparent.h"
#include "tunnel.h"

#define TLS_HANDSHAKE	0x16
#define METHOD_MAX	20	/* longer than any method a client sends */

/*
 * Was the redirected connection made by proxyd itself (our effective
 * UID)?  The rules exclude that UID, so such a connection is one of our
 * own upstream connections sent back by rules that do not: refused, or
 * each would make another until no descriptor is left.
 */
static int
transparent_from_us(const struct sockaddr *peer, const struct sockaddr *dst)
{
	uid_t uid;

	return origdst_peer_uid(peer, dst, &uid) == 0 && uid == geteuid();
}

void
transparent_accept(struct worker *w, int fd, const struct sockaddr *sa,
    int salen)
{
	struct transparent *tp;
	struct client *c;
	const struct sockaddr *d;

	if ((tp = calloc(1, sizeof(*tp))) == NULL ||
	    origdst_get(fd, &tp->dst) == -1) {
		free(tp);
		evutil_closesocket(fd);
		return;
	}
	d = (const struct sockaddr *)&tp->dst;
	sockaddr_text(d, tp->dst_text, sizeof(tp->dst_text));
	tp->dst_port = ntohs(d->sa_family == AF_INET ?
	    ((const struct sockaddr_in *)d)->sin_port :
	    ((const struct sockaddr_in6 *)d)->sin6_port);
	if (dest_is_own_listener(w->cfg, d))
		tp->loop = "original destination is proxyd's own listener "
		    "(a proxy loop)";
	else if (transparent_from_us(sa, d))
		tp->loop = "a connection of proxyd's own came back (a proxy "
		    "loop: the redirect rules must exclude proxyd's uid)";
	if ((c = client_accept(w, fd, sa, salen)) == NULL) {
		free(tp);
		return;
	}
	c->tp = tp;
	/* Redirected in the OUTPUT chain, a connection comes from one of
	 * this host's own addresses (the one routed towards the original
	 * destination, not loopback): a local process, as allow's default
	 * means, whatever the pod's address is. */
	if (c->refuse_status == 403 && cidr_match_any(w->cfg->local_addrs,
	    w->cfg->nlocal_addrs, sa)) {
		c->refuse_status = w->nclients > w->max_clients ? 503 : 0;
		c->refuse_reason = c->refuse_status ? "too many clients" : NULL;
	}
}

/*
 * Do the first bytes look like an HTTP request line ("TOKEN SP")?
 * 1 yes, 0 no, -1 not known yet (letters so far).
 */
static int
looks_http(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i <= METHOD_MAX; i++) {
		if (p[i] == ' ')
			return i > 0;
		if (p[i] < 'A' || p[i] > 'Z')
			return 0;
	}
	return i > METHOD_MAX ? 0 : -1;
}

/* Log a refusal (status) of a connection that speaks no HTTP, and
 * close it: such a client could not read an HTTP answer. */
static void
transparent_close(struct client *c, int status, const char *method,
    const char *target, const char *why)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.method_len = strlen(method);
	req.target = target;
	req.target_len = strlen(target);
	request_log_refusal(c, &req, status, why);
	client_close(c, why);
}

/* Tunnel the connection to host (or the original address) and its
 * original port, routed as CONNECT host:port would be. */
static void
transparent_tunnel(struct client *c, const char *host, size_t host_len)
{
	struct transparent *tp = c->tp;
	struct http_request req;
	char target[300];
	int n;

	if (host == NULL)
		n = snprintf(target, sizeof(target), "%s", tp->dst_text);
	else
		n = snprintf(target, sizeof(target), "%.*s:%u",
		    (int)host_len, host, (unsigned)tp->dst_port);
	memset(&req, 0, sizeof(req));
	req.method = "CONNECT";
	req.method_len = 7;
	req.target = target;
	req.target_len = (size_t)n;
	req.minor_version = 1;
	if (tp->loop) {
		transparent_close(c, 403, "CONNECT", target, tp->loop);
		return;
	}
	tunnel_start_quiet(c, &req);
}

/* The buffered bytes begin a TLS record: route by the hello's SNI. */
static enum tp_kind
transparent_tls(struct client *c, struct evbuffer *in, size_t len)
{
	size_t want = len < 5 + SNI_MAX_RECORD ? len : 5 + SNI_MAX_RECORD;
	const unsigned char *p = evbuffer_pullup(in, (ssize_t)want);
	struct sni_hello hello;
	int n;

	n = sni_parse(p, want, &hello);
	if (n == SNI_INCOMPLETE)
		return TP_UNKNOWN;
	c->tp->kind = TP_OTHER;
	if (n == SNI_INVALID) {
		transparent_close(c, 400, "TLS", c->tp->dst_text,
		    "not a TLS ClientHello");
		return TP_OTHER;
	}
	/* evbuffer_pullup made the hello contiguous; host points in it
	 * until the buffer changes, and transparent_tunnel copies it. */
	transparent_tunnel(c, hello.host, hello.host_len);
	return TP_OTHER;
}

enum tp_kind
transparent_classify(struct client *c)
{
	struct transparent *tp = c->tp;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	const unsigned char *p;
	int http;

	if (tp->kind != TP_UNKNOWN)
		return tp->kind;
	p = evbuffer_pullup(in, (ssize_t)(len < METHOD_MAX + 1 ? len :
	    METHOD_MAX + 1));
	if (p[0] == TLS_HANDSHAKE && !c->refuse_status)
		return transparent_tls(c, in, len);
	if ((http = looks_http(p, len)) == -1)
		return TP_UNKNOWN;
	if (http == 1)
		return tp->kind = TP_HTTP;
	tp->kind = TP_OTHER;
	if (c->refuse_status) {
		transparent_close(c, c->refuse_status, "-", tp->dst_text,
		    c->refuse_reason);
		return TP_OTHER;
	}
	transparent_tunnel(c, NULL, 0);
	return TP_OTHER;
}

int
transparent_timeout(struct client *c)
{
	struct transparent *tp = c->tp;

	if (tp->kind != TP_UNKNOWN)
		return 0;
	tp->kind = TP_OTHER;
	if (c->head_deadline != 0) {
		transparent_close(c, 408, "-", tp->dst_text,
		    "first bytes (a ClientHello?) not complete in time");
		return 1;
	}
	/* Not a byte: a protocol whose server speaks first (SMTP, MySQL). */
	if (c->refuse_status)
		transparent_close(c, c->refuse_status, "-", tp->dst_text,
		    c->refuse_reason);
	else
		transparent_tunnel(c, NULL, 0);
	return 1;
}

/* The request's one Host field, or -1 with the 400 reason. */
static int
transparent_host(const struct http_request *req, const struct http_header
    **host, const char **why)
{
	size_t i;

	*host = NULL;
	for (i = 0; i < req->num_headers; i++) {
		if (!http_header_is(&req->headers[i], "Host"))
			continue;
		if (*host != NULL) {
			*why = "more than one Host header";
			return -1;
		}
		*host = &req->headers[i];
	}
	if (*host == NULL && req->minor_version >= 1) {
		*why = "an HTTP/1.1 request needs a Host header";
		return -1;
	}
	return 0;
}

/*
 * "http://HOST[:PORT]" + the origin-form target into buf: HOST from
 * Host (its port must be the original destination's), or the original
 * address for an HTTP/1.0 request without one.  0, or -1 with the 400
 * reason in why[0..len).
 */
static int
transparent_target(struct client *c, const struct http_request *req,
    char *buf, size_t size, char *why, size_t len)
{
	const struct transparent *tp = c->tp;
	const struct http_header *h;
	struct addr_hostport hp;
	const char *reason;
	int n;

	if (transparent_host(req, &h, &reason) == -1) {
		snprintf(why, len, "%s", reason);
		return -1;
	}
	if (h == NULL)
		n = snprintf(buf, size, "http://%s%.*s", tp->dst_text,
		    (int)req->target_len, req->target);
	else if (addr_split(h->value, h->value_len, 80, &hp) == -1) {
		snprintf(why, len, "Host \"%.*s\" is not a host and port",
		    (int)(h->value_len > 100 ? 100 : h->value_len), h->value);
		return -1;
	} else if (hp.port != tp->dst_port) {
		snprintf(why, len, "Host port %u differs from the original "
		    "destination %s", (unsigned)hp.port, tp->dst_text);
		return -1;
	} else
		n = snprintf(buf, size, "http://%.*s%.*s", (int)h->value_len,
		    h->value, (int)req->target_len, req->target);
	if (n < 0 || (size_t)n >= size) {
		snprintf(why, len, "request target too long");
		return -1;
	}
	return 0;
}

void
transparent_dispatch(struct client *c, const struct http_request *req,
    size_t head_len)
{
	struct http_request abs = *req;
	char target[8300], why[200];

	if (c->tp->loop) {
		client_refuse(c, req, 403, c->tp->loop);
		return;
	}
	if (req->target_len == 0 || req->target[0] != '/') {
		client_refuse(c, req, 400, "a transparent listener takes "
		    "origin-form requests (GET /path), not proxy requests");
		return;
	}
	if (transparent_target(c, req, target, sizeof(target), why,
	    sizeof(why)) == -1) {
		client_refuse(c, req, 400, why);
		return;
	}
	/* Forwarded exactly as if the client had asked a proxy for it. */
	abs.target = target;
	abs.target_len = strlen(target);
	forward_start(c, &abs, head_len);
}
