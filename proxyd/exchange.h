/*
 * exchange.h - one HTTP request and its response, relayed between the
 * client and an upstream: the engine that forward.c (origins, parent
 * proxies) and modproxy.c (GOPROXY mirrors) drive through struct
 * exchange_ops.  exchange.c owns the relay: the request head, both
 * bodies with their framing, response parsing, bandwidth shaping,
 * backpressure, the pool hand-back and the end of the exchange.
 *
 * Lifetime rule: every function that can end an exchange returns 1 while
 * it is still alive and 0 once it is gone (freed); callers check it and
 * never touch the exchange after a 0.  An exchange ends in
 * exchange_fail() (answered or cut), when done, or through the client's
 * teardown (client_close: logged with its reason, status 503 unless one
 * was set); exchange_free() is the one free.
 */
#ifndef PROXYD_EXCHANGE_H
#define PROXYD_EXCHANGE_H

#include "request.h"
#include "proxyd.h"

struct headbuf;

/* Where a message body is in its framing. */
struct body {
	enum http_body_kind	 kind;
	uint64_t		 left;		/* HTTP_BODY_LENGTH */
	struct http_chunked	 chunked;	/* HTTP_BODY_CHUNKED */
	int			 dechunk;	/* pass the data only (1.0 client) */
	int			 done;
	uint64_t		 total;		/* framing included */
};

enum resp_state {
	RESP_WAIT,	/* head not yet complete */
	RESP_BODY,	/* head sent to the client */
	RESP_DONE
};

struct exchange;

/*
 * What differs between the kinds of exchange.  Functions returning int
 * return 1 if the exchange is still alive, 0 if they ended it.
 */
struct exchange_ops {
	/* Open (or take from the pool) the upstream of the current attempt;
	 * goes on in exchange_attach() or ops->failed(). */
	int	(*connect)(struct exchange *ex);
	/* The request head for the current upstream. */
	void	(*send_head)(struct exchange *ex, struct evbuffer *out);
	/* A final response head arrived: 1 to pass it to the client, 0
	 * when the hook ended the exchange, 2 when it took over (went on
	 * to another upstream). */
	int	(*response)(struct exchange *ex, const struct http_response *res);
	/* The attempt failed before any response reached the client. */
	int	(*failed)(struct exchange *ex, int status, const char *why);
	/* Free what the kind holds besides the exchange (may be NULL). */
	void	(*release)(struct exchange *ex);
	/* The request was addressed to proxyd (GOPROXY): its Authorization
	 * is proxyd's credentials, never sent on to a mirror. */
	int	 own_authorization;
	/* The body of proxyd's own error answer with status and why into
	 * buf[0..len), NUL-terminated, and its length; NULL (or 0): the
	 * one line "proxyd: why". */
	size_t	(*error_body)(struct exchange *ex, int status, const char *why,
		    char *buf, size_t len);
	/* Response body bytes were queued for the client: out[from..) (may
	 * be NULL; the module cache keeps a copy). */
	void	(*body)(struct exchange *ex, struct evbuffer *out, size_t from);
};

struct exchange {
	const struct exchange_ops *ops;
	struct request		 rq;
	struct client		*c;
	struct upconn		*connecting;
	struct bufferevent	*up;
	struct evbuffer		*head;		/* end-to-end headers */
	char			 key[320];	/* pool key, per upstream kind */
	int			 client_minor;
	int			 head_request;
	int			 client_keep_alive;	/* client asked for it */
	int			 reused;	/* up came from the pool */
	int			 retried;
	int			 up_paused;	/* up reads off: client output full */
	int			 up_eof;	/* upstream closed; input may remain */

	struct body		 req;
	struct body		 resp;
	enum resp_state		 resp_state;
	int			 resp_keep_alive;	/* origin allows reuse */
	int			 resp_started;	/* client got the final head */
	struct event		*shape_timer;	/* bandwidth: pump again */
};

/*
 * A new exchange of size bytes (a kind's structure that starts with
 * struct exchange) for req: checks the framing, copies what outlives the
 * client's buffer, builds the end-to-end headers (without Host).
 * Answers the client and returns NULL on refusal.
 */
struct exchange	*exchange_new(struct client *c, const struct http_request *req,
		    const struct exchange_ops *ops, size_t size);

/*
 * Take over the client (drain the head) and go: deny, limits, connect.
 * The route and upstream (rq.route, rq.upi) are set.
 */
void		 exchange_run(struct exchange *ex, size_t head_len);

/* Attach a connected upstream: send the head, start the request body. */
int		 exchange_attach(struct exchange *ex, struct bufferevent *up);

/*
 * The exchange failed: answer the client (or cut it once the response
 * began), log, free.  Returns 0.
 */
int		 exchange_fail(struct exchange *ex, int status, const char *why);

/* Free an exchange that never ran (no log, no answer). */
void		 exchange_free(struct exchange *ex);

/*
 * The upstream_cb of every connect an ops->connect starts: records the
 * upstream's health, then exchange_attach() or ops->failed().
 */
void		 exchange_connected(struct bufferevent *bev,
		    const struct http_error *err, const char *peer, void *arg);

/*
 * Append the end-to-end headers and the empty line (after Host) to a
 * head being gathered (see headbuf.h).
 */
void		 exchange_head_to(struct exchange *ex, struct headbuf *hb);

/*
 * May the request go to another upstream after this one failed?  Only an
 * idempotent method (RFC 9110 9.2.2) of which no body byte was sent and
 * no response byte received: nothing is ever sent twice otherwise.
 */
int		 exchange_resendable(const struct exchange *ex);

/* Release the current upstream (not reusable: a response was abandoned). */
void		 exchange_drop_upstream(struct exchange *ex);

#endif /* PROXYD_EXCHANGE_H */
