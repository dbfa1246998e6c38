/*
 * config.h - the configuration snapshot.
 *
 * A struct config is built once from a rules file (INI, parsed by inih)
 * or from built-in defaults, validated, and never modified afterwards.
 * It is reference-counted so that a reload can swap in a new snapshot
 * while connections still hold the old one; the last unref frees it.
 */
#ifndef PROXYD_CONFIG_H
#define PROXYD_CONFIG_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "match.h"

struct limiter;
struct route_metrics;
struct upstream_metrics;
struct route_index;
struct auth_users;
struct auth_fails;
struct cache_flights;
struct cache_evict;
struct cache_seen;

#define CONFIG_MAX_LISTEN	16
#define CONFIG_MAX_UPSTREAMS	16
#define CONFIG_MAX_ROUTES	100000

/*
 * Where a route sends traffic.  Kinds are implemented by upstream*.c;
 * "mirror" is the module-aware GOPROXY kind (parsed, not yet served).
 */
enum upstream_type {
	UPSTREAM_DIRECT,
	UPSTREAM_HTTP,		/* parent HTTP proxy: CONNECT / absolute-form */
	UPSTREAM_SOCKS5,	/* parent SOCKS5 proxy (RFC 1928/1929) */
	UPSTREAM_DENY,		/* 403 naming the route */
	UPSTREAM_MIRROR		/* GOPROXY mirror base URL */
};

/* Health of one upstream, shared by all workers (atomics). */
struct upstream_health {
	int		fails;		/* consecutive failures */
	int64_t		down_until;	/* ms, monotonic; 0 = up */
	int64_t		logged;		/* ms of the last "down" line */
};

struct upstream_conf {
	enum upstream_type	 type;
	char			*host;		/* http, socks5: parent host */
	uint16_t		 port;
	char			*user;		/* credentials, or NULL */
	char			*pass;
	char			*url;		/* mirror base URL */
	char			 fallback;	/* mirror: ',' or '|' before the
						   next one; 0 for the last */
	char			 label[288];	/* "http 10.1.2.3:8080", for logs */
	struct upstream_health	*health;	/* runtime, never NULL */
	struct upstream_metrics	*metrics;	/* runtime, metrics_bind() */
	const struct route	*route;		/* runtime: its route, whose
						   destination policy the
						   direct kind applies */
	int			 audit_deny;	/* runtime: a "deny" of an
						   auditing route, served as
						   direct (dest_bind()) */
};

struct host_list;
struct module_list;
struct regex;

/*
 * A deny_destinations or allow_destinations list (config_dest.c): the
 * address classes it names (addr.h's ADDR_* bits) and its CIDRs.
 */
struct dest_list {
	unsigned		 classes;
	struct cidr		*cidrs;
	size_t			 ncidrs;
};

/*
 * A named route: which traffic it takes (every given matcher must match;
 * a route without hosts/regex/modules takes everything its methods,
 * ports and clients allow) and where that traffic goes.
 */
struct route {
	char			*name;
	int			 line;		/* of its [route NAME] header */
	int			 builtin;	/* config_builtin.c's, not the
						   file's */

	struct host_list	*hosts;		/* NO_PROXY syntax, or NULL */
	struct module_list	*modules;	/* GONOPROXY syntax, or NULL */
	struct regex		*regex;		/* on the request target, or NULL */
	char			*regex_src;
	char			**methods;	/* upper case; NULL = any */
	size_t			 nmethods;
	struct port_range	*ports;		/* destination ports; NULL = any */
	size_t			 nports;
	struct cidr		*clients;	/* client CIDRs; NULL = any */
	size_t			 nclients;
	/* Users and @groups allowed (auth.c); NULL = any.  Not a
	 * matcher: another user gets 403 naming the route. */
	char			**users;
	size_t			 nusers;

	struct upstream_conf	 upstreams[CONFIG_MAX_UPSTREAMS];
	size_t			 nupstreams;
	/* Parents through which mirrors are reached (http/socks5 only),
	 * tried in order; none: mirrors are connected to directly. */
	struct upstream_conf	 via[CONFIG_MAX_UPSTREAMS];
	size_t			 nvia;

	/* Timeouts, ms; the [proxyd] values where the route sets none. */
	int			 connect_timeout;
	int			 response_timeout;
	int			 idle_timeout;
	int			 tunnel_idle_timeout;

	/* Limits; 0 = none.  Rates are per second. */
	double			 rate;		/* requests, whole route */
	double			 burst;
	double			 client_rate;	/* requests, per client */
	double			 client_burst;
	uint64_t		 bandwidth;	/* bytes/s, whole route */
	uint64_t		 client_bandwidth; /* bytes/s, per client */
	int			 max_conns;	/* concurrent upstream conns */
	int			 queue;		/* waiting requests at most */
	int			 queue_timeout;	/* ms a request may wait */

	/* Failover: skip an upstream after fail_threshold failures in a
	 * row, for fail_cooldown ms. */
	int			 fail_threshold;
	int			 fail_cooldown;

	struct limiter		*limiter;	/* runtime, NULL if no limits */
	struct route_metrics	*metrics;	/* runtime, metrics_bind() */

	/* Destination policy (destpolicy.c), with [proxyd]'s. */
	struct dest_list	 deny_dest;
	struct dest_list	 allow_dest;
	int			 report;	/* action = report: audit */
	/* unavailable = notfound: a module request whose mirrors all
	 * failed is answered 404, not 502/504 (modproxy.c). */
	int			 unavailable_notfound;
	const struct config	*cfg;		/* runtime: its snapshot */

