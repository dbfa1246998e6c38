/*
 * transparent.h - connections a transparent listener accepted: traffic
 * the kernel redirected to proxyd (iptables REDIRECT/DNAT in the OUTPUT
 * chain) from clients that know nothing of a proxy.  The first bytes
 * say what the connection is: HTTP (origin-form requests, routed by
 * Host and forwarded like absolute-form ones), TLS (routed by the
 * ClientHello's SNI and tunnelled untouched, as a CONNECT would be), or
 * anything else (tunnelled to the original destination by address).
 *
 * Owns struct transparent, hung on the client (c->tp) for its life.
 */
#ifndef PROXYD_TRANSPARENT_H
#define PROXYD_TRANSPARENT_H

#include "proxyd.h"

enum tp_kind {
	TP_UNKNOWN,		/* no byte classified yet */
	TP_HTTP,		/* client.c reads heads as usual */
	TP_OTHER		/* handed to a tunnel, or closed */
};

struct transparent {
	struct sockaddr_storage	 dst;		/* original destination */
	char			 dst_text[56];	/* "addr:port" */
	uint16_t		 dst_port;
	enum tp_kind		 kind;
	const char		*loop;		/* why dst is proxyd, or NULL */
};

/*
 * Take over socket fd accepted on a transparent listener: a client
 * (client_accept) with its original destination.
 */
void	transparent_accept(struct worker *w, int fd, const struct sockaddr *sa,
	    int salen);

/*
 * The client's buffered first bytes: TP_HTTP when they are HTTP (the
 * caller reads the head), TP_UNKNOWN when more must arrive (the caller
 * keeps the header deadline), TP_OTHER when the connection was handed
 * to a tunnel or closed (the caller touches it no more).
 */
enum tp_kind	transparent_classify(struct client *c);

/*
 * A parsed HTTP head on a transparent connection: checked against the
 * original destination, then forwarded as an absolute-form request to
 * its Host.  Answers the client itself on a refusal.
 */
void	transparent_dispatch(struct client *c, const struct http_request *req,
	    size_t head_len);

/*
 * A read timeout before the connection was classified: no byte at all
 * is a server-speaks-first protocol (tunnelled by address), a partial
 * ClientHello is closed and logged.  Returns 1 when it dealt with the
 * event, 0 when the caller's usual handling applies (HTTP).
 */
int	transparent_timeout(struct client *c);

#endif /* PROXYD_TRANSPARENT_H */
