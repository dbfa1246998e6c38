/*
 * config_keys.c - the key tables of [proxyd] and [route NAME], and the
 * parsers of their values: numbers, durations, sizes, rates, bandwidth,
 * strings and paths, and the lists (listen, allow, connect_ports;
 * hosts, modules, methods, ports, clients) and the regex.
 *
 * A table row says where a key's value goes, what range it takes, its
 * built-in default (as config text, run through the same parser) and
 * what to say when a value is bad.  Each parser reports its own errors,
 * "KEY: expected WHAT, got "VALUE"", and leaves the field as it was on
 * a bad value.  List parsers replace the default list on a key's first
 * line and add to it on continuation lines (st->cont).
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "addr.h"
#include "config_parse.h"
#include "http_parse.h"

#define DURATION	"a duration like 10s, 500ms, 2m or 1h, from 1ms to 596h"
#define SIZE		"a size like 512, 8k, 1m or 1g"
#define CIDR		"an address or CIDR like 10.0.0.0/8 or ::1"
#define PORT		"a port or range like 443 or 1024-65535"
#define RATE		"a rate like 50/s, 3000/m or 10/h (a bare number is " \
			"per second), from 1 to 1000000000 per unit"
#define BANDWIDTH	"a size per second like 512k, 1m/s or 1g/s, at least 1"
#define DEST		"private, loopback, link-local, cgnat or a CIDR like " \
			"100.64.0.0/10"

/* The parsers of the key tables; each reports its own errors. */
static parse_fn	parse_listen, parse_cidrs, parse_port_list, parse_int,
		parse_count, parse_msec, parse_bytes, parse_string, parse_path,
		parse_access_log, parse_error_log, parse_fallback,
		parse_log_format,
		parse_hosts, parse_modules, parse_regex, parse_methods,
		parse_rate, parse_burst, parse_bandwidth, parse_admin_listen,
		parse_hostport, parse_users, parse_unavailable;

