/*
 * config.c - load, validate and reference-count configuration snapshots.
 *
 * The rules file is INI, cut into sections and keys by inih.  Debian's
 * inih does not pass line numbers to the handler, remembers only the
 * first bad line, truncates lines at 200 bytes and knows no inline '#'
 * comments, so the file goes through our own line reader (read_line):
 * it counts lines, removes comments, rejects what it cannot pass on
 * whole, works out what inih will make of each line and reports what
 * inih would merely count.  inih calls key_cb() for a key line before it
 * asks for the next one, so st->lineno is always the key's line.
 *
 * What is accepted:
 *	[proxyd]		the daemon's keys (keys[])
 *	[route NAME]		a route (route_keys[]); NAME is letters,
 *				digits, '-', '_' and '.', unique in the file
 *	key = value		or "key: value"; each key at most once
 *	; or # comment		on a line of its own, or after whitespace
 *	  indented line		continues the list above it (listen, allow,
 *				connect_ports; hosts, modules, methods, ports,
 *				clients, upstream); an error for other keys
 *	key = $NAME		in a route, or ${NAME}: the environment
 *				variable's value; unset means empty, with a
 *				warning that is not an error
 * Keys a file leaves out keep their built-in defaults.  [proxyd] may
 * appear more than once; its keys still only once.
 *
 * Routes stay in file order; the built-in fallback route ("direct", or
 * "deny" with [proxyd] fallback = deny) is appended after them, so there
 * is always one.  Route timeouts a file leaves out are [proxyd]'s, which
 * may come later in the file, so they are filled in at the end.  A route
 * that earlier routes leave no traffic to is an error (route_shadow()).
 *
 * The reader relies on inih's default settings (multi-line values on,
 * as Debian builds it); nothing in proxyd changes inih's globals.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* Never define INI_HANDLER_LINENO: the library is built without it. */
#include <ini.h>

#include "addr.h"
#include "config.h"
#include "limit.h"
#include "route.h"

enum key_id {
	K_LISTEN, K_ALLOW, K_CONNECT_PORTS, K_WORKERS, K_MAX_CLIENTS,
	K_HEADER_TIMEOUT, K_KEEPALIVE_TIMEOUT, K_CONNECT_TIMEOUT,
	K_RESPONSE_TIMEOUT, K_IDLE_TIMEOUT, K_TUNNEL_IDLE_TIMEOUT,
	K_SHUTDOWN_TIMEOUT, K_MAX_REQUEST_LINE, K_MAX_HEADER_SIZE,
	K_MAX_HEADERS, K_MAX_BODY_SIZE, K_ACCESS_LOG, K_ERROR_LOG, K_USER,
	K_RESOLV_CONF, K_HOSTS_FILE, K_FALLBACK, K_CA_FILE,
	NKEYS
};

enum route_key_id {
	R_HOSTS, R_MODULES, R_REGEX, R_METHODS, R_PORTS, R_CLIENTS,
	R_UPSTREAM, R_CONNECT_TIMEOUT, R_RESPONSE_TIMEOUT, R_IDLE_TIMEOUT,
	R_TUNNEL_IDLE_TIMEOUT, R_RATE, R_BURST, R_CLIENT_RATE,
	R_CLIENT_BURST, R_BANDWIDTH, R_CLIENT_BANDWIDTH, R_MAX_CONNS,
	R_QUEUE, R_QUEUE_TIMEOUT, R_FAIL_THRESHOLD, R_FAIL_COOLDOWN, R_VIA,
	NROUTEKEYS
};

enum section {
	SEC_NONE,		/* before the first header */
	SEC_PROXYD,
	SEC_ROUTE,		/* the last of cfg->routes */
	SEC_OTHER		/* reported at its header; its keys are ignored */
};

/* Where an upstream list is, between items and separators. */
enum up_state {
	UP_START,		/* nothing yet */
	UP_ITEM,		/* after an item (good or bad) */
	UP_SEP			/* after a ',' or '|' */
};

enum line_kind {
	LINE_BLANK,		/* nothing left once comments are gone */
	LINE_SECTION,		/* "[name]", handled by the reader */
	LINE_KEY,		/* must reach key_cb, or it is a syntax error */
	LINE_CONT		/* indented: inih continues the previous key */
};

struct parse_state;
struct key;

typedef void	parse_fn(struct parse_state *, const struct key *,
		    const char *);

/* One row of the key table: how to parse a key and where it goes. */
struct key {
	const char	*name;
	parse_fn	*parse;
	size_t		 off;		/* field, from the section's base */
	size_t		 noff;		/* arrays: the field counting items */
	uintmax_t	 min, max;	/* accepted range, for numbers */
	int		 list;		/* may go on on indented lines */
	const char	*def;		/* built-in default, as config text */
	const char	*expect;	/* for "expected ..., got ..." */
};

struct parse_state {
	const char	*path;		/* as named in messages */
	FILE		*errs;		/* NULL: count errors, print nothing */
	FILE		*fp;
	struct config	*cfg;		/* being filled in */
	int		 nerrors;

	/* The line inih is working on. */
	char		*buf;		/* getline() buffer */
	size_t		 bufsize;
	int		 lineno;
	int		 read_errno;
	enum line_kind	 kind;
	int		 consumed;	/* key_cb() has seen it */

	/* What inih will make of the next line. */
	enum section	 section;
	const struct key *keys;		/* the section's key table */
	size_t		 nkeys;
	int		*kseen;		/* line each of them was set on, or 0 */
	void		*base;		/* what their offsets are from */
	int		 after_key;	/* indented lines continue a key */
	const struct key *prev;		/* that key, NULL if it is ignored */
	int		 cont;		/* value is a continuation line */

	int		 seen[NKEYS];	/* line each key was set on, or 0 */
	size_t		 listen_items;	/* listen items seen, good or bad */
	int		 fallback_deny;	/* [proxyd] fallback = deny */

	/* The route being read, the last of cfg->routes. */
	int		 rseen[NROUTEKEYS];
	int		 route_nerrors;	/* nerrors after its header */
	char		*list_text;	/* its hosts or modules list so far */
	enum up_state	 up_state;	/* its upstream list */
	int		 up_last_ok;	/* the last upstream item was added */
	char		 up_sep;	/* separator waiting for an upstream */
	int		 up_sep_line;

	/* All routes so far. */
	size_t		 routecap;	/* cfg->routes allocated */
	size_t		*names;		/* hash set of route index + 1 */
	size_t		 namecap;	/* a power of 2, or 0 */
	size_t		 nnames;
	size_t		 host_taker;	/* first route taking all host */
	size_t		 module_taker;	/* or module traffic: index + 1 */
};

/* The parsers of the key tables; each reports its own errors. */
static parse_fn	parse_listen, parse_cidrs, parse_port_list, parse_int,
		parse_count, parse_msec, parse_bytes, parse_string, parse_path,
		parse_access_log, parse_error_log, parse_fallback,
		parse_hosts, parse_modules, parse_regex, parse_methods,
		parse_upstream, parse_rate, parse_burst, parse_bandwidth;

#define OFF(field)	offsetof(struct config, field)
#define ROFF(field)	offsetof(struct route, field)
#define DURATION	"a duration like 10s, 500ms, 2m or 1h, from 1ms to 596h"
#define SIZE		"a size like 512, 8k, 1m or 1g"
#define CIDR		"an address or CIDR like 10.0.0.0/8 or ::1"
#define PORT		"a port or range like 443 or 1024-65535"
#define RATE		"a rate like 50/s, 3000/m or 10/h (a bare number is " \
			"per second), from 1 to 1000000000 per unit"
#define BANDWIDTH	"a size per second like 512k, 1m/s or 1g/s, at least 1"

