/*
 * explain_module.c - `proxyd --explain /PATH`: what a GOPROXY request
 * (GOPROXY=http://proxyd:3128, then GET /golang.org/x/text/@v/list or
 * /sumdb/sum.golang.org/supported) would get: the module route, the
 * mirrors in the order and with the fallback rules Go's GOPROXY syntax
 * gives them (after ',' only on 404/410, after '|' on any error), and
 * the state of the module cache.
 *
 * The path goes through goproxy_parse(), as the daemon's, so a path the
 * daemon would refuse is refused here with the same status and reason.
 */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "goproxy.h"
#include "auth.h"
#include "route.h"

static const char *const kind_text[] = {
	[GOPROXY_LIST] = "version list", [GOPROXY_INFO] = "version info",
	[GOPROXY_MOD] = "go.mod", [GOPROXY_ZIP] = "zip",
	[GOPROXY_LATEST] = "latest version",
	[GOPROXY_SUMDB_SUPPORTED] = "supported",
	[GOPROXY_SUMDB_LOOKUP] = "lookup",
	[GOPROXY_SUMDB_TILE] = "tile",
	[GOPROXY_SUMDB_LATEST] = "latest signed tree",
};

static int
is_sumdb(enum goproxy_kind k)
{
	return k >= GOPROXY_SUMDB_SUPPORTED;
}

/* "request: ..." with what the path asks for. */
static void
explain_request(FILE *out, const char *path, const struct goproxy_req *g)
{
	fprintf(out, "request:   GET %s (GOPROXY: ", path);
	if (is_sumdb(g->kind))
		fprintf(out, "checksum database %s, %s", g->sumdb,
		    kind_text[g->kind]);
	else if (g->version[0] != '\0')
		fprintf(out, "module %s, %s of %s", g->module,
		    kind_text[g->kind], g->version);
	else
		fprintf(out, "module %s, %s", g->module, kind_text[g->kind]);
	fprintf(out, ")\n");
}

/*
 * "mirrors: https://goproxy.cn | https://proxy.golang.org, direct": the
 * route's upstreams as a GOPROXY list, with a line on what "direct" and
 * "off" mean to a module (or, sumdb, checksum database) request.
 */
static void
explain_mirrors(FILE *out, const struct route *r, int sumdb)
{
	const struct upstream_conf *uc;
	int direct = 0, off = 0;
	size_t i;

	fprintf(out, "mirrors:   ");
	for (i = 0; i < r->nupstreams; i++) {
		uc = &r->upstreams[i];
		fprintf(out, "%s%s", uc->type == UPSTREAM_MIRROR ? uc->url :
		    uc->type == UPSTREAM_DENY ? "off" : uc->label,
		    uc->fallback == '|' ? " | " : uc->fallback == ',' ? ", " :
		    "");
		direct |= uc->type == UPSTREAM_DIRECT;
		off |= uc->type == UPSTREAM_DENY;
	}
	fprintf(out, "\n");
	if (r->nupstreams > 1)
		fprintf(out, "fallback:  after \",\" only on 404 or 410, "
		    "after \"|\" on any error\n");
	if (direct && sumdb)
		fprintf(out, "direct:    answers 404, so that the go command "
		    "asks the checksum database itself\n");
	else if (direct)
		fprintf(out, "direct:    answers 404, so that the go command "
		    "fetches the module itself (GOPROXY=...,direct)\n");
	if (off)
		fprintf(out, "off:       answers 403 (GOPROXY=off)\n");
	if (route_has_upstream(r, UPSTREAM_MIRROR))
		fprintf(out, "unavailable: %s\n", r->unavailable_notfound ?
		    "notfound (404 when the mirrors fail: go tries its next "
		    "GOPROXY entry)" : "error (502/504 when the mirrors fail)");
	for (i = 0; i < r->nvia; i++)
		fprintf(out, "%s%s", i ? ", " : "via:       ", r->via[i].label);
	if (r->nvia)
		fprintf(out, "\n");
}

int
route_explain_module(const struct config *cfg, const char *path,
    const char *user, FILE *out)
{
	struct route_query q;
	struct goproxy_req g;
	const struct route *r;
	const char *why = NULL, *reason, *key;
	char rbuf[GOPROXY_REASON_MAX];
	int status;

	if (goproxy_parse(path, strcspn(path, "?"), &g, &status, &reason,
	    rbuf, sizeof(rbuf)) == -1) {
		fprintf(out, "proxyd: %s: %d %s\n", path, status, reason);
		return -1;
	}
	/* As modproxy_start(): a sumdb request goes by the database name. */
	key = is_sumdb(g.kind) ? g.sumdb : g.module;
	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.method_len = 3;
	q.target = path;
	q.target_len = strlen(path);
	q.module = key;
	q.module_len = strlen(key);
	r = route_lookup(cfg, &q, NULL, &why);
	explain_request(out, path, &g);
	route_explain_name(out, cfg, r);
	fprintf(out, "matched:   %s%s%s\n", r->line > 0 && why ? why :
	    "nothing else matched", is_sumdb(g.kind) ? ", by the database "
	    "name " : "", is_sumdb(g.kind) ? g.sumdb : "");
	explain_mirrors(out, r, is_sumdb(g.kind));
	route_explain_settings(out, r);
	auth_explain(out, cfg, r, user);
	cache_explain(out, cfg, r, &g);
	return 0;
}
