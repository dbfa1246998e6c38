/*
 * cache_verify.h - proxyd --cache-verify: every module cache entry
 * checked against its recorded size and SHA-256; bad ones removed.
 */
#ifndef PROXYD_CACHE_VERIFY_H
#define PROXYD_CACHE_VERIFY_H

#include <stdio.h>

struct config;

/*
 * Check every entry of cfg's cache_dir, print what was removed (and
 * why) and a summary to out.  Exit status: 0 all good, 1 some were
 * removed, 2 no cache_dir or out of memory.
 */
int	cache_verify_main(const struct config *cfg, FILE *out);

#endif /* PROXYD_CACHE_VERIFY_H */