/* [proxyd]: fields of struct config. */
static const struct key keys[NKEYS] = {
	/* name, parser, field, count field, min, max, list, default,
	   expected */
	[K_LISTEN] = { "listen", parse_listen, 0, 0, 0, 0, 1,
	    "127.0.0.1:3128",
	    "an address and port like 127.0.0.1:3128 or [::1]:3128" },
	[K_ALLOW] = { "allow", parse_cidrs, OFF(allow), OFF(nallow), 0, 0, 1,
	    "127.0.0.0/8, ::1", CIDR },
	[K_CONNECT_PORTS] = { "connect_ports", parse_port_list,
	    OFF(connect_ports), OFF(nconnect_ports), 0, 0, 1, "443", PORT },
	[K_WORKERS] = { "workers", parse_int, OFF(workers), 0, 1, 256, 0,
	    NULL,		/* online CPUs, see apply_defaults() */
	    "a number from 1 to 256" },
	[K_MAX_CLIENTS] = { "max_clients", parse_int, OFF(max_clients), 0,
	    1, 1000000, 0, "4096",
	    "a number from 1 to 1000000" },
	[K_HEADER_TIMEOUT] = { "header_timeout", parse_msec,
	    OFF(header_timeout), 0, 1, INT_MAX, 0, "10s", DURATION },
	[K_KEEPALIVE_TIMEOUT] = { "keepalive_timeout", parse_msec,
	    OFF(keepalive_timeout), 0, 1, INT_MAX, 0, "60s", DURATION },
	[K_CONNECT_TIMEOUT] = { "connect_timeout", parse_msec,
	    OFF(connect_timeout), 0, 1, INT_MAX, 0, "10s", DURATION },
	[K_RESPONSE_TIMEOUT] = { "response_timeout", parse_msec,
	    OFF(response_timeout), 0, 1, INT_MAX, 0, "60s", DURATION },
	[K_IDLE_TIMEOUT] = { "idle_timeout", parse_msec,
	    OFF(idle_timeout), 0, 1, INT_MAX, 0, "60s", DURATION },
	[K_TUNNEL_IDLE_TIMEOUT] = { "tunnel_idle_timeout", parse_msec,
	    OFF(tunnel_idle_timeout), 0, 1, INT_MAX, 0, "10m", DURATION },
	[K_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", parse_msec,
	    OFF(shutdown_timeout), 0, 1, INT_MAX, 0, "10s", DURATION },
	[K_MAX_REQUEST_LINE] = { "max_request_line", parse_bytes,
	    OFF(max_request_line), 0, 1, SIZE_MAX, 0, "8k",
	    SIZE ", at least 1" },
	[K_MAX_HEADER_SIZE] = { "max_header_size", parse_bytes,
	    OFF(max_header_size), 0, 1, SIZE_MAX, 0, "32k",
	    SIZE ", at least 1" },
	[K_MAX_HEADERS] = { "max_headers", parse_count, OFF(max_headers), 0,
	    1, 10000, 0, "100",
	    "a number from 1 to 10000" },
	[K_MAX_BODY_SIZE] = { "max_body_size", parse_bytes,
	    OFF(max_body_size), 0, 0, SIZE_MAX, 0, "0",
	    SIZE " (0 for unlimited)" },
	[K_ACCESS_LOG] = { "access_log", parse_access_log, OFF(access_log), 0,
	    0, 0, 0, "off",
	    "an absolute path, - for stdout, or off" },
	[K_ERROR_LOG] = { "error_log", parse_error_log, OFF(error_log), 0,
	    0, 0, 0, "stderr",
	    "an absolute path or stderr" },
	[K_USER] = { "user", parse_string, OFF(user), 0, 0, 0, 0,
	    NULL,		/* stay who we are */
	    "a user name" },
	[K_RESOLV_CONF] = { "resolv_conf", parse_path, OFF(resolv_conf), 0,
	    0, 0, 0, "/etc/resolv.conf",
	    "an absolute path" },
	[K_HOSTS_FILE] = { "hosts_file", parse_path, OFF(hosts_file), 0,
	    0, 0, 0, "/etc/hosts",
	    "an absolute path" },
	[K_FALLBACK] = { "fallback", parse_fallback, 0, 0, 0, 0, 0, "direct",
	    "direct or deny" },
	[K_CA_FILE] = { "ca_file", parse_path, OFF(ca_file), 0, 0, 0, 0,
	    NULL,		/* the system's trust store */
	    "an absolute path" },
};

/*
 * [route NAME]: fields of struct route.  Timeouts without a default are
 * [proxyd]'s (routes_finish()); limits without one are off.
 */
static const struct key route_keys[NROUTEKEYS] = {
	/* name, parser, field, count field, min, max, list, default,
	   expected */
	[R_HOSTS] = { "hosts", parse_hosts, ROFF(hosts), 0, 0, 0, 1, NULL,
	    "a NO_PROXY list" },
	[R_MODULES] = { "modules", parse_modules, ROFF(modules), 0, 0, 0, 1,
	    NULL, "a GONOPROXY list" },
	[R_REGEX] = { "regex", parse_regex, ROFF(regex), 0, 0, 0, 0, NULL,
	    "a PCRE2 pattern" },
	[R_METHODS] = { "methods", parse_methods, ROFF(methods),
	    ROFF(nmethods), 0, 0, 1, NULL, "a method like GET or CONNECT" },
	[R_PORTS] = { "ports", parse_port_list, ROFF(ports), ROFF(nports),
	    0, 0, 1, NULL, PORT },
	[R_CLIENTS] = { "clients", parse_cidrs, ROFF(clients),
	    ROFF(nclients), 0, 0, 1, NULL, CIDR },
	[R_UPSTREAM] = { "upstream", parse_upstream, ROFF(upstreams),
	    ROFF(nupstreams), 0, CONFIG_MAX_UPSTREAMS, 1, "direct",
	    "direct, deny, http HOST:PORT, socks5 HOST:PORT or mirror URL" },
	[R_CONNECT_TIMEOUT] = { "connect_timeout", parse_msec,
	    ROFF(connect_timeout), 0, 1, INT_MAX, 0, NULL, DURATION },
	[R_RESPONSE_TIMEOUT] = { "response_timeout", parse_msec,
	    ROFF(response_timeout), 0, 1, INT_MAX, 0, NULL, DURATION },
	[R_IDLE_TIMEOUT] = { "idle_timeout", parse_msec,
	    ROFF(idle_timeout), 0, 1, INT_MAX, 0, NULL, DURATION },
	[R_TUNNEL_IDLE_TIMEOUT] = { "tunnel_idle_timeout", parse_msec,
	    ROFF(tunnel_idle_timeout), 0, 1, INT_MAX, 0, NULL, DURATION },
	[R_RATE] = { "rate", parse_rate, ROFF(rate), 0, 1, 1000000000, 0,
	    NULL, RATE },
	[R_BURST] = { "burst", parse_burst, ROFF(burst), 0, 1, 1000000000, 0,
	    NULL,		/* the rate, rounded up: route_burst() */
	    "a number from 1 to 1000000000" },
	[R_CLIENT_RATE] = { "client_rate", parse_rate, ROFF(client_rate), 0,
	    1, 1000000000, 0, NULL, RATE },
	[R_CLIENT_BURST] = { "client_burst", parse_burst,
	    ROFF(client_burst), 0, 1, 1000000000, 0, NULL,
	    "a number from 1 to 1000000000" },
	[R_BANDWIDTH] = { "bandwidth", parse_bandwidth, ROFF(bandwidth), 0,
	    1, UINT64_MAX, 0, NULL, BANDWIDTH },
	[R_CLIENT_BANDWIDTH] = { "client_bandwidth", parse_bandwidth,
	    ROFF(client_bandwidth), 0, 1, UINT64_MAX, 0, NULL, BANDWIDTH },
	[R_MAX_CONNS] = { "max_conns", parse_int, ROFF(max_conns), 0,
	    1, 1000000, 0, NULL, "a number from 1 to 1000000" },
	[R_QUEUE] = { "queue", parse_int, ROFF(queue), 0, 0, 100000, 0, "64",
	    "a number from 0 to 100000" },
	[R_QUEUE_TIMEOUT] = { "queue_timeout", parse_msec,
	    ROFF(queue_timeout), 0, 1, INT_MAX, 0, "2s", DURATION },
	[R_FAIL_THRESHOLD] = { "fail_threshold", parse_int,
	    ROFF(fail_threshold), 0, 1, 1000, 0, "3",
	    "a number from 1 to 1000" },
	[R_FAIL_COOLDOWN] = { "fail_cooldown", parse_msec,
	    ROFF(fail_cooldown), 0, 1, INT_MAX, 0, "30s", DURATION },
	[R_VIA] = { "via", parse_upstream, ROFF(via), ROFF(nvia), 0,
	    CONFIG_MAX_UPSTREAMS, 1, NULL,
	    "http HOST:PORT or socks5 HOST:PORT" },
};

/* Route timeouts left unset take these [proxyd] values. */
static const struct {
	size_t	route, config;
} inherited[] = {
	{ ROFF(connect_timeout), OFF(connect_timeout) },
	{ ROFF(response_timeout), OFF(response_timeout) },
	{ ROFF(idle_timeout), OFF(idle_timeout) },
	{ ROFF(tunnel_idle_timeout), OFF(tunnel_idle_timeout) },
};

/* A number suffix and what it multiplies by; "" is the bare number. */
struct unit {
	const char	*suffix;
	uintmax_t	 scale;
};

static const struct unit duration_units[] = {
	{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 }, { NULL, 0 }
};

static const struct unit size_units[] = {
	{ "", 1 }, { "k", 1024 }, { "K", 1024 },
	{ "m", 1024 * 1024 }, { "M", 1024 * 1024 },
	{ "g", 1024 * 1024 * 1024 }, { "G", 1024 * 1024 * 1024 },
	{ NULL, 0 }
};

