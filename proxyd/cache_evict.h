/*
 * cache_evict.h - keeping the module cache under cache_max_size: a
 * background thread removes the least recently used entries (by the
 * metadata file's mtime, proxyd's own last-access record, see
 * cache_touch()) until bodies plus metadata are at most 90 % of the cap.
 *
 * One per configuration snapshot with a cap (config.evict, runtime
 * state); its thread starts on the first stored entry, so that -t and
 * --explain never start one.  Also the directory walk that
 * --cache-verify shares.
 *
 * Owns struct cache_evict.
 */
#ifndef PROXYD_CACHE_EVICT_H
#define PROXYD_CACHE_EVICT_H

#include <stddef.h>
#include <stdint.h>

struct cache_evict;

/* An evictor for dir with cap bytes (no thread yet); NULL on ENOMEM. */
struct cache_evict	*cache_evict_new(const char *dir, uint64_t cap);

/* Stop its thread (if any) and free it. */
void			 cache_evict_free(struct cache_evict *e);

/*
 * An entry of bytes (body plus metadata) was stored: starts the thread
 * on first use, wakes it when the cache may be over the cap.  Any
 * thread; e may be NULL (no cap).
 */
void			 cache_evict_note(struct cache_evict *e,
			    uint64_t bytes);

/* One entry found by cache_walk(). */
struct cache_entry {
	char		*key;		/* relative path of the body */
	uint64_t	 bytes;		/* body plus metadata on disk */
	int64_t		 used_ns;	/* last access: the metadata's mtime */
};

/*
 * Every entry under dir (a ".meta" file, with or without its body),
 * into *out (malloc'd, *n of them; free with cache_entries_free()).
 * Temporary files are skipped.  0, or -1 on ENOMEM.  Entries that
 * vanish during the walk are simply missed.
 */
int	cache_walk(const char *dir, struct cache_entry **out, size_t *n);
void	cache_entries_free(struct cache_entry *v, size_t n);

/*
 * The LRU pass over v[0..n): sorts v by last access and returns how
 * many of the oldest to remove so that the rest is at most 90 % of cap
 * (0 when the total is within cap).  Pure: the unit tests call it.
 */
size_t	cache_evict_plan(struct cache_entry *v, size_t n, uint64_t cap);

#endif /* PROXYD_CACHE_EVICT_H */
