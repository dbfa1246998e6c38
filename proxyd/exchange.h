/*
 * exchange.h - one request and its response, as forward.c carries them
 * (private to forward.c and modproxy.c, which share the machinery and
 * differ in where the request goes: struct exchange_ops).
 */
#ifndef PROXYD_EXCHANGE_H
#define PROXYD_EXCHANGE_H

#include "admit.h"
#include "proxyd.h"

/* Where a message body is in its framing. */
struct body {
	enum http_body_kind	 kind;
	uint64_t		 left;		/* HTTP_BODY_LENGTH */
	struct http_chunked	 chunked;	/* HTTP_BODY_CHUNKED */
	int			 done;
	uint64_t		 total;
};

enum resp_state {
	RESP_WAIT,	/* head not yet complete */
	RESP_BODY,	/* head sent to the client */
	RESP_DONE
};

struct exchange;

/*
 * What differs between the two kinds of exchange: an HTTP request for an
 * origin (forward.c: direct, or through a parent proxy, with failover) and
 * a GOPROXY request for a route's mirrors (modproxy.c: Go's fallback).
 */
struct exchange_ops {
	/* Open (or take from the pool) the upstream of the current attempt;
	 * ends in exchange_attach() or ops->failed(). */
	void	(*connect)(struct exchange *ex);
	/* The request head for the current upstream. */
	void	(*send_head)(struct exchange *ex, struct evbuffer *out);
	/* A final response head arrived: 0 to pass it to the client, 1 when
	 * the hook took over (fell back to another upstream). */
	int	(*response)(struct exchange *ex, const struct http_response *res);
	/* The attempt failed before any response reached the client. */
	void	(*failed)(struct exchange *ex, int status, const char *why);
};

struct exchange {
	const struct exchange_ops *ops;
	struct client		*c;
	struct upconn		*connecting;
	struct bufferevent	*up;
	const struct route	*route;
	int			 upi;		/* upstream in use, route's index */
	struct evbuffer		*head;		/* headers for the origin */
	char			*line_origin;	/* "GET /p HTTP/1.1\r\n" */
	char			 key[320];	/* pool key, per upstream kind */
	char			 host[256];	/* origin, lowercase */
	uint16_t		 port;
	char			 hostport[272];	/* Host header for the origin */
	char			 peer[56];	/* address connected to */
	char			*method;
	char			*target;	/* as the client sent it, for the log */
	int			 client_minor;
	int			 head_request;
	int			 client_keep_alive;	/* client asked for it */
	int			 reused;	/* up came from the pool */
	int			 retried;
	int			 up_paused;	/* up reads off: client output full */

	struct body		 req;
	struct body		 resp;
	enum resp_state		 resp_state;
	int			 resp_keep_alive;	/* origin allows reuse */
	int			 resp_started;	/* client got the final head */
	int			 status;
	uint64_t		 bytes_in;	/* from the client */
	uint64_t		 bytes_out;	/* to the client */
	int64_t			 start;
	struct admission	 adm;		/* the route's limits */
	struct event		*shape_timer;	/* bandwidth: pump again */

	/* GOPROXY requests (modproxy.c). */
	char			*modpath;	/* protocol path, escaped */
	char			 modlog[1400];	/* module=... version=... kind=... */
	char			 tried[400];	/* mirrors tried, with outcomes */
	int64_t			 attempt_start;
};

/*
 * Set up an exchange for req (head_len bytes, not yet drained): checks
 * the framing, copies what outlives the client's buffer, builds the
 * end-to-end headers (without Host).  Answers the client and returns NULL
 * on refusal.
 */
struct exchange	*exchange_new(struct client *c, const struct http_request *req,
		    const struct exchange_ops *ops);

/* Take over the client (drain the head) and go: limits, then connect. */
void		 exchange_run(struct exchange *ex, size_t head_len);

/* Attach a connected upstream: send the head, start the request body. */
void		 exchange_attach(struct exchange *ex, struct bufferevent *up);

/* Answer the client (or cut it once the response began), log, free. */
void		 exchange_fail(struct exchange *ex, int status, const char *why);

/*
 * The upstream_cb of every connect an ops->connect starts: records the
 * upstream's health, then exchange_attach() or ops->failed().
 */
void		 exchange_connected(struct bufferevent *bev,
		    const struct http_error *err, const char *peer, void *arg);

/* Append the end-to-end headers and the empty line (after Host). */
void		 exchange_add_head(struct exchange *ex, struct evbuffer *out);

/* Release the current upstream (not reusable: a response was abandoned). */
void		 exchange_drop_upstream(struct exchange *ex);

#endif /* PROXYD_EXCHANGE_H */
