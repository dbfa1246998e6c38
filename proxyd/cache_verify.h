/*
 * cache_verify.h - proxyd --cache-verify: every module cache entry
 * checked against its recorded size and SHA-256; bad ones removed.
 */
#ifndef PROXYD_CACHE_VERIFY_H
#define PROXYD_CACHE_VERIFY_H

#include <stdint.h>
#include <stdio.h>

struct config;

/* Hash the body open at fd: its size and SHA-256; -1 on a read error. */
int	cache_hash_fd(int fd, uint64_t *size, unsigned char sha[32]);

/*
 * Check every entry of cfg's cache_dir, print what was removed (and
 * why) and a summary to out.  Exit status: 0 all good, 1 some were
 * removed, 2 no cache_dir or out of memory.
 */
int	cache_verify_main(const struct config *cfg, FILE *out);

#endif /* PROXYD_CACHE_VERIFY_H */