/* Sizes, with or without "/s": bandwidth is always per second. */
static const struct unit bandwidth_units[] = {
	{ "", 1 }, { "/s", 1 }, { "k", 1024 }, { "k/s", 1024 },
	{ "K", 1024 }, { "K/s", 1024 },
	{ "m", 1024 * 1024 }, { "m/s", 1024 * 1024 },
	{ "M", 1024 * 1024 }, { "M/s", 1024 * 1024 },
	{ "g", 1024 * 1024 * 1024 }, { "g/s", 1024 * 1024 * 1024 },
	{ "G", 1024 * 1024 * 1024 }, { "G/s", 1024 * 1024 * 1024 },
	{ NULL, 0 }
};

/* Requests per unit; here scale is the unit in seconds, a divisor. */
static const struct unit rate_units[] = {
	{ "", 1 }, { "/s", 1 }, { "/m", 60 }, { "/h", 60 * 60 }, { NULL, 0 }
};

static void	vreport(struct parse_state *, int, const char *, const char *,
		    va_list) __attribute__((format(printf, 4, 0)));
static void	errorf(struct parse_state *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	warnf(struct parse_state *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Print "path:line: " (or "path: " for line 0), prefix and the message. */
static void
vreport(struct parse_state *st, int line, const char *prefix,
    const char *fmt, va_list ap)
{
	if (st->errs == NULL)
		return;
	if (line > 0)
		fprintf(st->errs, "%s:%d: %s", st->path, line, prefix);
	else
		fprintf(st->errs, "%s: %s", st->path, prefix);
	vfprintf(st->errs, fmt, ap);
	fputc('\n', st->errs);
}

/*
 * Report one problem as "path:line: message" (or "path: message" for
 * line 0) and count it, so that config_load() can fail after the rest
 * of the file has been checked too.
 */
static void
errorf(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list	ap;

	st->nerrors++;
	va_start(ap, fmt);
	vreport(st, line, "", fmt, ap);
	va_end(ap);
}

/* Report "path:line: warning: message", which does not fail the load. */
static void
warnf(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreport(st, line, "warning: ", fmt, ap);
	va_end(ap);
}

static void
nomem(struct parse_state *st)
{
	errorf(st, st->lineno, "out of memory");
}

static void
bad_value(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	errorf(st, st->lineno, "%s: expected %s, got \"%.*s\"", k->name,
	    k->expect, (int)len, s);
}

static void *
field(struct parse_state *st, const struct key *k)
{
	return (char *)st->base + k->off;
}

/* The count of an array key's items. */
static size_t *
count_field(struct parse_state *st, const struct key *k)
{
	return (size_t *)(void *)((char *)st->base + k->noff);
}

/*
 * Read the decimal digits at *sp into *v and move *sp past them.
 * -1 if there are none or the number does not fit in a uintmax_t;
 * no sign or whitespace is skipped, unlike strtoumax().
 */
static int
scan_number(const char **sp, uintmax_t *v)
{
	const char	*s = *sp;
	uintmax_t	 n = 0, d;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (uintmax_t)(*s - '0');
		if (n > (UINTMAX_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*sp = s;
	*v = n;
	return 0;
}

/*
 * Parse a number followed by one of the suffixes in units, scaled, into
 * *v.  -1 unless all of s is used and the result is at most max.
 */
static int
parse_scaled(const char *s, const struct unit *units, uintmax_t max,
    uintmax_t *v)
{
	const struct unit	*u;
	uintmax_t		 n;

	if (scan_number(&s, &n) == -1)
		return -1;
	for (u = units; u->suffix != NULL; u++)
		if (strcmp(s, u->suffix) == 0)
			break;
	if (u->suffix == NULL || n > max / u->scale)
		return -1;
	*v = n * u->scale;
	return 0;
}

/* 0 milliseconds is accepted here; the keys ask for more. */
int
config_parse_duration(const char *s, int *ms)
{
	uintmax_t	v;

	if (parse_scaled(s, duration_units, INT_MAX, &v) == -1)
		return -1;
	*ms = (int)v;
	return 0;
}

int
config_parse_size(const char *s, size_t *bytes)
{
	uintmax_t	v;

	if (parse_scaled(s, size_units, SIZE_MAX, &v) == -1)
		return -1;
	*bytes = (size_t)v;
	return 0;
}

/* A plain number in k's range into *n, or -1 once the error is reported. */
static int
key_number(struct parse_state *st, const struct key *k, const char *v,
    uintmax_t *n)
{
	const char	*s = v;

	if (scan_number(&s, n) == -1 || *s != '\0' || *n < k->min ||
	    *n > k->max) {
		bad_value(st, k, v, strlen(v));
		return -1;
	}
	return 0;
}

static void
parse_int(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(int *)field(st, k) = (int)n;
}

static void
parse_count(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(size_t *)field(st, k) = (size_t)n;
}

static void
parse_msec(struct parse_state *st, const struct key *k, const char *v)
{
	int	ms;

	if (config_parse_duration(v, &ms) == -1 || (uintmax_t)ms < k->min) {
		bad_value(st, k, v, strlen(v));
		return;
	}
	*(int *)field(st, k) = ms;
}

static void
parse_bytes(struct parse_state *st, const struct key *k, const char *v)
{
	size_t	n;

	if (config_parse_size(v, &n) == -1 || n < k->min || n > k->max) {
		bad_value(st, k, v, strlen(v));
		return;
	}
	*(size_t *)field(st, k) = n;
}

/*
 * Set a string field to a copy of v, or to NULL when v is nullword, the
 * key's word for "none" if it has one.  A path must be absolute: the
 * daemon's working directory is no place to look for files, and this
 * also catches "error_log = off" meaning a file named "off".
 */
static void
set_string(struct parse_state *st, const struct key *k, const char *v,
    const char *nullword, int path)
{
	char	**fp = field(st, k);
	char	 *s = NULL;
	int	  none = nullword != NULL && strcmp(v, nullword) == 0;

	if (*v == '\0' || (path && !none && *v != '/')) {
		bad_value(st, k, v, strlen(v));
		return;
	}
	if (!none && (s = strdup(v)) == NULL) {
		nomem(st);
		return;
	}
	free(*fp);
	*fp = s;
}

static void
parse_string(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, NULL, 0);
}

static void
parse_path(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, NULL, 1);
}

static void
parse_access_log(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, "off", strcmp(v, "-") != 0);
}

static void
parse_error_log(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, "stderr", 1);
}

static void
parse_fallback(struct parse_state *st, const struct key *k, const char *v)
{
	if (strcmp(v, "direct") == 0)
		st->fallback_deny = 0;
	else if (strcmp(v, "deny") == 0)
		st->fallback_deny = 1;
	else
		bad_value(st, k, v, strlen(v));
}

/* "50/s", "3000/m", "10/h" or "50", as requests per second. */
static void
parse_rate(struct parse_state *st, const struct key *k, const char *v)
{
	const struct unit	*u;
	const char		*s = v;
	uintmax_t		 n;

	if (scan_number(&s, &n) == 0 && n >= k->min && n <= k->max)
		for (u = rate_units; u->suffix != NULL; u++)
			if (strcmp(s, u->suffix) == 0) {
				*(double *)field(st, k) =
				    (double)n / (double)u->scale;
				return;
			}
	bad_value(st, k, v, strlen(v));
}

static void
parse_burst(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(double *)field(st, k) = (double)n;
}

static void
parse_bandwidth(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (parse_scaled(v, bandwidth_units, k->max, &n) == -1 ||
	    n < k->min) {
		bad_value(st, k, v, strlen(v));
		return;
	}
	*(uint64_t *)field(st, k) = n;
}

typedef void	item_fn(struct parse_state *, const struct key *,
		    const char *, size_t);

/* Move *s past white space and return the length of the rest up to end,
 * without trailing white space. */
static size_t
trim(const char **s, const char *end)
{
	const char	*v = *s;
	size_t		 len;

	while (v < end && isspace((unsigned char)*v))
		v++;
	len = (size_t)(end - v);
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	*s = v;
	return len;
}

/*
 * Hand each comma-separated item of v, trimmed, to item().  Empty items
 * are skipped, so a line may end in a comma before a continuation line.
 * Returns how many items there were.
 */
static size_t
split_list(struct parse_state *st, const struct key *k, const char *v,
    item_fn *item)
{
	const char	*end;
	size_t		 len, n = 0;

	for (;;) {
		if ((end = strchr(v, ',')) == NULL)
			end = v + strlen(v);
		if ((len = trim(&v, end)) > 0) {
			item(st, k, v, len);
			n++;
		}
		if (*end == '\0')
			return n;
		v = end + 1;
	}
}