/* [proxyd]: fields of struct config. */
const struct key cfg_keys[NKEYS] = {
	/* name, parser, field, count field, min, max, list, default,
	   expected */
	[K_LISTEN] = { "listen", parse_listen, 0, 0, 0, 0, 1,
	    "127.0.0.1:3128",
	    "an address and port like 127.0.0.1:3128 or [::1]:3128, "
	    "or transparent 127.0.0.1:3129" },
	[K_ALLOW] = { "allow", parse_cidrs, OFF(allow), OFF(nallow), 0, 0, 1,
	    "127.0.0.0/8, ::1", CIDR },
	[K_CONNECT_PORTS] = { "connect_ports", parse_port_list,
	    OFF(connect_ports), OFF(nconnect_ports), 0, 0, 1, "443", PORT },
	[K_WORKERS] = { "workers", parse_int, OFF(workers), 0, 1, 256, 0,
	    NULL,		/* online CPUs: config.c */
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
	    1, HTTP_HEADERS_MAX, 0, "100",
	    "a number from 1 to 10000" },
	[K_MAX_BODY_SIZE] = { "max_body_size", parse_bytes,
	    OFF(max_body_size), 0, 0, SIZE_MAX, 0, "0",
	    SIZE " (0 for unlimited)" },
	[K_ACCESS_LOG] = { "access_log", parse_access_log, OFF(access_log), 0,
	    0, 0, 0, "off",
	    "an absolute path, - for stdout, or off" },
	[K_ERROR_LOG] = { "error_log", parse_error_log, OFF(error_log), 0,
	    0, 0, 0, "stderr",
	    "an absolute path, stderr or syslog" },
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
	[K_ACCESS_LOG_FORMAT] = { "access_log_format", parse_log_format,
	    OFF(access_log_json), 0, 0, 0, 0, "text", "text or json" },
	[K_ADMIN_LISTEN] = { "admin_listen", parse_admin_listen, 0, 0, 0, 0,
	    0, "off",
	    "an address and port like 127.0.0.1:9128, or off" },
	[K_ADMIN_ALLOW] = { "admin_allow", parse_cidrs, OFF(admin_allow),
	    OFF(nadmin_allow), 0, 0, 1,
	    NULL,		/* the allow list: admin.c */
	    CIDR },
	[K_PAC_PROXY] = { "pac_proxy", parse_hostport, OFF(pac_proxy), 0, 0,
	    0, 0,
	    NULL,		/* a listen address: pac.c */
	    "a host and port like proxy.example.com:3128" },
	[K_DENY_DESTINATIONS] = { "deny_destinations", cfg_parse_dest,
	    OFF(deny_dest), 0, 0, 0, 1, NULL, DEST },
	[K_ALLOW_DESTINATIONS] = { "allow_destinations", cfg_parse_dest,
	    OFF(allow_dest), 0, 0, 0, 1, NULL, DEST },
	[K_POLICY_MODE] = { "policy_mode", cfg_parse_policy_mode,
	    OFF(policy_audit), 0, 0, 0, 0, NULL, "enforce or audit" },
	[K_AUTH_FILE] = { "auth_file", parse_path, OFF(auth_file), 0, 0, 0,
	    0, NULL,		/* no authentication */
	    "an absolute path" },
	[K_AUTH_REALM] = { "auth_realm", parse_string, OFF(auth_realm), 0,
	    0, 0, 0, "proxyd", "a realm name" },
	[K_AUTH_CACHE_TTL] = { "auth_cache_ttl", parse_msec,
	    OFF(auth_cache_ttl), 0, 1, INT_MAX, 0, "5m", DURATION },
	[K_AUTH_FAIL_LIMIT] = { "auth_fail_limit", parse_int,
	    OFF(auth_fail_limit), 0, 0, 1000000, 0, "10",
	    "a number from 0 (no limit) to 1000000" },
	[K_AUTH_FAIL_WINDOW] = { "auth_fail_window", parse_msec,
	    OFF(auth_fail_window), 0, 1, INT_MAX, 0, "60s", DURATION },
	[K_TLS_CERT] = { "tls_cert", parse_path, OFF(tls_cert), 0, 0, 0, 0,
	    NULL, "an absolute path" },
	[K_TLS_KEY] = { "tls_key", parse_path, OFF(tls_key), 0, 0, 0, 0,
	    NULL, "an absolute path" },
	[K_TLS_CLIENT_CA] = { "tls_client_ca", parse_path, OFF(tls_client_ca),
	    0, 0, 0, 0, NULL, "an absolute path" },
	[K_CACHE_DIR] = { "cache_dir", parse_path, OFF(cache_dir), 0, 0, 0,
	    0, NULL,		/* no module cache */
	    "an absolute path" },
	[K_CACHE_MAX_SIZE] = { "cache_max_size", parse_bytes,
	    OFF(cache_max_size), 0, 0, SIZE_MAX, 0, "0",
	    SIZE " (0 for no cap)" },
	[K_OFFLINE] = { "offline", cfg_parse_onoff, OFF(offline), 0, 0, 0, 0,
	    "off", "on or off" },
};

/*
 * [route NAME]: fields of struct route.  Timeouts without a default are
 * [proxyd]'s (cfg_routes_finish()); limits without one are off.
 */
const struct key cfg_route_keys[NROUTEKEYS] = {
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
	[R_UPSTREAM] = { "upstream", cfg_parse_upstream, ROFF(upstreams),
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
	    NULL,		/* the rate, rounded up: config_check.c */
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
	[R_VIA] = { "via", cfg_parse_upstream, ROFF(via), ROFF(nvia), 0,
	    CONFIG_MAX_UPSTREAMS, 1, NULL,
	    "http HOST:PORT or socks5 HOST:PORT" },
	[R_DENY_DESTINATIONS] = { "deny_destinations", cfg_parse_dest,
	    ROFF(deny_dest), 0, 0, 0, 1, NULL, DEST },
	[R_ALLOW_DESTINATIONS] = { "allow_destinations", cfg_parse_dest,
	    ROFF(allow_dest), 0, 0, 0, 1, NULL, DEST },
	[R_ACTION] = { "action", cfg_parse_policy_mode, ROFF(report), 0, 0,
	    0, 0, NULL, "enforce or report" },
	[R_USERS] = { "users", parse_users, ROFF(users), ROFF(nusers), 0, 0,
	    1, NULL, "a user name or @group" },
	[R_CACHE] = { "cache", cfg_parse_onoff, ROFF(cache), 0, 0, 0, 0,
	    NULL,		/* on with cache_dir: config_cache.c */
	    "on or off" },
	[R_LIST_TTL] = { "list_ttl", parse_msec, ROFF(list_ttl), 0, 1,
	    INT_MAX, 0, "60s", DURATION },
	[R_NEGATIVE_TTL] = { "negative_ttl", parse_msec, ROFF(negative_ttl),
	    0, 1, INT_MAX, 0, "60s", DURATION },
	[R_SUMDB_LATEST_TTL] = { "sumdb_latest_ttl", parse_msec,
	    ROFF(sumdb_latest_ttl), 0, 1, INT_MAX, 0, "10m", DURATION },
	[R_OFFLINE] = { "offline", cfg_parse_onoff, ROFF(offline), 0, 0, 0, 0,
	    NULL,		/* [proxyd]'s: config_cache.c */
	    "on or off" },
	[R_UNAVAILABLE] = { "unavailable", parse_unavailable,
	    ROFF(unavailable_notfound), 0, 0, 0, 0, "error",
	    "error or notfound" },
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
		cfg_bad_value(st, k, v, strlen(v));
		return -1;
	}
	return 0;
}

