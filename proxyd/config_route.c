/*
 * config_route.c - [route NAME] sections: the name (unique, checked
 * through a hash set so that 100000 routes load in linear time), a new
 * route with the defaults of cfg_route_keys[], the checks when its
 * section ends, and after the file the fallback route and the timeouts
 * routes inherit from [proxyd].
 *
 * Routes stay in file order; the built-in fallback route ("direct", or
 * "deny" with [proxyd] fallback = deny) is appended after them, so there
 * is always one.  Route timeouts a file leaves out are [proxyd]'s, which
 * may come later in the file, so they are filled in at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config_parse.h"
#include "limit.h"

/* Route timeouts left unset take these [proxyd] values. */
static const struct {
	size_t	route, config;
} inherited[] = {
	{ ROFF(connect_timeout), OFF(connect_timeout) },
	{ ROFF(response_timeout), OFF(response_timeout) },
	{ ROFF(idle_timeout), OFF(idle_timeout) },
	{ ROFF(tunnel_idle_timeout), OFF(tunnel_idle_timeout) },
};

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
			cfg_nomem(st);
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
 * cfg_route_keys[], and send the keys that follow to it.  NULL (reported)
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
			cfg_nomem(st);
			return NULL;
		}
		c->routes = r;
		st->routecap = cap;
	}
	r = &c->routes[c->nroutes];
	memset(r, 0, sizeof(*r));
	if ((r->name = strndup(name, len)) == NULL) {
		cfg_nomem(st);
		return NULL;
	}
	r->line = line;
	c->nroutes++;
	cfg_enter_section(st, SEC_ROUTE, r);
	st->cont = 0;
	for (i = 0; i < NROUTEKEYS; i++)
		if (cfg_route_keys[i].def != NULL)
			cfg_route_keys[i].parse(st, &cfg_route_keys[i],
			    cfg_route_keys[i].def);
	return r;
}

#define ROUTE_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789-_."

/*
 * "[route NAME]", name[0..len) being what follows "route".  A route with
 * a bad or duplicate name is still read, for the errors in its keys.
 */
void
cfg_route_open(struct parse_state *st, const char *name, size_t len)
{
	size_t	first = 0;
	int	ok = 0;

	len = cfg_trim(&name, name + len);
	if (len == 0)
		cfg_error(st, st->lineno, "[route] needs a name, like "
		    "[route go]");
	else if (strspn(name, ROUTE_NAME_CHARS) < len)
		cfg_error(st, st->lineno, "bad route name \"%.*s\": use "
		    "letters, digits, \"-\", \"_\" and \".\"", (int)len, name);
	else if ((first = route_find(st, name, len)) != 0)
		cfg_error(st, st->lineno, "duplicate route \"%.*s\" (first at "
		    "line %d)", (int)len, name,
		    st->cfg->routes[first - 1].line);
	else
		ok = 1;
	if (st->cfg->nroutes == CONFIG_MAX_ROUTES) {
		cfg_error(st, st->lineno, "more than %d routes",
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
 * Leaving a section: a route is checked now that all its keys are
 * known.  The keys that follow go nowhere until the next header.
 */
void
cfg_route_close(struct parse_state *st)
{
	if (st->section != SEC_ROUTE)
		return;
	cfg_upstream_list_end(st);
	cfg_check_route(st, st->base);
	cfg_enter_section(st, SEC_NONE, NULL);
}

/* Set r's timeouts that its section left unset (0) to c's. */
static void
inherit_timeouts(const struct config *c, struct route *r)
{
	size_t	i;
	int	*v;

	for (i = 0; i < sizeof(inherited) / sizeof(inherited[0]); i++) {
		v = (int *)(void *)((char *)r + inherited[i].route);
		if (*v == 0)
			*v = *(const int *)(const void *)((const char *)c +
			    inherited[i].config);
	}
}

void
cfg_routes_finish(struct parse_state *st)
{
	const char		*name = st->fallback_deny ? "deny" : "direct";
	const struct key	*up = &cfg_route_keys[R_UPSTREAM];
	size_t			 i;

	/* Its upstream is the default, "direct", unless it is "deny". */
	if (route_new(st, name, strlen(name), 0) != NULL && st->fallback_deny)
		up->parse(st, up, "deny");
	cfg_enter_section(st, SEC_NONE, NULL);
	for (i = 0; i < st->cfg->nroutes; i++)
		inherit_timeouts(st->cfg, &st->cfg->routes[i]);
}

void
cfg_route_free(struct route *r)
{
	free(r->name);
	cfg_hosts_free(r->hosts);
	cfg_modules_free(r->modules);
	regex_free(r->regex);
	free(r->regex_src);
	cfg_strings_free(r->methods, r->nmethods);
	free(r->methods);
	cfg_strings_free(r->users, r->nusers);
	free(r->users);
	free(r->ports);
	free(r->clients);
	cfg_upstreams_free(r->upstreams, &r->nupstreams);
	cfg_upstreams_free(r->via, &r->nvia);
	cfg_dest_free(&r->deny_dest);
	cfg_dest_free(&r->allow_dest);
	limiter_free(r->limiter);
}