/*
 * Parse "a.b.c.d:port" or "[v6]:port" (numeric only, port 1..65535)
 * into *la.  -1 if s[0..len) is neither.  No names: a listener is bound
 * before anything could resolve them.
 */
static int
listen_parse(const char *s, size_t len, struct listen_addr *la)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&la->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&la->ss;
	struct addr_hostport	 hp;
	unsigned char		 ip[sizeof(struct in6_addr)];

	memset(la, 0, sizeof(*la));
	if (len >= sizeof(la->text) || addr_split(s, len, 0, &hp) == -1)
		return -1;
	memcpy(la->text, s, len);
	switch (addr_ip_literal(hp.host, hp.hostlen, ip)) {
	case AF_INET6:
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(hp.port);
		memcpy(&sin6->sin6_addr, ip, sizeof(sin6->sin6_addr));
		la->len = sizeof(*sin6);
		return 0;
	case AF_INET:
		sin->sin_family = AF_INET;
		sin->sin_port = htons(hp.port);
		memcpy(&sin->sin_addr, ip, sizeof(sin->sin_addr));
		la->len = sizeof(*sin);
		return 0;
	}
	return -1;
}

/*
 * Add one listen address.  The same address twice would not fail at
 * bind() time, since the workers share ports with SO_REUSEPORT, so it
 * is caught here.
 */
static void
listen_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct config		*c = st->cfg;
	struct listen_addr	 la;
	size_t			 i;

	st->listen_items++;
	if (listen_parse(s, len, &la) == -1) {
		bad_value(st, k, s, len);
		return;
	}
	if (c->nlisten == CONFIG_MAX_LISTEN) {
		errorf(st, st->lineno, "listen: more than %d addresses",
		    CONFIG_MAX_LISTEN);
		return;
	}
	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].len == la.len &&
		    memcmp(&c->listen[i].ss, &la.ss, la.len) == 0) {
			errorf(st, st->lineno, "listen: %s is listed twice",
			    la.text);
			return;
		}
	}
	c->listen[c->nlisten++] = la;
}

/* An address or CIDR, added to the key's array (allow, clients). */
static void
cidr_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct cidr	**cp = field(st, k), cidr, *nc;
	size_t		 *np = count_field(st, k);

	if (cidr_parse(s, len, &cidr) == -1) {
		bad_value(st, k, s, len);
		return;
	}
	if ((nc = reallocarray(*cp, *np + 1, sizeof(*nc))) == NULL) {
		nomem(st);
		return;
	}
	nc[(*np)++] = cidr;
	*cp = nc;
}

/* A port or range, added to the key's array (connect_ports, ports). */
static void
port_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct port_range	**rp = field(st, k), r, *nr;
	size_t			 *np = count_field(st, k);

	if (port_range_parse(s, len, &r) == -1) {
		bad_value(st, k, s, len);
		return;
	}
	if ((nr = reallocarray(*rp, *np + 1, sizeof(*nr))) == NULL) {
		nomem(st);
		return;
	}
	nr[(*np)++] = r;
	*rp = nr;
}

/* Is c allowed in an HTTP token (RFC 9110), such as a method? */
static int
is_tchar(unsigned char c)
{
	return isalnum(c) ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A method token, upper-cased, added to the key's array (methods). */
static void
method_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	char	***mp = field(st, k), **nm, *m;
	size_t	  *np = count_field(st, k), i;

	for (i = 0; i < len; i++) {
		if (!is_tchar((unsigned char)s[i])) {
			bad_value(st, k, s, len);
			return;
		}
	}
	if ((m = strndup(s, len)) == NULL) {
		nomem(st);
		return;
	}
	for (i = 0; i < len; i++)
		m[i] = (char)toupper((unsigned char)m[i]);
	if ((nm = reallocarray(*mp, *np + 1, sizeof(*nm))) == NULL) {
		free(m);
		nomem(st);
		return;
	}
	nm[(*np)++] = m;
	*mp = nm;
}

/*
 * Free old and return an empty array in its place: allocated, because
 * in a route NULL means "any" while an empty list matches nothing.
 * NULL (reported) on ENOMEM.
 */
static void *
empty_list(struct parse_state *st, void *old, size_t *n, size_t size)
{
	void	*p;

	free(old);
	*n = 0;
	if ((p = calloc(1, size)) == NULL)
		nomem(st);
	return p;
}

static void
strings_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

/*
 * The list parsers: a key's first line replaces the default list,
 * continuation lines add to it.
 */
static void
parse_listen(struct parse_state *st, const struct key *k, const char *v)
{
	if (!st->cont) {
		st->cfg->nlisten = 0;
		st->listen_items = 0;
	}
	split_list(st, k, v, listen_item);
}

static void
parse_cidrs(struct parse_state *st, const struct key *k, const char *v)
{
	struct cidr	**cp = field(st, k);

	if (!st->cont)
		*cp = empty_list(st, *cp, count_field(st, k), sizeof(**cp));
	split_list(st, k, v, cidr_item);
}

static void
parse_port_list(struct parse_state *st, const struct key *k, const char *v)
{
	struct port_range	**rp = field(st, k);

	if (!st->cont)
		*rp = empty_list(st, *rp, count_field(st, k), sizeof(**rp));
	split_list(st, k, v, port_item);
}

static void
parse_methods(struct parse_state *st, const struct key *k, const char *v)
{
	char	***mp = field(st, k);
	size_t	  *np = count_field(st, k);

	if (!st->cont) {
		strings_free(*mp, *np);
		*mp = empty_list(st, *mp, np, sizeof(**mp));
	}
	split_list(st, k, v, method_item);
}

/*
 * The text of a hosts or modules list with line v added: a key's lines
 * are joined with commas (both lists skip empty entries) and parsed
 * whole.  Malloc'd; NULL (reported) on ENOMEM.
 */
static char *
list_text(struct parse_state *st, const char *v)
{
	const char	*prev;
	char		*s;

	if (!st->cont) {
		free(st->list_text);
		st->list_text = NULL;
	}
	prev = st->list_text != NULL ? st->list_text : "";
	if (asprintf(&s, "%s%s%s", prev, *prev != '\0' ? "," : "", v) ==
	    -1) {
		nomem(st);
		return NULL;
	}
	return s;
}

/* The key's lines so far are text, which parsed; keep it. */
static void
list_text_keep(struct parse_state *st, char *text)
{
	free(st->list_text);
	st->list_text = text;
}

static void
hosts_free(struct host_list *hl)
{
	if (hl != NULL)
		host_list_free(hl);
	free(hl);
}

static void
modules_free(struct module_list *ml)
{
	if (ml != NULL)
		module_list_free(ml);
	free(ml);
}

/*
 * hosts and modules: each line is parsed together with the lines before
 * it, so a bad entry is reported on its own line and then left out.
 */
static void
parse_hosts(struct parse_state *st, const struct key *k, const char *v)
{
	struct host_list	**hp = field(st, k), *hl;
	char			 *text, err[256];

	if ((text = list_text(st, v)) == NULL)
		return;
	if ((hl = malloc(sizeof(*hl))) == NULL)
		nomem(st);
	else if (host_list_parse(text, hl, err, sizeof(err)) == -1)
		errorf(st, st->lineno, "%s: %s", k->name, err);
	else {
		hosts_free(*hp);
		*hp = hl;
		list_text_keep(st, text);
		return;
	}
	hosts_free(hl);
	free(text);
}

static void
parse_modules(struct parse_state *st, const struct key *k, const char *v)
{
	struct module_list	**mp = field(st, k), *ml;
	char			 *text, err[256];

	if ((text = list_text(st, v)) == NULL)
		return;
	if ((ml = malloc(sizeof(*ml))) == NULL)
		nomem(st);
	else if (module_list_parse(text, ml, err, sizeof(err)) == -1)
		errorf(st, st->lineno, "%s: %s", k->name, err);
	else {
		modules_free(*mp);
		*mp = ml;
		list_text_keep(st, text);
		return;
	}
	modules_free(ml);
	free(text);
}

/*
 * regex, and regex_src beside it.  regex_compile() says "at offset N:
 * what"; we say "regex: what at offset N", like the other messages.
 */
static void
parse_regex(struct parse_state *st, const struct key *k, const char *v)
{
	struct route	*r = st->base;
	char		 err[256];
	const char	*what;

	if (*v == '\0') {
		bad_value(st, k, v, 0);
		return;
	}
	if ((r->regex = regex_compile(v, err, sizeof(err))) != NULL) {
		if ((r->regex_src = strdup(v)) == NULL)
			nomem(st);
	} else if (strncmp(err, "at offset ", 10) == 0 &&
	    (what = strstr(err, ": ")) != NULL)
		errorf(st, st->lineno, "%s: %s %.*s", k->name, what + 2,
		    (int)(what - err), err);
	else
		errorf(st, st->lineno, "%s: %s", k->name, err);
}

