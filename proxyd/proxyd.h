/*
 * proxyd.h - the types every part of the daemon shares: the worker (one
 * thread, one event loop) and the client connection it owns.
 *
 * Ownership: a worker owns its event_base, evdns_base, listeners, upstream
 * pool, log buffer and every client accepted on it.  A client owns its
 * bufferevent and at most one exchange (exchange.c) or tunnel (tunnel.c);
 * client_close() is the one teardown path for all of them.
 */
#ifndef PROXYD_PROXYD_H
#define PROXYD_PROXYD_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/bufferevent.h>

#include "config.h"
#include "http_parse.h"
#include "throttle.h"

#define PROXYD_VERSION	"0.1.0"

/*
 * Buffering bounds.  A connection never holds more than about twice
 * BUF_HIGH per direction: reads stop when the partner's output is full.
 */
#define BUF_HIGH	(256 * 1024)
#define BUF_LOW		(BUF_HIGH / 2)
#define READ_CHUNK	(128 * 1024)	/* one read: a 64 KiB body and its head */
#define TUNNEL_CHUNK	(512 * 1024)	/* one relay read; worker scratch */
#define WRITE_CHUNK	(256 * 1024)

struct logger;
struct pool;
struct exchange;
struct tunnel;
struct regex_md;
struct tls_client;
struct metrics;
struct auth_pool;
struct auth_cache;
struct cache_store;
struct cache_wake;
struct auth_job;
struct transparent;
struct fdpoll;
struct idle_set;

struct worker {
	int			 id;
	pthread_t		 thread;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct config		*cfg;		/* snapshot, referenced */
	struct logger		*log;		/* shared, thread-safe */
	struct pool		*pool;		/* idle upstream connections */
	struct metrics		*metrics;	/* NULL: admin listener off */

	int			 listen_fds[CONFIG_MAX_LISTEN];
	struct evconnlistener	*listeners[CONFIG_MAX_LISTEN];
	size_t			 nlisteners;
	struct event		*accept_retry;	/* after EMFILE */
	struct throttle		 accept_fail;	/* its log lines */
	struct event		*stop_ev;	/* reads stop_pipe[0] */
	int			 stop_pipe[2];	/* main thread writes a byte */
	struct event		*stop_timer;	/* drain deadline */
	int			 stopping;
	struct event		*swap_ev;	/* reads swap_pipe[0] */
	int			 swap_pipe[2];	/* reload: worker_swap.c */

	struct http_header	*hdrs;		/* parse scratch, max_headers */
	char			*scratch;	/* tunnel relay, TUNNEL_CHUNK */
	int			 splice_pipe[2]; /* splice.c, when state 1 */
	int			 splice_state;	/* 0 not made, 1 made, -1 failed */
	struct fdpoll		*tunnel_poll;	/* tunnel.c, lazily: relayed */
	struct idle_set		*tunnel_idle;	/* sockets, idle timeouts */
	struct regex_md		*md;		/* PCRE2 match data, reused */
	struct tls_client	*tls;		/* TLS to mirrors */
	size_t			 nhdrs;
	TAILQ_HEAD(, client)	 clients;
	TAILQ_HEAD(, client)	 closed;	/* freed by reap_ev */
	struct event		*reap_ev;	/* activated by client_close */
	int			 nclients;
	int			 max_clients;	/* this worker's share */
	struct auth_pool	*auth_pool;	/* auth_client.c, lazily */
	struct auth_cache	*auth_cache;
	struct cache_store	*cache_store;	/* cache_store.c, lazily */
	struct cache_wake	*cache_wake;	/* cache_fetch.c, lazily */
};

enum client_state {
	CLIENT_HEAD,		/* reading a request head */
	CLIENT_OWNED,		/* an exchange or a tunnel has it */
	CLIENT_CLOSING,		/* answer written, waiting to flush */
	CLIENT_CLOSED		/* torn down; freed from the event loop */
};

/*
 * What the owner of a client (an exchange, a tunnel) does with the
 * client's events: the client calls down through this table only, so
 * the kinds of request depend on client.c and not the other way round.
 */
struct client_ops {
	void	(*read)(void *owner);		/* NULL: bytes wait */
	void	(*write)(void *owner);		/* NULL: nothing to do */
	void	(*event)(void *owner, short what);
	void	(*close)(void *owner, const char *reason); /* teardown */
};

