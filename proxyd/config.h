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
#include <sys/socket.h>

#include "match.h"

#define CONFIG_MAX_LISTEN	16

struct listen_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[64];	/* as written, for logs */
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
	char			*error_log;	/* path, NULL = stderr */
	char			*user;		/* drop privileges to, or NULL */
	char			*resolv_conf;	/* default /etc/resolv.conf */
	char			*hosts_file;	/* default /etc/hosts */
};

/*
 * Built-in defaults: listen 127.0.0.1:3128, allow 127.0.0.0/8 and ::1,
 * connect_ports 443, workers = online CPUs.  NULL only on ENOMEM.
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

/* Parse "10s", "500ms", "2m", "1h" or a bare number of seconds.  0/-1. */
int		 config_parse_duration(const char *s, int *ms);

/* Parse "512", "8k", "1m", "1g" (powers of 1024).  0/-1. */
int		 config_parse_size(const char *s, size_t *bytes);

#endif /* PROXYD_CONFIG_H */