/*
 * Upstreams.  An item is "KIND" or "KIND ARGUMENT"; messages never quote
 * credentials, and neither do labels.
 */
struct upstream_kind;

typedef int	upstream_fn(struct parse_state *, const struct key *,
		    const struct upstream_kind *, const char *,
		    struct upstream_conf *);

struct upstream_kind {
	const char		*name;
	enum upstream_type	 type;
	upstream_fn		*parse;		/* NULL: takes no argument */
	const char		*expect;
};

static upstream_fn	parse_proxy, parse_mirror;

static const struct upstream_kind upstream_kinds[] = {
	{ "direct", UPSTREAM_DIRECT, NULL, NULL },
	{ "deny", UPSTREAM_DENY, NULL, NULL },
	{ "http", UPSTREAM_HTTP, parse_proxy, "[user:pass@]HOST:PORT" },
	{ "socks5", UPSTREAM_SOCKS5, parse_proxy, "[user:pass@]HOST:PORT" },
	{ "mirror", UPSTREAM_MIRROR, parse_mirror,
	    "an http:// or https:// URL" },
	{ NULL, 0, NULL, NULL }
};

/*
 * Is s[0..len) a host name or IPv4 address?  Letters, digits, '.', '-'
 * and '_', not starting with '.' or '-'; all digits and dots must be an
 * IPv4 address.
 */
static int
host_name_ok(const char *s, size_t len)
{
	static const char	 digits[] = "0123456789.";
	size_t			 i;

	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '_')
			return 0;
	for (i = 0; i < len && strchr(digits, s[i]) != NULL; i++)
		continue;
	return i < len || addr_ip_literal(s, len, NULL) == AF_INET;
}

/*
 * Split s[0..len) as HOST:PORT, HOST a name, IPv4 address or [IPv6]; the
 * port may be left out when defport is not 0.  -1 if it is not that.
 */
static int
split_hostport(const char *s, size_t len, uint16_t defport,
    struct addr_hostport *hp)
{
	if (addr_split(s, len, defport, hp) == -1)
		return -1;
	return hp->bracketed || host_name_ok(hp->host, hp->hostlen) ? 0 : -1;
}

/* Decode the %XX escapes of s in place.  -1 if one is bad or a NUL. */
static int
pct_decode(char *s)
{
	char	*w = s;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		/* s[1] is NUL at the end: no value, so s[2] is not read. */
		if ((hi = addr_hex_value((unsigned char)s[1])) == -1 ||
		    (lo = addr_hex_value((unsigned char)s[2])) == -1)
			return -1;
		if ((*w++ = (char)(hi << 4 | lo)) == '\0')
			return -1;
		s += 2;
	}
	*w = '\0';
	return 0;
}

/*
 * "user:password" in s[0..len), percent-decoded as in a URL (so that
 * ',', '|', '@' and the like can be written), into u->user and u->pass.
 */
static int
parse_userinfo(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *s, size_t len,
    struct upstream_conf *u)
{
	const char	*colon = memchr(s, ':', len);

	if (colon == NULL || colon == s)
		goto bad;
	if ((u->user = strndup(s, (size_t)(colon - s))) == NULL ||
	    (u->pass = strndup(colon + 1, len - (size_t)(colon - s) - 1)) ==
	    NULL) {
		nomem(st);
		return -1;
	}
	if (pct_decode(u->user) == -1 || pct_decode(u->pass) == -1 ||
	    u->user[0] == '\0')
		goto bad;
	if (u->type == UPSTREAM_SOCKS5 &&
	    (strlen(u->user) > 255 || strlen(u->pass) > 255)) {
		errorf(st, st->lineno, "%s: socks5: user name and password "
		    "may have 255 bytes at most", k->name);
		return -1;
	}
	return 0;
bad:
	errorf(st, st->lineno, "%s: %s: expected user:password before \"@\"",
	    k->name, kind->name);
	return -1;
}

/* Set u->host and u->port from hp; -1 (reported) on ENOMEM. */
static int
set_hostport(struct parse_state *st, const struct addr_hostport *hp,
    struct upstream_conf *u)
{
	if ((u->host = strndup(hp->host, hp->hostlen)) == NULL) {
		nomem(st);
		return -1;
	}
	u->port = hp->port;
	return 0;
}

/* http and socks5: "[user:pass@]HOST:PORT"; the password may hold '@'. */
static int
parse_proxy(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    struct upstream_conf *u)
{
	const char		*at = strrchr(arg, '@'), *hps = at ? at + 1 : arg;
	struct addr_hostport	 hp;
	int			 n;

	if (at != NULL && parse_userinfo(st, k, kind, arg,
	    (size_t)(at - arg), u) == -1)
		return -1;
	if (split_hostport(hps, strlen(hps), 0, &hp) == -1) {
		errorf(st, st->lineno, "%s: %s: expected %s, got \"%s\"",
		    k->name, kind->name, kind->expect, hps);
		return -1;
	}
	if (set_hostport(st, &hp, u) == -1)
		return -1;
	n = snprintf(u->label, sizeof(u->label), "%s ", kind->name);
	addr_format(u->label + n, sizeof(u->label) - (size_t)n, u->host,
	    u->port, 0);
	return 0;
}

/*
 * mirror: an http:// or https:// base URL, optionally with user:pass@
 * (taken out into user and pass).  url is the URL without credentials
 * or trailing slashes; host and port are its server's, 80 or 443 unless
 * it names one.
 */
static int
parse_mirror(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    struct upstream_conf *u)
{
	static const struct {
		const char	*scheme;
		uint16_t	 port;
	} schemes[] = { { "http://", 80 }, { "https://", 443 } };
	const char	*auth, *hps, *path, *at;
	size_t		 i, n, pathlen;
	struct addr_hostport	 hp;

	for (i = 0; i < 2; i++)
		if (strncasecmp(arg, schemes[i].scheme,
		    strlen(schemes[i].scheme)) == 0)
			break;
	if (i == 2 || arg[strcspn(arg, "?# \t")] != '\0')
		goto bad;
	auth = arg + strlen(schemes[i].scheme);
	path = auth + strcspn(auth, "/");
	at = memrchr(auth, '@', (size_t)(path - auth));
	if (at != NULL && parse_userinfo(st, k, kind, auth,
	    (size_t)(at - auth), u) == -1)
		return -1;
	hps = at != NULL ? at + 1 : auth;
	if (split_hostport(hps, (size_t)(path - hps), schemes[i].port,
	    &hp) == -1)
		goto bad;
	for (pathlen = strlen(path); pathlen > 0 && path[pathlen - 1] == '/';
	    pathlen--)
		continue;
	n = strlen(schemes[i].scheme) + (size_t)(path - hps) + pathlen;
	if (n + strlen("mirror ") >= sizeof(u->label)) {
		errorf(st, st->lineno, "%s: mirror: URL longer than %zu "
		    "characters", k->name, sizeof(u->label) - 8);
		return -1;
	}
	if (asprintf(&u->url, "%s%.*s%.*s", schemes[i].scheme,
	    (int)(path - hps), hps, (int)pathlen, path) == -1) {
		u->url = NULL;
		nomem(st);
		return -1;
	}
	snprintf(u->label, sizeof(u->label), "mirror %s", u->url);
	return set_hostport(st, &hp, u);
bad:
	if (strchr(arg, '@') != NULL)
		errorf(st, st->lineno, "%s: mirror: expected %s", k->name,
		    kind->expect);
	else
		errorf(st, st->lineno, "%s: mirror: expected %s, got \"%s\"",
		    k->name, kind->expect, arg);
	return -1;
}

static void
upstream_conf_free(struct upstream_conf *u)
{
	free(u->host);
	free(u->user);
	if (u->pass != NULL)
		explicit_bzero(u->pass, strlen(u->pass));
	free(u->pass);
	free(u->url);
	free(u->health);
	memset(u, 0, sizeof(*u));
}

static void
upstreams_free(struct upstream_conf *us, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		upstream_conf_free(&us[i]);
	*n = 0;
}

/*
 * May an upstream of kind, with arg, follow the n in us?  "deny" goes
 * alone, and the array has room for k->max.
 */
static int
upstream_check(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    const struct upstream_conf *us, size_t n)
{
	if (k == &route_keys[R_VIA] && kind->type != UPSTREAM_HTTP &&
	    kind->type != UPSTREAM_SOCKS5)
		errorf(st, st->lineno, "%s: only http and socks5 parents can "
		    "lead to mirrors, not %s", k->name, kind->name);
	else if (kind->parse == NULL && *arg != '\0')
		errorf(st, st->lineno, "%s: %s takes no argument", k->name,
		    kind->name);
	else if (n > 0 && (kind->type == UPSTREAM_DENY ||
	    us[0].type == UPSTREAM_DENY))
		errorf(st, st->lineno, "%s: deny must be the only upstream",
		    k->name);
	else if (n == k->max)
		errorf(st, st->lineno, "%s: more than %ju upstreams", k->name,
		    k->max);
	else
		return 0;
	return -1;
}

