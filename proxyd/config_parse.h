/*
 * config_parse.h - what the config*.c files share while a rules file is
 * loaded: the parse state, the key tables and the reporting of errors.
 * Private to them; config.h is the interface for everyone else.
 *
 * Who does what:
 *	config.c		the snapshot: new (defaults), load, ref/unref,
 *				free
 *	config_read.c		lines and sections (through inih), keys to
 *				their parsers, $VAR values, "file:line:"
 *				messages
 *	config_keys.c		the key tables and the value parsers (numbers,
 *				durations, sizes, rates, strings, lists,
 *				matchers)
 *	config_upstream.c	the upstream and via grammar
 *	config_route.c		[route NAME] sections: names, defaults, the
 *				fallback route, inherited timeouts, free
 *	config_check.c		checks across keys and routes (shadowing)
 */
#ifndef PROXYD_CONFIG_PARSE_H
#define PROXYD_CONFIG_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum key_id {
	K_LISTEN, K_ALLOW, K_CONNECT_PORTS, K_WORKERS, K_MAX_CLIENTS,
	K_HEADER_TIMEOUT, K_KEEPALIVE_TIMEOUT, K_CONNECT_TIMEOUT,
	K_RESPONSE_TIMEOUT, K_IDLE_TIMEOUT, K_TUNNEL_IDLE_TIMEOUT,
	K_SHUTDOWN_TIMEOUT, K_MAX_REQUEST_LINE, K_MAX_HEADER_SIZE,
	K_MAX_HEADERS, K_MAX_BODY_SIZE, K_ACCESS_LOG, K_ERROR_LOG, K_USER,
	K_RESOLV_CONF, K_HOSTS_FILE, K_FALLBACK, K_CA_FILE,
	K_ACCESS_LOG_FORMAT,
	K_ADMIN_LISTEN, K_ADMIN_ALLOW, K_PAC_PROXY,
	K_DENY_DESTINATIONS, K_ALLOW_DESTINATIONS, K_POLICY_MODE,
	K_AUTH_FILE, K_AUTH_REALM, K_AUTH_CACHE_TTL, K_AUTH_FAIL_LIMIT,
	K_AUTH_FAIL_WINDOW,
	K_TLS_CERT, K_TLS_KEY, K_TLS_CLIENT_CA,
	K_CACHE_DIR, K_CACHE_MAX_SIZE, K_OFFLINE,
	NKEYS
};

enum route_key_id {
	R_HOSTS, R_MODULES, R_REGEX, R_METHODS, R_PORTS, R_CLIENTS,
	R_UPSTREAM, R_CONNECT_TIMEOUT, R_RESPONSE_TIMEOUT, R_IDLE_TIMEOUT,
	R_TUNNEL_IDLE_TIMEOUT, R_RATE, R_BURST, R_CLIENT_RATE,
	R_CLIENT_BURST, R_BANDWIDTH, R_CLIENT_BANDWIDTH, R_MAX_CONNS,
	R_QUEUE, R_QUEUE_TIMEOUT, R_FAIL_THRESHOLD, R_FAIL_COOLDOWN, R_VIA,
	R_DENY_DESTINATIONS, R_ALLOW_DESTINATIONS, R_ACTION,
	R_USERS, R_UNAVAILABLE,
	R_CACHE, R_LIST_TTL, R_NEGATIVE_TTL, R_SUMDB_LATEST_TTL, R_OFFLINE,
	NROUTEKEYS
};

enum section {
	SEC_NONE,		/* before the first header */
	SEC_PROXYD,
	SEC_ROUTE,		/* the last of cfg->routes */
	SEC_OTHER		/* reported at its header; keys ignored */
};

/* Where an upstream list is, between items and separators. */
enum up_state {
	UP_START,		/* nothing yet */
	UP_ITEM,		/* after an item (good or bad) */
	UP_SEP			/* after a ',' or '|' */
};

/* An "upstream" or "via" list being read, over its lines. */
struct up_list {
	enum up_state	 state;
	int		 last_ok;	/* the last item was added */
	char		 sep;		/* separator waiting for an item */
	int		 sep_line;
};

struct parse_state;
struct key;

typedef void	parse_fn(struct parse_state *, const struct key *,
		    const char *);

/* One row of a key table: how to parse a key and where it goes. */
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

	/* config_read.c: the line being read. */
	char		*buf;		/* getline() buffer */
	size_t		 bufsize;
	int		 lineno;
	int		 read_errno;
	int		 key_pending;	/* a key line went to inih, which
					   has not handed it back yet */

	/* config_read.c: the section, and its key that indented lines
	 * continue. */
	enum section	 section;
	const struct key *keys;		/* the section's key table */
	size_t		 nkeys;
	int		*kseen;		/* line each of them was set on, or 0 */
	void		*base;		/* what their offsets are from */
	int		 after_key;	/* indented lines continue a key */
	const struct key *prev;		/* that key, NULL if it is ignored */
	int		 cont;		/* value is a continuation line */

	/* config_keys.c, for [proxyd]. */
	int		 seen[NKEYS];	/* line each key was set on, or 0 */
	size_t		 listen_items;	/* listen items seen, good or bad */
	int		 fallback_deny;	/* [proxyd] fallback = deny */

	/* The route being read, the last of cfg->routes. */
	int		 rseen[NROUTEKEYS];
	int		 route_nerrors;	/* nerrors after its header */
	int		 route_env;	/* a value of it came from the
					   environment ($NAME) */
	char		*list_text;	/* its hosts or modules list so far */
	struct up_list	 upstream;	/* its upstream list */
	struct up_list	 via;		/* its via list, apart: they may
					   end on different lines */

	/* config_route.c and config_check.c: all routes so far. */
	size_t		 routecap;	/* cfg->routes allocated */
	size_t		*names;		/* hash set of route index + 1 */
	size_t		 namecap;	/* a power of 2, or 0 */
	size_t		 nnames;
	size_t		 host_taker;	/* first route taking all host */
	size_t		 module_taker;	/* or module traffic: index + 1 */
};

