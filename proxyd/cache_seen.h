/*
 * cache_seen.h - which module cache entries this process has checked
 * against their recorded SHA-256 (or stored itself), and as which file:
 * an entry is hashed once, on its first use after start, and again
 * whenever its body file changed (cache_open() already refuses a body
 * that is not the recorded file; this catches what a restart may have
 * met: bit rot, a copy whose metadata was forged to match).
 *
 * One per configuration snapshot (config.seen, runtime state), a mutex
 * around it.  Owns struct cache_seen.
 */
#ifndef PROXYD_CACHE_SEEN_H
#define PROXYD_CACHE_SEEN_H

struct cache_meta;
struct cache_seen;

struct cache_seen	*cache_seen_new(void);
void			 cache_seen_free(struct cache_seen *t);

/* Was key checked, as the body file m records (inode, mtime, ctime)? */
int	cache_seen_has(struct cache_seen *t, const char *key,
	    const struct cache_meta *m);

/* key is good as the body file m records (replaces what was known). */
void	cache_seen_add(struct cache_seen *t, const char *key,
	    const struct cache_meta *m);

#endif /* PROXYD_CACHE_SEEN_H */