/* Fill u, a zeroed upstream of kind, from arg. */
static int
upstream_fill(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    struct upstream_conf *u)
{
	u->type = kind->type;
	if (kind->parse == NULL)
		snprintf(u->label, sizeof(u->label), "%s", kind->name);
	else if (kind->parse(st, k, kind, arg, u) == -1)
		return -1;
	if ((u->health = calloc(1, sizeof(*u->health))) == NULL) {
		nomem(st);
		return -1;
	}
	return 0;
}

/* One upstream item, s[0..len), added to the key's array if it is good. */
static void
upstream_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct upstream_conf		*us = field(st, k);
	size_t				*np = count_field(st, k), wlen;
	const struct upstream_kind	*kind;
	char				*item, *arg;

	st->up_last_ok = 0;
	if ((item = strndup(s, len)) == NULL) {
		nomem(st);
		return;
	}
	wlen = strcspn(item, " \t");
	arg = item + wlen + strspn(item + wlen, " \t");
	item[wlen] = '\0';
	for (kind = upstream_kinds; kind->name != NULL; kind++)
		if (strcmp(item, kind->name) == 0)
			break;
	if (kind->name == NULL)
		bad_value(st, k, item, wlen);
	else if (upstream_check(st, k, kind, arg, us, *np) == 0) {
		if (upstream_fill(st, k, kind, arg, &us[*np]) == 0) {
			(*np)++;
			st->up_last_ok = 1;
		} else
			upstream_conf_free(&us[*np]);
	}
	free(item);
}

/* A ',' or '|' after an item: record it on the item (if it was good). */
static void
upstream_separator(struct parse_state *st, const struct key *k, char sep)
{
	struct upstream_conf	*us = field(st, k);
	size_t			 n = *count_field(st, k);

	if (st->up_state != UP_ITEM) {
		errorf(st, st->lineno, "%s: expected an upstream before "
		    "\"%c\"", k->name, sep);
		return;
	}
	if (st->up_last_ok)
		us[n - 1].fallback = sep;
	st->up_state = UP_SEP;
	st->up_sep = sep;
	st->up_sep_line = st->lineno;
}

/*
 * upstream: items separated by ',' or '|', each separator recorded on
 * the item before it.  A line may end with a separator, or the next one
 * start with it; a line break alone separates nothing.
 */
static void
parse_upstream(struct parse_state *st, const struct key *k, const char *v)
{
	const char	*end;
	size_t		 len;

	if (!st->cont) {
		upstreams_free(field(st, k), count_field(st, k));
		st->up_state = UP_START;
	}
	for (;;) {
		end = v + strcspn(v, ",|");
		if ((len = trim(&v, end)) > 0) {
			if (st->up_state == UP_ITEM)
				errorf(st, st->lineno, "%s: expected \",\" or "
				    "\"|\" at the end of the previous line",
				    k->name);
			upstream_item(st, k, v, len);
			st->up_state = UP_ITEM;
		}
		if (*end == '\0')
			return;
		upstream_separator(st, k, *end);
		v = end + 1;
	}
}

static const struct key *
key_find(const struct key *table, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

#define ENV_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"abcdefghijklmnopqrstuvwxyz0123456789_"

/*
 * A route value that is exactly $NAME or ${NAME} is the environment
 * variable's value; an unset one is empty, with a warning, so that
 * "hosts = $NO_PROXY" is an empty list where NO_PROXY is unset.  Any
 * other value is itself.
 */
static const char *
env_value(struct parse_state *st, const char *v)
{
	const char	*name = v + 1, *val;
	char		 buf[INI_MAX_LINE];
	size_t		 len;
	int		 braces;

	if (v[0] != '$')
		return v;
	braces = *name == '{';
	name += braces;
	len = strspn(name, ENV_NAME_CHARS);
	if (len == 0 || len >= sizeof(buf) ||
	    isdigit((unsigned char)*name) ||
	    strcmp(name + len, braces ? "}" : "") != 0)
		return v;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if ((val = getenv(buf)) == NULL) {
		warnf(st, st->lineno, "$%s is not set", buf);
		return "";
	}
	return val;
}

/* Hand a key's value, or a continuation line of it, to its parser. */
static void
run_parser(struct parse_state *st, const struct key *k, const char *value)
{
	if (st->section == SEC_ROUTE)
		value = env_value(st, value);
	k->parse(st, k, value);
}

/*
 * A "key = value" line.  Whatever happens, inih now has a key that
 * indented lines continue; st->prev says whether we care about them.
 */
static void
set_key(struct parse_state *st, const char *name, const char *value)
{
	const struct key	*k;
	int			 first;

	st->after_key = 1;
	st->prev = NULL;
	if (st->section == SEC_NONE) {
		errorf(st, st->lineno, "key \"%s\" is outside any section; "
		    "put it under [proxyd]", name);
		return;
	}
	if (st->section == SEC_OTHER)
		return;
	if ((k = key_find(st->keys, st->nkeys, name)) == NULL) {
		if (st->section == SEC_ROUTE)
			errorf(st, st->lineno, "unknown key \"%s\" in "
			    "[route %s]", name,
			    ((struct route *)st->base)->name);
		else
			errorf(st, st->lineno, "unknown key \"%s\"", name);
		return;
	}
	if ((first = st->kseen[k - st->keys]) != 0) {
		errorf(st, st->lineno, "duplicate key \"%s\" (first set at "
		    "line %d)", name, first);
		return;
	}
	st->kseen[k - st->keys] = st->lineno;
	st->prev = k;
	st->cont = 0;
	run_parser(st, k, value);
}

/*
 * An indented line, which inih hands over as more of the previous key.
 * Only lists go on; an indented key or header is almost certainly
 * indentation by mistake, so say that rather than "bad value".
 */
static void
continue_key(struct parse_state *st, const char *value)
{
	const struct key	*k = st->prev;

	if (k == NULL)
		return;
	if (strchr(value, '=') != NULL || value[0] == '[') {
		errorf(st, st->lineno, "indented line continues \"%s\"; "
		    "remove the indentation if it starts a new key or section",
		    k->name);
		return;
	}
	if (!k->list) {
		errorf(st, st->lineno, "indented line continues \"%s\", "
		    "which takes a single value", k->name);
		return;
	}
	st->cont = 1;
	run_parser(st, k, value);
}

/*
 * inih's handler.  It always returns 1: we report errors ourselves, and
 * a 0 would only make inih remember the line of the first one.
 */
static int
key_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state	*st = user;

	(void)section;		/* the reader tracks sections */
	st->consumed = 1;
	if (st->kind == LINE_CONT)
		continue_key(st, value);
	else
		set_key(st, name, value);
	return 1;
}

/*
 * Routes.
 */

/* Send the keys that follow to section sec, whose fields are at base. */
static void
enter_section(struct parse_state *st, enum section sec, void *base)
{
	st->section = sec;
	st->base = base;
	st->keys = NULL;
	st->nkeys = 0;
	st->kseen = NULL;
	if (sec == SEC_PROXYD) {
		st->keys = keys;
		st->nkeys = NKEYS;
		st->kseen = st->seen;
	} else if (sec == SEC_ROUTE) {
		st->keys = route_keys;
		st->nkeys = NROUTEKEYS;
		st->kseen = st->rseen;
		memset(st->rseen, 0, sizeof(st->rseen));
	}
}

/*
 * The route names seen so far are a hash set of route index + 1, so that
 * a duplicate is found without comparing every pair of 100000 routes.
 * Returns the index + 1 of the route named name[0..len), or 0.
 */
static size_t
route_find(const struct parse_state *st, const char *name, size_t len)
{
	const struct route	*r;
	size_t			 mask = st->namecap - 1, i;

	if (st->namecap == 0)
		return 0;
	for (i = addr_fnv1a(name, len) & mask; st->names[i] != 0;
	    i = (i + 1) & mask) {
		r = &st->cfg->routes[st->names[i] - 1];
		if (strncmp(r->name, name, len) == 0 && r->name[len] == '\0')
			return st->names[i];
	}
	return 0;
}

static void
name_insert(size_t *set, size_t cap, const struct route *routes, size_t id)
{
	const char	*name = routes[id - 1].name;
	size_t		 i;

	for (i = addr_fnv1a(name, strlen(name)) & (cap - 1); set[i] != 0;
	    i = (i + 1) & (cap - 1))
		continue;
	set[i] = id;
}

