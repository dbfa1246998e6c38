/*
 * config_check.c - checks that need more than one key: a route that
 * earlier routes leave no traffic to (shadowing), a burst without its
 * rate, [proxyd]'s listen list and size limits against each other.
 * They run once the keys they look at are all known; each problem is
 * reported on the line of the key (or route header) to change.
 */
#include <stdint.h>
#include <string.h>

#include "config_parse.h"

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
 * neither checked nor remembered as taking anything; nor is one with a
 * value from the environment, which may well be "*" (GOPRIVATE=* says
 * every module is private): the file is not wrong for that.
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
		if (st->route_env)
			return;
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
		cfg_error(st, r->line, "route \"%s\" can never match: route "
		    "\"%s\" (line %d) takes all its traffic", r->name,
		    rs[a - 1].name, rs[a - 1].line);
	else
		cfg_error(st, r->line, "route \"%s\" can never match: routes "
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
	const struct key	*rk = &cfg_route_keys[rate_key];
	const struct key	*bk = &cfg_route_keys[burst_key];
	double			 rate = *(double *)cfg_field(st, rk);
	double			*burst = cfg_field(st, bk);

	if (st->rseen[burst_key] != 0 && st->rseen[rate_key] == 0)
		cfg_error(st, st->rseen[burst_key], "%s is set without %s",
		    bk->name, rk->name);
	if (rate > 0 && *burst == 0) {
		*burst = (double)(uintmax_t)rate;
		if (*burst < rate)
			(*burst)++;
		if (*burst < 1)
			*burst = 1;
	}
}

void
cfg_check_route(struct parse_state *st, struct route *r)
{
	route_burst(st, R_RATE, R_BURST);
	route_burst(st, R_CLIENT_RATE, R_CLIENT_BURST);
	route_shadow(st, r);
	cfg_cache_route(st, r);
}

/* Routes naming users need a users file to know them by. */
static void
check_users(struct parse_state *st)
{
	const struct config	*c = st->cfg;
	size_t			 i;

	/* Users come from the users file or client certificates. */
	for (i = 0; c->auth_file == NULL && c->tls_client_ca == NULL &&
	    i < c->nroutes; i++)
		if (c->routes[i].users != NULL)
			cfg_error(st, c->routes[i].line, "route %s: users = "
			    "needs auth_file or tls_client_ca in [proxyd]",
			    c->routes[i].name);
}

/* The admin port must not be a proxy port: bind() would fail at start. */
static void
check_admin_listen(struct parse_state *st)
{
	const struct config	*c = st->cfg;
	size_t			 i;

	for (i = 0; c->admin_listen.len > 0 && i < c->nlisten; i++)
		if (c->listen[i].len == c->admin_listen.len &&
		    memcmp(&c->listen[i].ss, &c->admin_listen.ss,
		    c->admin_listen.len) == 0)
			cfg_error(st, st->seen[K_ADMIN_LISTEN], "admin_listen: "
			    "%s is also a listen address", c->admin_listen.text);
}

void
cfg_check_config(struct parse_state *st)
{
	const struct config	*c = st->cfg;
	int			 line;

	if (st->seen[K_LISTEN] != 0 && st->listen_items == 0)
		cfg_error(st, st->seen[K_LISTEN], "listen: expected at least "
		    "one address and port");
	if (c->max_request_line >= c->max_header_size) {
		line = st->seen[K_MAX_REQUEST_LINE];
		if (st->seen[K_MAX_HEADER_SIZE] > line)
			line = st->seen[K_MAX_HEADER_SIZE];
		cfg_error(st, line, "max_request_line (%zu) must be smaller "
		    "than max_header_size (%zu)", c->max_request_line,
		    c->max_header_size);
	}
	check_admin_listen(st);
	check_users(st);
	cfg_cache_check(st);
}
