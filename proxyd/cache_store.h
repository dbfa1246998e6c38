/*
 * cache_store.h - writing module cache entries off the event loop.
 *
 * A worker's fills go to its store thread (created lazily), which
 * writes each body to a temporary file in the entry's directory while
 * it streams to the client, hashes it (SHA-256), and on commit checks
 * its size, fsyncs, renames the body and then the metadata into place.
 * Writes, fsync and rename never run on the loop; a fill that fails
 * (disk full, a cut response, too far behind) leaves no entry.
 *
 * Owns struct cache_store and struct cache_fill.
 */
#ifndef PROXYD_CACHE_STORE_H
#define PROXYD_CACHE_STORE_H

#include <stdint.h>

struct cache_meta;
struct cache_waiter;
struct config;
struct evbuffer;
struct logger;
struct cache_store;
struct cache_fill;

/* A store thread logging to log; NULL on failure. */
struct cache_store	*cache_store_new(struct logger *log);

/* Finish the queued work, stop the thread, free. */
void			 cache_store_free(struct cache_store *s);

/*
 * A new fill of entry key under cfg's cache_dir, for a response of
 * status and Content-Type type (may be NULL).  The fill holds a
 * reference to cfg; when it leads key's single flight (lead), the store
 * thread ends the flight (cache_flight_done) once the entry is stored
 * or given up.  NULL when out of memory.
 */
struct cache_fill	*cache_fill_new(struct cache_store *s,
			    struct config *cfg, const char *key, int lead,
			    int status, const char *type, size_t type_len);

/*
 * More body bytes: data[0..len) are copied and queued.  -1 when the
 * fill was given up (the store is too far behind); it must still be
 * ended with cache_fill_end().
 */
int			 cache_fill_data(struct cache_fill *f, const void *data,
			    size_t len);

/*
 * The end of the fill: complete (the whole body, size bytes, reached
 * the client) commits the entry, otherwise it is discarded.  f is the
 * store's from here on.
 */
void			 cache_fill_end(struct cache_fill *f, int complete,
			    uint64_t size);

/*
 * Check entry key (metadata m, as read) against its SHA-256 on the
 * store thread: a good one is remembered (cfg's cache_seen), a bad one
 * removed; then w is woken.  0, or -1 (not queued: out of memory).
 */
int			 cache_store_verify(struct cache_store *s,
			    struct config *cfg, const char *key,
			    const struct cache_meta *m, struct cache_waiter *w);

#endif /* PROXYD_CACHE_STORE_H */