/* Add the last route to the set of names, kept at most half full. */
static void
route_remember(struct parse_state *st)
{
	const struct route	*routes = st->cfg->routes;
	size_t			*set, cap, i;

	if (2 * (st->nnames + 1) > st->namecap) {
		cap = st->namecap == 0 ? 64 : 2 * st->namecap;
		if ((set = calloc(cap, sizeof(*set))) == NULL) {
			nomem(st);
			return;
		}
		for (i = 0; i < st->namecap; i++)
			if (st->names[i] != 0)
				name_insert(set, cap, routes, st->names[i]);
		free(st->names);
		st->names = set;
		st->namecap = cap;
	}
	name_insert(st->names, st->namecap, routes, st->cfg->nroutes);
	st->nnames++;
}

/*
 * Append a route named name[0..len) to cfg->routes, with the defaults of
 * route_keys[], and send the keys that follow to it.  NULL (reported)
 * on ENOMEM.
 */
static struct route *
route_new(struct parse_state *st, const char *name, size_t len, int line)
{
	struct config	*c = st->cfg;
	struct route	*r;
	size_t		 cap, i;

	if (c->nroutes == st->routecap) {
		cap = st->routecap == 0 ? 8 : 2 * st->routecap;
		if ((r = reallocarray(c->routes, cap, sizeof(*r))) == NULL) {
			nomem(st);
			return NULL;
		}
		c->routes = r;
		st->routecap = cap;
	}
	r = &c->routes[c->nroutes];
	memset(r, 0, sizeof(*r));
	if ((r->name = strndup(name, len)) == NULL) {
		nomem(st);
		return NULL;
	}
	r->line = line;
	c->nroutes++;
	enter_section(st, SEC_ROUTE, r);
	st->cont = 0;
	for (i = 0; i < NROUTEKEYS; i++)
		if (route_keys[i].def != NULL)
			route_keys[i].parse(st, &route_keys[i],
			    route_keys[i].def);
	return r;
}

#define ROUTE_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789-_."

/*
 * "[route NAME]", name[0..len) being what follows "route".  A route with
 * a bad or duplicate name is still read, for the errors in its keys.
 */
static void
route_open(struct parse_state *st, const char *name, size_t len)
{
	size_t	first = 0;
	int	ok = 0;

	len = trim(&name, name + len);
	if (len == 0)
		errorf(st, st->lineno, "[route] needs a name, like [route go]");
	else if (strspn(name, ROUTE_NAME_CHARS) < len)
		errorf(st, st->lineno, "bad route name \"%.*s\": use letters, "
		    "digits, \"-\", \"_\" and \".\"", (int)len, name);
	else if ((first = route_find(st, name, len)) != 0)
		errorf(st, st->lineno, "duplicate route \"%.*s\" (first at "
		    "line %d)", (int)len, name,
		    st->cfg->routes[first - 1].line);
	else
		ok = 1;
	if (st->cfg->nroutes == CONFIG_MAX_ROUTES) {
		errorf(st, st->lineno, "more than %d routes",
		    CONFIG_MAX_ROUTES);
		return;
	}
	if (route_new(st, name, len, st->lineno) == NULL)
		return;
	if (ok)
		route_remember(st);
	st->route_nerrors = st->nerrors;
}

/*
 * Does r take all host traffic (modules 0) or all module traffic
 * (modules 1)?  Only with nothing but a "*" matcher, or none at all.
 */
static int
takes_all(const struct route *r, int modules)
{
	size_t	i;

	if (r->methods != NULL || r->ports != NULL || r->clients != NULL ||
	    r->regex != NULL)
		return 0;
	if (r->hosts == NULL && r->modules == NULL)
		return 1;
	if (!modules)
		return r->hosts != NULL && r->hosts->any;
	for (i = 0; r->modules != NULL && i < r->modules->n; i++)
		if (strcmp(r->modules->globs[i], "*") == 0)
			return 1;	/* matches every first path element */
	return 0;
}

/*
 * Could r match host or module traffic at all?  As route_lookup() does
 * it: module requests by modules, others by hosts and regex, and a route
 * with none of the three takes both.
 */
static int
can_match(const struct route *r, int modules)
{
	if (r->hosts == NULL && r->modules == NULL && r->regex == NULL)
		return 1;
	if (modules)
		return r->modules != NULL;
	return r->hosts != NULL || r->regex != NULL;
}

/*
 * A route whose every kind of traffic an earlier route takes whole can
 * never match, which is certainly a mistake.  A route that had errors is
 * neither checked nor remembered as taking anything.
 */
static void
route_shadow(struct parse_state *st, const struct route *r)
{
	const struct route	*rs = st->cfg->routes;
	size_t			 a, b, t;
	int			 host = can_match(r, 0), mod = can_match(r, 1);

	if (st->nerrors != st->route_nerrors)
		return;
	if ((host && st->host_taker == 0) || (mod && st->module_taker == 0)) {
		if (st->host_taker == 0 && takes_all(r, 0))
			st->host_taker = (size_t)(r - rs) + 1;
		if (st->module_taker == 0 && takes_all(r, 1))
			st->module_taker = (size_t)(r - rs) + 1;
		return;
	}
	a = host ? st->host_taker : st->module_taker;
	b = mod ? st->module_taker : a;
	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	if (a == b)
		errorf(st, r->line, "route \"%s\" can never match: route "
		    "\"%s\" (line %d) takes all its traffic", r->name,
		    rs[a - 1].name, rs[a - 1].line);
	else
		errorf(st, r->line, "route \"%s\" can never match: routes "
		    "\"%s\" (line %d) and \"%s\" (line %d) take all its "
		    "traffic", r->name, rs[a - 1].name, rs[a - 1].line,
		    rs[b - 1].name, rs[b - 1].line);
}

/*
 * A burst only means something with its rate, and defaults to the rate
 * rounded up (at least 1).
 */
static void
route_burst(struct parse_state *st, int rate_key, int burst_key)
{
	const struct key	*rk = &route_keys[rate_key];
	const struct key	*bk = &route_keys[burst_key];
	double			 rate = *(double *)field(st, rk);
	double			*burst = field(st, bk);

	if (st->rseen[burst_key] != 0 && st->rseen[rate_key] == 0)
		errorf(st, st->rseen[burst_key], "%s is set without %s",
		    bk->name, rk->name);
	if (rate > 0 && *burst == 0) {
		*burst = (double)(uintmax_t)rate;
		if (*burst < rate)
			(*burst)++;
		if (*burst < 1)
			*burst = 1;
	}
}

/* Checks of the route just read, once all its keys are known. */
static void
route_close(struct parse_state *st)
{
	struct route	*r;

	if (st->section != SEC_ROUTE)
		return;
	r = st->base;
	if (st->up_state == UP_SEP)
		errorf(st, st->up_sep_line, "upstream: expected an upstream "
		    "after \"%c\"", st->up_sep);
	else if (st->up_state == UP_START)
		errorf(st, st->rseen[R_UPSTREAM], "upstream: expected at "
		    "least one upstream");
	route_burst(st, R_RATE, R_BURST);
	route_burst(st, R_CLIENT_RATE, R_CLIENT_BURST);
	route_shadow(st, r);
	enter_section(st, SEC_NONE, NULL);
}

/*
 * After the file: the fallback route, last, and the timeouts of every
 * route that set none.
 */
static void
routes_finish(struct parse_state *st)
{
	const char	*name = st->fallback_deny ? "deny" : "direct";
	struct config	*c = st->cfg;
	size_t		 i, j;
	int		*v;

	if (route_new(st, name, strlen(name), 0) != NULL && st->fallback_deny)
		route_keys[R_UPSTREAM].parse(st, &route_keys[R_UPSTREAM],
		    "deny");
	enter_section(st, SEC_NONE, NULL);
	for (i = 0; i < c->nroutes; i++) {
		for (j = 0; j < sizeof(inherited) / sizeof(inherited[0]);
		    j++) {
			v = (int *)(void *)((char *)&c->routes[i] +
			    inherited[j].route);
			if (*v == 0)
				*v = *(int *)(void *)((char *)c +
				    inherited[j].config);
		}
	}
}

static void
route_free(struct route *r)
{
	free(r->name);
	hosts_free(r->hosts);
	modules_free(r->modules);
	regex_free(r->regex);
	free(r->regex_src);
	strings_free(r->methods, r->nmethods);
	free(r->methods);
	free(r->ports);
	free(r->clients);
	upstreams_free(r->upstreams, &r->nupstreams);
	upstreams_free(r->via, &r->nvia);
	limiter_free(r->limiter);
}

/*
 * A "[name]" line (p points at the '['): check it and make it the
 * current section.  Like inih, ignore a header without its ']'.
 */