#define OFF(field)	offsetof(struct config, field)
#define ROFF(field)	offsetof(struct route, field)

/* config_keys.c: [proxyd] keys, fields of struct config. */
extern const struct key	cfg_keys[NKEYS];

/* config_keys.c: [route NAME] keys, fields of struct route. */
extern const struct key	cfg_route_keys[NROUTEKEYS];

/* The field k sets, in the section being read. */
static inline void *
cfg_field(struct parse_state *st, const struct key *k)
{
	return (char *)st->base + k->off;
}

/* The count of an array key's items. */
static inline size_t *
cfg_count_field(struct parse_state *st, const struct key *k)
{
	return (size_t *)(void *)((char *)st->base + k->noff);
}

/*
 * config_read.c: report one problem as "path:line: message" (or "path:
 * message" for line 0) and count it, so that config_load() can fail
 * after the rest of the file has been checked too.
 */
void	cfg_error(struct parse_state *st, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* config_read.c: "out of memory" on the current line, counted. */
void	cfg_nomem(struct parse_state *st);

/* config_read.c: "KEY: expected WHAT, got "s[0..len)"" on this line. */
void	cfg_bad_value(struct parse_state *st, const struct key *k,
	    const char *s, size_t len);

/*
 * config_read.c: send the keys that follow to section sec, whose fields
 * are at base (a struct config or struct route).
 */
void	cfg_enter_section(struct parse_state *st, enum section sec,
	    void *base);

/*
 * config_read.c: feed st->fp through inih into st->cfg, reporting every
 * problem on the way.  The last route is closed at the end.
 */
void	cfg_read_file(struct parse_state *st);

/*
 * config_tls.c: check the tls listeners against tls_cert, tls_key and
 * tls_client_ca, and build the snapshot's server context from them
 * (cfg->tls_ctx); problems are reported on the line of the key to change.
 */
void	cfg_check_tls(struct parse_state *st);

/* config_tls.c: free what cfg_check_tls() made. */
void	cfg_tls_free(struct config *c);

/*
 * config_builtin.c: read the built-in routes (rules/default.conf's)
 * into st->cfg, for a configuration without a file or whose file has
 * no [route] section; st->fp, path and lineno are kept.
 */
void	cfg_builtin_routes(struct parse_state *st);

/*
 * config_keys.c: move *s past white space and return the length of the
 * rest up to end, without trailing white space.
 */
size_t	cfg_trim(const char **s, const char *end);

/* config_keys.c: free what the list parsers built (NULL is fine). */
void	cfg_hosts_free(struct host_list *hl);
void	cfg_modules_free(struct module_list *ml);
void	cfg_strings_free(char **v, size_t n);

/* config_dest.c: parsers of deny_destinations and allow_destinations
 * (a struct dest_list), policy_mode and action (an int, 1: audit). */
void	cfg_parse_dest(struct parse_state *st, const struct key *k,
	    const char *v);
void	cfg_parse_policy_mode(struct parse_state *st, const struct key *k,
	    const char *v);

/* config_dest.c: free what a dest_list holds. */
void	cfg_dest_free(struct dest_list *d);

/* config_upstream.c: the parser of "upstream" and "via". */
void	cfg_parse_upstream(struct parse_state *st, const struct key *k,
	    const char *v);

/*
 * config_upstream.c: report the route's upstream or via list if it ends
 * after a separator or holds nothing.
 */
void	cfg_upstream_list_end(struct parse_state *st);

/* config_upstream.c: free us[0..*n) and set *n to 0. */
void	cfg_upstreams_free(struct upstream_conf *us, size_t *n);

/*
 * config_route.c: "[route NAME]", name[0..len) being what follows
 * "route"; the route's keys follow.
 */
void	cfg_route_open(struct parse_state *st, const char *name, size_t len);

/* config_route.c: the section being left; checks it if it is a route. */
void	cfg_route_close(struct parse_state *st);

/*
 * config_route.c: after the file, the fallback route, last, and the
 * [proxyd] timeouts of every route that set none.
 */
void	cfg_routes_finish(struct parse_state *st);

/* config_route.c: free what r holds, not r. */
void	cfg_route_free(struct route *r);

/* config_check.c: checks of route r, once all its keys are known. */
void	cfg_check_route(struct parse_state *st, struct route *r);

/* config_check.c: checks across [proxyd] keys, once the file is read. */
void	cfg_check_config(struct parse_state *st);

/* config_cache.c: "on" or "off" into an int field (1 or 0). */
void	cfg_parse_onoff(struct parse_state *st, const struct key *k,
	    const char *v);

/* config_cache.c: mark the route's cache and offline keys it left unset. */
void	cfg_cache_route(struct parse_state *st, struct route *r);

/*
 * config_cache.c: at the end of the file, resolve the routes' unset cache
 * keys from [proxyd] and check cache_dir (a writable directory).
 */
void	cfg_cache_check(struct parse_state *st);

#endif /* PROXYD_CONFIG_PARSE_H */