struct client {
	struct worker		*w;
	struct bufferevent	*bev;		/* NULL until the first byte */
	struct event		*wait_ev;	/* until then: that byte */
	int			 fd;
	enum client_state	 state;
	/* Listeners are TCP: 28 bytes hold every peer address, where a
	 * sockaddr_storage took 128 in every connection; its text is
	 * made when a line shows it (client_peer()), not kept. */
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 addr;
	unsigned		 nrequests;	/* (in addr's padding) */
	int64_t			 head_deadline;	/* ms; 0 = no byte yet */
	uint32_t		 scanned;	/* head bytes searched (a head
						   is far below 4 GiB) */
	/* Flags as bytes, together: every idle connection has them. */
	unsigned char		 saw_lf;
	unsigned char		 read_eof;	/* client half-closed */
	unsigned char		 tls;		/* came on a tls listener */
	unsigned char		 user_by_cert;	/* user is the client cert's CN
						   (tls_server.c) */
	int			 refuse_status;	/* ACL / overload, answered */
	int			 retry_after;	/* for a 429/503 answer */
	const char		*refuse_reason;	/* after reading the head */
	/* auth_client.c: the user proved, the header and users file
	 * (auth_users.id) that proved it, a check in progress. */
	char			*user;
	unsigned char		 auth_mac[16];
	uint64_t		 auth_id;
	struct auth_job		*auth_job;
	struct transparent	*tp;		/* transparent listener's */
	struct event		*tls_deadline;	/* handshake, header_timeout */
	const struct client_ops	*ops;		/* CLIENT_OWNED */
	void			*owner;
	TAILQ_ENTRY(client)	 link;
};

/* Milliseconds on the monotonic clock (cached by the event loop). */
int64_t	now_ms(struct event_base *base);

/* Fill a timeval with ms milliseconds. */
struct timeval *ms_to_tv(int ms, struct timeval *tv);

/*
 * Write up to WRITE_CHUNK per syscall instead of libevent's 16 KiB
 * default (reads: bev_own_reads()).
 */
void	bev_set_io_sizes(struct bufferevent *bev);

/*
 * Reads of a plain socket bufferevent done by proxyd (bev_read.c):
 * libevent 2.1 asks FIONREAD before every read and reads 4 KiB at most.
 * bev_own_reads(): from now on bev's read event reads up to READ_CHUNK
 * in one readv, with every callback, watermark and timeout as before;
 * no-op for other bufferevents and when already done.  Call it after
 * bufferevent_socket_connect() and bufferevent_setfd(), which give the
 * event back to libevent.
 * bev_read_into(): one such read from fd into bev's input (for a
 * bufferevent whose event has not fired yet): the bytes read, 0 at EOF,
 * -1 with errno (EAGAIN also when the input is at its high mark).
 */
void	bev_own_reads(struct bufferevent *bev);

/*
 * Bound bev's input at BUF_HIGH: reading stops there and resumes below
 * BUF_LOW (own reads), or libevent's read high watermark (others).
 */
void	bev_read_bound(struct bufferevent *bev);
ssize_t	bev_read_into(struct bufferevent *bev, int fd);

/*
 * Set bev's read and write timeouts in milliseconds, -1 for none.  For
 * durations fixed by the configuration only: they become libevent
 * common timeouts of bev's base (a queue per duration, O(1) to re-arm,
 * where the timer heap costs a log n update on every read and write);
 * a base holds at most 256 of them, past which plain timeouts are used.
 */
void	bev_timeouts(struct bufferevent *bev, int rd_ms, int wr_ms);

/* Is bev on a socket of its own (no TLS, no filter)? */
int	bev_is_plain(struct bufferevent *bev);

/*
 * Direct writes.  A bufferevent writes its output after a loop turn in
 * which epoll said the socket is writable: an epoll_ctl() to ask, a
 * wait, a write, an epoll_ctl() to stop asking.  A socket with room,
 * which is nearly always, can take the bytes at once.
 *
 * bev_write_direct(): when bev is a plain socket with nothing waiting
 * to be written, turn libevent's own writing off (no event is pending
 * then: the call costs nothing).  From then on, whoever appends to the
 * output calls bev_write_now(), which writes what the socket takes and
 * turns libevent's writing back on only for the rest, whose write
 * callbacks and errors then come as before.  Other bufferevents (TLS,
 * filters) are left as they are and bev_write_now() only makes sure
 * their writing is on.
 */
void	bev_write_direct(struct bufferevent *bev);
void	bev_write_now(struct bufferevent *bev);

/*
 * "Basic base64(user:pass)" into out; 0, or -1 when out is too small.
 */
int	basic_credentials(const char *user, const char *pass, char *out,
	    size_t len);

/* "addr:port" of a socket address, "[v6]:port" for IPv6. */
void	sockaddr_text(const struct sockaddr *sa, char *buf, size_t len);

#endif /* PROXYD_PROXYD_H */