static void
open_section(struct parse_state *st, const char *p)
{
	const char	*name = p + 1, *end;
	size_t		 len;

	if ((end = strchr(name, ']')) == NULL) {
		errorf(st, st->lineno, "syntax error: missing \"]\"");
		return;
	}
	if (end[1 + strspn(end + 1, " \t\r\v\f")] != '\0')
		errorf(st, st->lineno, "syntax error: text after \"]\"");
	while (name < end && isspace((unsigned char)*name))
		name++;
	len = (size_t)(end - name);
	while (len > 0 && isspace((unsigned char)name[len - 1]))
		len--;

	st->after_key = 0;
	st->prev = NULL;
	route_close(st);
	enter_section(st, SEC_OTHER, NULL);
	if (len == 6 && strncmp(name, "proxyd", len) == 0)
		enter_section(st, SEC_PROXYD, st->cfg);
	else if (len >= 5 && strncmp(name, "route", 5) == 0 &&
	    (len == 5 || isspace((unsigned char)name[5])))
		route_open(st, name + 5, len - 5);
	else
		errorf(st, st->lineno, "unknown section [%.*s]", (int)len,
		    name);
}

/*
 * Decide what inih will make of line, testing in inih's order: an
 * indented line after a key continues it even if it looks like a header.
 */
static void
classify_line(struct parse_state *st, const char *line)
{
	const char	*p = line;

	while (isspace((unsigned char)*p))
		p++;
	st->consumed = 0;
	if (*p == '\0')
		st->kind = LINE_BLANK;
	else if (p > line && st->after_key)
		st->kind = LINE_CONT;
	else if (*p == '[') {
		st->kind = LINE_SECTION;
		open_section(st, p);
	} else
		st->kind = LINE_KEY;
}

/* A key line inih did not pass on had no '=' or ':'. */
static void
check_consumed(struct parse_state *st)
{
	if (st->kind == LINE_KEY && !st->consumed)
		errorf(st, st->lineno, "syntax error: expected key = value");
	st->kind = LINE_BLANK;
}

/*
 * Cut line at the first ';' or '#' that starts it or follows whitespace
 * (inih's own rule, with '#' allowed inline too), then drop trailing
 * whitespace, which includes the newline.
 */
static void
strip_comment(char *line)
{
	char	*p;
	int	 after_space = 1;

	for (p = line; *p != '\0'; p++) {
		if (after_space && (*p == ';' || *p == '#'))
			break;
		after_space = isspace((unsigned char)*p);
	}
	while (p > line && isspace((unsigned char)p[-1]))
		p--;
	*p = '\0';
}

/*
 * inih's reader: put the next line of st->fp, comments removed, into
 * str[0..num).  A line inih cannot take whole (longer than its buffer,
 * or holding a NUL) is reported and passed on blank.  NULL at the end
 * of the file or on a read error, which st->read_errno keeps.
 */
static char *
read_line(char *str, int num, void *arg)
{
	struct parse_state	*st = arg;
	char			*line;
	ssize_t			 n;

	check_consumed(st);
	if ((n = getline(&st->buf, &st->bufsize, st->fp)) == -1) {
		st->read_errno = errno;
		return NULL;
	}
	st->lineno++;
	line = st->buf;
	if (st->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	if (strlen(st->buf) != (size_t)n) {
		errorf(st, st->lineno, "line contains a NUL byte");
		*line = '\0';
	}
	strip_comment(line);
	if (strlen(line) + 2 > (size_t)num) {
		errorf(st, st->lineno, "line is longer than %d characters",
		    num - 2);
		*line = '\0';
	}
	classify_line(st, line);
	snprintf(str, (size_t)num, "%s\n", line);
	return str;
}

/* Feed st->fp through inih, reporting every problem on the way. */
static void
parse_file(struct parse_state *st)
{
	int	r;

	r = ini_parse_stream(read_line, st, key_cb, st);
	check_consumed(st);
	route_close(st);
	if (ferror(st->fp))
		errorf(st, 0, "read error: %s", strerror(st->read_errno));
	else if (r == -2)
		errorf(st, 0, "out of memory");
	else if (r > 0 && st->nerrors == 0)
		/* inih found something our reader did not foresee. */
		errorf(st, r, "syntax error");
}

/* Checks across keys, once all of them are known. */
static void
validate(struct parse_state *st)
{
	const struct config	*c = st->cfg;
	int			 line;

	if (st->seen[K_LISTEN] != 0 && st->listen_items == 0)
		errorf(st, st->seen[K_LISTEN], "listen: expected at least "
		    "one address and port");
	if (c->max_request_line >= c->max_header_size) {
		line = st->seen[K_MAX_REQUEST_LINE];
		if (st->seen[K_MAX_HEADER_SIZE] > line)
			line = st->seen[K_MAX_HEADER_SIZE];
		errorf(st, line, "max_request_line (%zu) must be smaller "
		    "than max_header_size (%zu)", c->max_request_line,
		    c->max_header_size);
	}
}

static int
online_cpus(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if ((uintmax_t)n > keys[K_WORKERS].max)
		return (int)keys[K_WORKERS].max;
	return (int)n;
}

/*
 * Fill st->cfg with the built-in defaults by running each key's default
 * text through the parser a file would use, so the two cannot disagree.
 */
static int
apply_defaults(struct parse_state *st)
{
	size_t	i;

	st->base = st->cfg;
	for (i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL)
			keys[i].parse(st, &keys[i], keys[i].def);
	st->cfg->workers = online_cpus();
	return st->nerrors == 0 ? 0 : -1;
}

static void
config_free(struct config *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nroutes; i++)
		route_free(&c->routes[i]);
	free(c->routes);
	route_index_free(c->index);
	free(c->path);
	free(c->allow);
	free(c->connect_ports);
	free(c->access_log);
	free(c->error_log);
	free(c->user);
	free(c->resolv_conf);
	free(c->hosts_file);
	free(c->ca_file);
	free(c);
}

/* A new snapshot with the defaults, or NULL (reported) on ENOMEM. */
static struct config *
config_new(struct parse_state *st)
{
	if ((st->cfg = calloc(1, sizeof(*st->cfg))) == NULL) {
		nomem(st);
		return NULL;
	}
	st->cfg->refcnt = 1;
	if (apply_defaults(st) == -1) {
		config_free(st->cfg);
		st->cfg = NULL;
	}
	return st->cfg;
}

/* What parsing left in st, but not st->cfg. */
static void
state_free(struct parse_state *st)
{
	free(st->buf);
	free(st->names);
	free(st->list_text);
}

/*
 * What a valid snapshot needs at run time: each limited route's limiter
 * and the route lookup index.  Counts an error on ENOMEM.
 */
static void
config_runtime(struct parse_state *st)
{
	struct config	*c = st->cfg;
	size_t		 i;

	for (i = 0; i < c->nroutes; i++) {
		if (!limit_route_has_limits(&c->routes[i]))
			continue;
		if ((c->routes[i].limiter = limiter_new(&c->routes[i])) ==
		    NULL)
			nomem(st);
	}
	if ((c->index = route_index_build(c)) == NULL)
		nomem(st);
}

/*
 * The snapshot in st, or NULL (freed) if there were errors: it is all or
 * nothing.
 */
static struct config *
config_take(struct parse_state *st)
{
	struct config	*c = st->cfg;

	if (st->nerrors == 0)
		config_runtime(st);
	st->cfg = NULL;
	if (st->nerrors == 0)
		return c;
	config_free(c);
	return NULL;
}

struct config *
config_default(void)
{
	struct parse_state	 st;
	struct config		*c = NULL;

	memset(&st, 0, sizeof(st));
	st.path = "built-in defaults";
	if (config_new(&st) != NULL) {
		routes_finish(&st);
		c = config_take(&st);
	}
	state_free(&st);
	return c;
}

struct config *
config_load(const char *path, FILE *errs)
{
	struct parse_state	 st;
	struct config		*c = NULL;

	memset(&st, 0, sizeof(st));
	st.path = path;
	st.errs = errs;
	if ((st.fp = fopen(path, "r")) == NULL) {
		errorf(&st, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	if (config_new(&st) == NULL)
		goto done;
	if ((st.cfg->path = strdup(path)) == NULL) {
		nomem(&st);
		goto done;
	}
	parse_file(&st);
	routes_finish(&st);
	validate(&st);
	c = config_take(&st);
done:
	config_free(st.cfg);
	state_free(&st);
	if (st.fp != NULL)
		fclose(st.fp);
	return c;
}

struct config *
config_ref(struct config *c)
{
	if (c != NULL)
		__atomic_fetch_add(&c->refcnt, 1, __ATOMIC_RELAXED);
	return c;
}

/* The release/acquire pair makes every user's writes visible to free(). */
void
config_unref(struct config *c)
{
	if (c != NULL &&
	    __atomic_sub_fetch(&c->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}
