/*
 * config_builtin.c - the built-in routes: what proxyd routes with no
 * -c FILE or with a file that has no [route] section (routes are one
 * setting: a file's routes replace them all), the same routes as the
 * end of rules/default.conf (test_config's builtin_routes holds the two
 * equal).
 *
 * They are config text read by the reader a file goes through, so that
 * the built-in routes and a file's cannot be parsed differently, and
 * "${GONOPROXY:-$GOPRIVATE}" is read from the environment the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config_parse.h"

/* rules/default.conf's routes, without their comments. */
static const char builtin_routes[] =
	"[route sumdb]\n"
	"modules = sum.golang.org, sum.golang.google.cn\n"
	"upstream = mirror https://proxy.golang.org\n"
	"[route private]\n"
	"modules = ${GONOPROXY:-$GOPRIVATE}\n"
	"upstream = direct\n"
	"[route go]\n"
	"modules = *\n"
	"upstream = mirror https://proxy.golang.org\n";

void
cfg_builtin_routes(struct parse_state *st)
{
	FILE		*fp = st->fp;
	const char	*path = st->path;
	int		 lineno = st->lineno;
	size_t		 i, first = st->cfg->nroutes;

	/* The text is only read; fmemopen() wants a non-const pointer. */
	st->fp = fmemopen((void *)(uintptr_t)builtin_routes,
	    strlen(builtin_routes), "r");
	if (st->fp == NULL) {
		st->fp = fp;
		cfg_nomem(st);
		return;
	}
	/* Messages (a bad $GOPRIVATE) name these lines, not the file's. */
	st->path = "built-in routes";
	st->lineno = 0;
	cfg_read_file(st);
	fclose(st->fp);
	for (i = first; i < st->cfg->nroutes; i++)
		st->cfg->routes[i].builtin = 1;
	st->fp = fp;
	st->path = path;
	st->lineno = lineno;
}
