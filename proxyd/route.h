/*
 * route.h - the route table of a config snapshot: which route a request
 * takes (first match in file order wins), the index that keeps that
 * cheap with thousands of routes, and `proxyd --explain`.
 */
#ifndef PROXYD_ROUTE_H
#define PROXYD_ROUTE_H

#include <stdio.h>

#include "config.h"

struct regex_md;

/* What is known of a request when its route is chosen. */
struct route_query {
	const char		*host;		/* destination, no [] */
	size_t			 host_len;
	uint16_t		 port;
	const char		*method;
	size_t			 method_len;
	const char		*target;	/* request target, for regex */
	size_t			 target_len;
	const char		*module;	/* GOPROXY module path, or NULL */
	size_t			 module_len;
	const struct sockaddr	*client;	/* NULL: any client */
	const struct cidr	*ip;		/* host as an address, or NULL:
						   route_lookup() parses it */
};

/*
 * The first route of cfg that matches q; never NULL (the fallback route
 * matches everything).  md is the caller's thread-local PCRE2 match data.
 * *why (may be NULL) gets a static description of the deciding matcher.
 */
const struct route *route_lookup(const struct config *cfg,
		    const struct route_query *q, struct regex_md *md,
		    const char **why);

/* Build / free the lookup index of cfg's routes.  NULL on ENOMEM. */
struct route_index *route_index_build(const struct config *cfg);
void		 route_index_free(struct route_index *ix);

/*
 * `proxyd --explain TARGET`: TARGET is a URL (a GET of it), host:port
 * (a CONNECT) or a GOPROXY path starting with "/" (route_explain_module).  Prints the route, why it matched, its upstreams and
 * limits; with user (--user NAME, or NULL), whether the route takes
 * that user.  Returns 0, or -1 when TARGET is not understood.
 */
int		 route_explain(const struct config *cfg, const char *target,
		    const char *user, FILE *out);

/*
 * explain_module.c: --explain of a GOPROXY request path ("/golang.org/
 * x/text/@v/list", "/sumdb/sum.golang.org/supported"): the module
 * route, its mirrors in order with their ','/'|', and the module cache.
 * Returns 0, or -1 (printed) for a path the daemon would refuse.
 */
int		 route_explain_module(const struct config *cfg,
		    const char *path, const char *user, FILE *out);

/* --explain's "route:" line, and the upstream, timeout, limit lines. */
void		 route_explain_name(FILE *out, const struct config *cfg,
		    const struct route *r);
void		 route_explain_settings(FILE *out, const struct route *r);

/* Does r list an upstream of type t? */
int	route_has_upstream(const struct route *r, enum upstream_type t);

/* Are all of r's upstreams (at least one) of type t? */
int	route_only_upstream(const struct route *r, enum upstream_type t);

#endif /* PROXYD_ROUTE_H */
