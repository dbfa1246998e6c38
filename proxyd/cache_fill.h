/*
 * cache_fill.h - proxyd --cache-fill FILE: fetch every module of a
 * go.sum (or of "module@version" lines) into the module cache through
 * the configured routes.
 */
#ifndef PROXYD_CACHE_FILL_H
#define PROXYD_CACHE_FILL_H

#include <stdio.h>

struct config;

/*
 * Fetch .info, .mod and .zip of every module version listed in the file
 * list (.info and .mod only for a go.sum "/go.mod" line) through a
 * worker of cfg on an ephemeral loopback port; print what was fetched,
 * skipped (already cached) and failed to out, a progress line to a
 * terminal's stderr.  Exit status: 0 when nothing failed, 1 otherwise,
 * 2 without cache_dir.
 */
int	cache_fill_main(struct config *cfg, const char *list, FILE *out);

#endif /* PROXYD_CACHE_FILL_H */