static void
parse_int(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(int *)cfg_field(st, k) = (int)n;
}

static void
parse_count(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(size_t *)cfg_field(st, k) = (size_t)n;
}

static void
parse_msec(struct parse_state *st, const struct key *k, const char *v)
{
	int	ms;

	if (config_parse_duration(v, &ms) == -1 || (uintmax_t)ms < k->min) {
		cfg_bad_value(st, k, v, strlen(v));
		return;
	}
	*(int *)cfg_field(st, k) = ms;
}

static void
parse_bytes(struct parse_state *st, const struct key *k, const char *v)
{
	size_t	n;

	if (config_parse_size(v, &n) == -1 || n < k->min || n > k->max) {
		cfg_bad_value(st, k, v, strlen(v));
		return;
	}
	*(size_t *)cfg_field(st, k) = n;
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
	char	**fp = cfg_field(st, k);
	char	 *s = NULL;
	int	  none = nullword != NULL && strcmp(v, nullword) == 0;

	if (*v == '\0' || (path && !none && *v != '/')) {
		cfg_bad_value(st, k, v, strlen(v));
		return;
	}
	if (!none && (s = strdup(v)) == NULL) {
		cfg_nomem(st);
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
	/* "syslog" is kept as the word; log.c knows it. */
	set_string(st, k, v, "stderr", strcmp(v, "syslog") != 0);
}

/* access_log_format: text (the default) or json. */
static void
parse_log_format(struct parse_state *st, const struct key *k, const char *v)
{
	if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0)
		*(int *)cfg_field(st, k) = strcmp(v, "json") == 0;
	else
		cfg_bad_value(st, k, v, strlen(v));
}

/* unavailable = error (502/504, the default) or notfound (404). */
static void
parse_unavailable(struct parse_state *st, const struct key *k,
    const char *v)
{
	if (strcmp(v, "error") == 0 || strcmp(v, "notfound") == 0)
		*(int *)cfg_field(st, k) = strcmp(v, "notfound") == 0;
	else
		cfg_bad_value(st, k, v, strlen(v));
}

static void
parse_fallback(struct parse_state *st, const struct key *k, const char *v)
{
	if (strcmp(v, "direct") == 0)
		st->fallback_deny = 0;
	else if (strcmp(v, "deny") == 0)
		st->fallback_deny = 1;
	else
		cfg_bad_value(st, k, v, strlen(v));
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
				*(double *)cfg_field(st, k) =
				    (double)n / (double)u->scale;
				return;
			}
	cfg_bad_value(st, k, v, strlen(v));
}

static void
parse_burst(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(double *)cfg_field(st, k) = (double)n;
}

static void
parse_bandwidth(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (parse_scaled(v, bandwidth_units, k->max, &n) == -1 ||
	    n < k->min) {
		cfg_bad_value(st, k, v, strlen(v));
		return;
	}
	*(uint64_t *)cfg_field(st, k) = n;
}

typedef void	item_fn(struct parse_state *, const struct key *,
		    const char *, size_t);

