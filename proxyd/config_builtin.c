/*
 * config_builtin.c - the built-in routes: what proxyd routes with no
 * -c FILE, the same routes as the end of rules/default.conf (a unit
 * test, test_config's shipped_default, holds the two equal).
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
	/* The text is only read; fmemopen() wants a non-const pointer. */
	st->fp = fmemopen((void *)(uintptr_t)builtin_routes,
	    strlen(builtin_routes), "r");
	if (st->fp == NULL) {
		cfg_nomem(st);
		return;
	}
	cfg_read_file(st);
	fclose(st->fp);
	st->fp = NULL;
}