	/* Module cache (config_cache.c): resolved at load, 0 or 1. */
	int			 cache;		/* keep what the mirrors serve */
	int			 offline;	/* from the cache only */
	int			 list_ttl;	/* ms: list, @latest */
	int			 negative_ttl;	/* ms: 404, 410 */
	int			 sumdb_latest_ttl; /* ms: latest, supported,
						   partial tiles */
};

struct listen_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[64];	/* as written, for logs */
	int			transparent;	/* redirected connections
						   (transparent.c) */
	int			tls;		/* "tls ADDR": clients speak TLS */
};

struct config {
	int			 refcnt;	/* atomic */
	char			*path;		/* NULL for built-in defaults */

	struct listen_addr	 listen[CONFIG_MAX_LISTEN];
	size_t			 nlisten;
	struct cidr		*allow;		/* client ACL; others get 403 */
	size_t			 nallow;
	struct port_range	*connect_ports;	/* CONNECT allowed to these */
	size_t			 nconnect_ports;

	int			 workers;	/* event-loop threads */
	int			 max_clients;	/* whole process */

	/* Timeouts, milliseconds. */
	int			 header_timeout;	/* client head read */
	int			 keepalive_timeout;	/* client idle between requests */
	int			 connect_timeout;	/* DNS + TCP connect, all addresses */
	int			 response_timeout;	/* upstream response head */
	int			 idle_timeout;		/* request/response body stall */
	int			 tunnel_idle_timeout;	/* CONNECT tunnel, both sides idle */
	int			 shutdown_timeout;	/* drain on SIGTERM */

	/* Size limits, bytes (max_body_size 0 = unlimited). */
	size_t			 max_request_line;	/* 414 */
	size_t			 max_header_size;	/* 431 */
	size_t			 max_headers;		/* 431 */
	size_t			 max_body_size;		/* 413 */

	char			*access_log;	/* path, "-" = stdout, NULL = off */
	char			*error_log;	/* path, NULL = stderr, "syslog" */
	int			 access_log_json; /* access_log_format = json */
	char			*user;		/* drop privileges to, or NULL */
	char			*resolv_conf;	/* default /etc/resolv.conf */
	char			*hosts_file;	/* default /etc/hosts */
	char			*ca_file;	/* TLS to mirrors; NULL: system */

	/* The admin listener (admin.c): off when admin_listen.len is 0. */
	struct listen_addr	 admin_listen;
	struct cidr		*admin_allow;	/* NULL: the allow list */
	size_t			 nadmin_allow;
	char			*pac_proxy;	/* HOST:PORT, NULL: a listen one */

	/* Destination policy for every route (destpolicy.c). */
	struct dest_list	 deny_dest;
	struct dest_list	 allow_dest;
	int			 policy_audit;	/* policy_mode = audit */
	struct cidr		*local_addrs;	/* runtime: this host's, for
						   proxy loops (getifaddrs) */
	size_t			 nlocal_addrs;
	/* Proxy authentication (auth.c): off without auth_file. */
	char			*auth_file;
	char			*auth_realm;
	int			 auth_cache_ttl;	/* ms */
	int			 auth_fail_limit;	/* 0: no limit */
	int			 auth_fail_window;	/* ms */
	struct auth_users	*users;		/* read at load and reload */
	struct auth_fails	*auth_fails;	/* runtime, per snapshot */
	/* The TLS listeners' certificate (config_tls.c, tls_server.c). */
	char			*tls_cert;	/* PEM, leaf then chain */
	char			*tls_key;
	char			*tls_client_ca;	/* NULL: no client certs */
	struct ssl_ctx_st	*tls_ctx;	/* runtime: NULL without tls_cert */

	char			*cache_dir;	/* module cache; NULL: none */
	size_t			 cache_max_size; /* bytes; 0: no cap */
	int			 offline;	/* serve modules from the cache only */
	struct cache_flights	*flights;	/* runtime: cache_flight.c */
	struct cache_evict	*evict;		/* runtime: cache_evict.c */
	struct cache_seen	*seen;		/* runtime: cache_seen.c */
	int64_t			 cache_trouble;	/* runtime, atomic: unix s of the
						   last disk-trouble line */

	/* Routes in file order; the last is the fallback ("direct" unless
	 * [proxyd] fallback = deny), always present. */
	struct route		*routes;
	size_t			 nroutes;
	struct route_index	*index;		/* route.c, built at load */
};

/*
 * Built-in defaults: listen 127.0.0.1:3128, allow 127.0.0.0/8 and ::1,
 * connect_ports 443, workers = online CPUs, and rules/default.conf's
 * routes (config_builtin.c; a file without [route] sections gets them
 * too).  NULL on ENOMEM, or when GONOPROXY or GOPRIVATE, which the
 * routes read, is not a list of globs (reported on stderr).
 */
struct config	*config_default(void);

/*
 * Load and validate path.  Every problem is reported to errs as
 * "file:line: what was expected" (all of them, not just the first);
 * returns NULL if there was any.
 */
struct config	*config_load(const char *path, FILE *errs);

struct config	*config_ref(struct config *c);
void		 config_unref(struct config *c);

/* Is listener i one clients use as a proxy (not a transparent one)? */
#define config_is_proxy_listener(c, i)	(!(c)->listen[(i)].transparent)

/* Parse "10s", "500ms", "2m", "1h" or a bare number of seconds.  0/-1. */
int		 config_parse_duration(const char *s, int *ms);

/* Parse "512", "8k", "1m", "1g" (powers of 1024).  0/-1. */
int		 config_parse_size(const char *s, size_t *bytes);

#endif /* PROXYD_CONFIG_H */
