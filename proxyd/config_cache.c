/*
 * config_cache.c - the module cache's keys: [proxyd] cache_dir,
 * cache_max_size, offline and [route] cache, list_ttl, negative_ttl,
 * sumdb_latest_ttl, offline.  Owns the on/off parser, the route keys'
 * inherited defaults and the cache_dir check (what cache.c needs at run
 * time is known good once a snapshot loads).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sys/stat.h>

#include "config_parse.h"

/* An unset route key, until cfg_cache_check() resolves it. */
#define UNSET	(-1)

void
cfg_parse_onoff(struct parse_state *st, const struct key *k, const char *v)
{
	if (strcasecmp(v, "on") == 0)
		*(int *)cfg_field(st, k) = 1;
	else if (strcasecmp(v, "off") == 0)
		*(int *)cfg_field(st, k) = 0;
	else
		cfg_bad_value(st, k, v, strlen(v));
}

/*
 * Called as the route's section ends: which keys it set is known only
 * now, and [proxyd] (whose values it inherits) may come later in the
 * file, so mark the unset ones for cfg_cache_check().
 */
void
cfg_cache_route(struct parse_state *st, struct route *r)
{
	if (st->rseen[R_CACHE] == 0)
		r->cache = UNSET;
	if (st->rseen[R_OFFLINE] == 0)
		r->offline = UNSET;
}

/* Does route r send module requests to mirrors? */
static int
has_mirror(const struct route *r)
{
	size_t	i;

	for (i = 0; i < r->nupstreams; i++)
		if (r->upstreams[i].type == UPSTREAM_MIRROR)
			return 1;
	return 0;
}

/*
 * cache_dir must be a directory this process may create files in: a
 * cache that cannot be written would turn every miss into a log line
 * and every restart into a cold start, silently.
 */
static void
check_dir(struct parse_state *st)
{
	const char	*dir = st->cfg->cache_dir;
	int		 line = st->seen[K_CACHE_DIR];
	struct stat	 sb;

	if (stat(dir, &sb) == -1)
		cfg_error(st, line, "cache_dir: %s: %s (create it, owned by "
		    "the user proxyd runs as)", dir, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		cfg_error(st, line, "cache_dir: %s: expected a directory",
		    dir);
	else if (access(dir, W_OK | X_OK) == -1)
		cfg_error(st, line, "cache_dir: %s: not writable (%s)", dir,
		    strerror(errno));
}

void
cfg_cache_check(struct parse_state *st)
{
	struct config	*c = st->cfg;
	struct route	*r;
	size_t		 i;

	if (c->cache_dir != NULL)
		check_dir(st);
	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		if (r->offline == UNSET)
			r->offline = c->offline;
		if (r->cache == UNSET)
			r->cache = c->cache_dir != NULL && has_mirror(r);
		else if (r->cache && c->cache_dir == NULL) {
			cfg_error(st, r->line, "route %s: cache = on needs "
			    "cache_dir in [proxyd]", r->name);
			r->cache = 0;
		}
	}
}