/* Move *s past white space and return the length of the rest up to end,
 * without trailing white space. */
size_t
cfg_trim(const char **s, const char *end)
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
		if ((len = cfg_trim(&v, end)) > 0) {
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
	int			 transparent = 0, tls = 0;

	st->listen_items++;
	/* "transparent ADDR:PORT": a listener for redirected connections;
	 * "tls ADDR:PORT" (squid's https_port): clients speak TLS to it. */
	if (len > 12 && strncmp(s, "transparent ", 12) == 0) {
		for (s += 12, len -= 12; len > 0 && *s == ' '; s++, len--)
			continue;
		transparent = 1;
	} else if (len > 4 && strncmp(s, "tls", 3) == 0 &&
	    isspace((unsigned char)s[3])) {
		for (s += 4, len -= 4; len > 0 && isspace((unsigned char)*s);
		    s++, len--)
			continue;
		tls = 1;
	}
	if (listen_parse(s, len, &la) == -1) {
		cfg_bad_value(st, k, s, len);
		return;
	}
	if (c->nlisten == CONFIG_MAX_LISTEN) {
		cfg_error(st, st->lineno, "listen: more than %d addresses",
		    CONFIG_MAX_LISTEN);
		return;
	}
	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].len == la.len &&
		    memcmp(&c->listen[i].ss, &la.ss, la.len) == 0) {
			cfg_error(st, st->lineno, "listen: %s is listed twice",
			    la.text);
			return;
		}
	}
	la.transparent = transparent;
	la.tls = tls;
	c->listen[c->nlisten++] = la;
}

