/*
 * config.c - configuration snapshots: built-in defaults, load and
 * validate (through config_read.c and the other config_*.c files, see
 * config_parse.h), reference counting and freeing.
 *
 * A snapshot is all or nothing: config_load() returns one only if the
 * whole file was free of errors, and every error was reported first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cache_evict.h"
#include "cache_flight.h"
#include "cache_seen.h"
#include "config_parse.h"
#include "destpolicy.h"
#include "limit.h"
#include "route.h"

static int
online_cpus(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if ((uintmax_t)n > cfg_keys[K_WORKERS].max)
		return (int)cfg_keys[K_WORKERS].max;
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
		if (cfg_keys[i].def != NULL)
			cfg_keys[i].parse(st, &cfg_keys[i], cfg_keys[i].def);
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
		cfg_route_free(&c->routes[i]);
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
	free(c->admin_allow);
	free(c->pac_proxy);
	cfg_dest_free(&c->deny_dest);
	cfg_dest_free(&c->allow_dest);
	free(c->local_addrs);
	free(c->auth_file);
	free(c->auth_realm);
	auth_users_free(c->users);
	auth_fails_free(c->auth_fails);
	cfg_tls_free(c);
	free(c->cache_dir);
	cache_flights_free(c->flights);
	cache_evict_free(c->evict);
	cache_seen_free(c->seen);
	free(c);
}

/* A new snapshot with the defaults, or NULL (reported) on ENOMEM. */
static struct config *
config_new(struct parse_state *st)
{
	if ((st->cfg = calloc(1, sizeof(*st->cfg))) == NULL) {
		cfg_nomem(st);
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
			cfg_nomem(st);
	}
	if ((c->index = route_index_build(c)) == NULL)
		cfg_nomem(st);
	if (dest_bind(c) == -1)
		cfg_nomem(st);
	if (c->auth_file != NULL && (c->auth_fails = auth_fails_new(
	    c->auth_fail_limit, c->auth_fail_window)) == NULL)
		cfg_nomem(st);
	if (c->cache_dir != NULL && ((c->flights = cache_flights_new()) ==
	    NULL || (c->seen = cache_seen_new()) == NULL))
		cfg_nomem(st);
	if (c->cache_dir != NULL && c->cache_max_size > 0 &&
	    (c->evict = cache_evict_new(c->cache_dir, c->cache_max_size)) ==
	    NULL)
		cfg_nomem(st);
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
	/* Only the built-in routes' values from the environment can be
	 * wrong (GONOPROXY="a["): say so rather than exit silently. */
	st.errs = stderr;
	if (config_new(&st) != NULL) {
		cfg_builtin_routes(&st);
		cfg_routes_finish(&st);
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
		cfg_error(&st, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	if (config_new(&st) == NULL)
		goto done;
	if ((st.cfg->path = strdup(path)) == NULL) {
		cfg_nomem(&st);
		goto done;
	}
	cfg_read_file(&st);
	/* Routes are one setting: a file without any keeps the default. */
	if (st.cfg->nroutes == 0)
		cfg_builtin_routes(&st);
	cfg_routes_finish(&st);
	cfg_check_config(&st);
	cfg_check_tls(&st);
	/* The users file is part of the snapshot: a reload reads it again. */
	if (st.cfg->auth_file != NULL)
		st.cfg->users = auth_users_load(st.cfg->auth_file, st.errs,
		    &st.nerrors);
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