/* An address or CIDR, added to the key's array (allow, clients). */
static void
cidr_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct cidr	**cp = cfg_field(st, k), cidr, *nc;
	size_t		 *np = cfg_count_field(st, k);

	if (cidr_parse(s, len, &cidr) == -1) {
		cfg_bad_value(st, k, s, len);
		return;
	}
	if ((nc = reallocarray(*cp, *np + 1, sizeof(*nc))) == NULL) {
		cfg_nomem(st);
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
	struct port_range	**rp = cfg_field(st, k), r, *nr;
	size_t			 *np = cfg_count_field(st, k);

	if (port_range_parse(s, len, &r) == -1) {
		cfg_bad_value(st, k, s, len);
		return;
	}
	if ((nr = reallocarray(*rp, *np + 1, sizeof(*nr))) == NULL) {
		cfg_nomem(st);
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
	char	***mp = cfg_field(st, k), **nm, *m;
	size_t	  *np = cfg_count_field(st, k), i;

	for (i = 0; i < len; i++) {
		if (!is_tchar((unsigned char)s[i])) {
			cfg_bad_value(st, k, s, len);
			return;
		}
	}
	if ((m = strndup(s, len)) == NULL) {
		cfg_nomem(st);
		return;
	}
	for (i = 0; i < len; i++)
		m[i] = (char)toupper((unsigned char)m[i]);
	if ((nm = reallocarray(*mp, *np + 1, sizeof(*nm))) == NULL) {
		free(m);
		cfg_nomem(st);
		return;
	}
	nm[(*np)++] = m;
	*mp = nm;
}

/* A user name or @group, added to the key's array (users). */
static void
user_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	char	***mp = cfg_field(st, k), **nm, *m;
	size_t	  *np = cfg_count_field(st, k), i;

	for (i = 0; i < len; i++) {
		if (s[i] == ':' || isspace((unsigned char)s[i]) ||
		    (s[i] == '@' && i > 0) || (len == 1 && s[0] == '@')) {
			cfg_bad_value(st, k, s, len);
			return;
		}
	}
	if ((m = strndup(s, len)) == NULL) {
		cfg_nomem(st);
		return;
	}
	if ((nm = reallocarray(*mp, *np + 1, sizeof(*nm))) == NULL) {
		free(m);
		cfg_nomem(st);
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
		cfg_nomem(st);
	return p;
}

void
cfg_strings_free(char **v, size_t n)
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

/* One address for the admin listener, or "off" (len 0). */
static void
parse_admin_listen(struct parse_state *st, const struct key *k,
    const char *v)
{
	struct listen_addr	la;

	if (strcmp(v, "off") == 0)
		memset(&la, 0, sizeof(la));
	else if (listen_parse(v, strlen(v), &la) == -1) {
		cfg_bad_value(st, k, v, strlen(v));
		return;
	}
	st->cfg->admin_listen = la;
}

/*
 * HOST:PORT, port required (pac_proxy: what browsers are told; the name
 * goes into JavaScript text, so only name and address characters).
 */
static void
parse_hostport(struct parse_state *st, const struct key *k, const char *v)
{
	struct addr_hostport	hp;
	size_t			i;
	int			ok;

	ok = addr_split(v, strlen(v), 0, &hp) == 0;
	for (i = 0; ok && i < hp.hostlen; i++)
		ok = isalnum((unsigned char)hp.host[i]) ||
		    strchr(".-_:", hp.host[i]) != NULL;
	if (!ok) {
		cfg_bad_value(st, k, v, strlen(v));
		return;
	}
	set_string(st, k, v, NULL, 0);
}

static void
parse_cidrs(struct parse_state *st, const struct key *k, const char *v)
{
	struct cidr	**cp = cfg_field(st, k);

	if (!st->cont)
		*cp = empty_list(st, *cp, cfg_count_field(st, k), sizeof(**cp));
	split_list(st, k, v, cidr_item);
}

static void
parse_port_list(struct parse_state *st, const struct key *k, const char *v)
{
	struct port_range	**rp = cfg_field(st, k);

	if (!st->cont)
		*rp = empty_list(st, *rp, cfg_count_field(st, k), sizeof(**rp));
	split_list(st, k, v, port_item);
}

static void
parse_users(struct parse_state *st, const struct key *k, const char *v)
{
	char	***mp = cfg_field(st, k);
	size_t	  *np = cfg_count_field(st, k);

	if (!st->cont) {
		cfg_strings_free(*mp, *np);
		*mp = empty_list(st, *mp, np, sizeof(**mp));
	}
	split_list(st, k, v, user_item);
}

static void
parse_methods(struct parse_state *st, const struct key *k, const char *v)
{
	char	***mp = cfg_field(st, k);
	size_t	  *np = cfg_count_field(st, k);

	if (!st->cont) {
		cfg_strings_free(*mp, *np);
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
		cfg_nomem(st);
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

void
cfg_hosts_free(struct host_list *hl)
{
	if (hl != NULL)
		host_list_free(hl);
	free(hl);
}

void
cfg_modules_free(struct module_list *ml)
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
	struct host_list	**hp = cfg_field(st, k), *hl;
	char			 *text, err[256];

	if ((text = list_text(st, v)) == NULL)
		return;
	if ((hl = malloc(sizeof(*hl))) == NULL)
		cfg_nomem(st);
	else if (host_list_parse(text, hl, err, sizeof(err)) == -1)
		cfg_error(st, st->lineno, "%s: %s", k->name, err);
	else {
		cfg_hosts_free(*hp);
		*hp = hl;
		list_text_keep(st, text);
		return;
	}
	cfg_hosts_free(hl);
	free(text);
}

static void
parse_modules(struct parse_state *st, const struct key *k, const char *v)
{
	struct module_list	**mp = cfg_field(st, k), *ml;
	char			 *text, err[256];

	if ((text = list_text(st, v)) == NULL)
		return;
	if ((ml = malloc(sizeof(*ml))) == NULL)
		cfg_nomem(st);
	else if (module_list_parse(text, ml, err, sizeof(err)) == -1)
		cfg_error(st, st->lineno, "%s: %s", k->name, err);
	else {
		cfg_modules_free(*mp);
		*mp = ml;
		list_text_keep(st, text);
		return;
	}
	cfg_modules_free(ml);
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
		cfg_bad_value(st, k, v, 0);
		return;
	}
	if ((r->regex = regex_compile(v, err, sizeof(err))) != NULL) {
		if ((r->regex_src = strdup(v)) == NULL)
			cfg_nomem(st);
	} else if (strncmp(err, "at offset ", 10) == 0 &&
	    (what = strstr(err, ": ")) != NULL)
		cfg_error(st, st->lineno, "%s: %s %.*s", k->name, what + 2,
		    (int)(what - err), err);
	else
		cfg_error(st, st->lineno, "%s: %s", k->name, err);
}
