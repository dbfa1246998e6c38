/*
 * cache.h - the module cache on disk: which GOPROXY requests have an
 * entry, where it lives under cache_dir, what its metadata says, and
 * whether an entry found there may be served.
 *
 * Layout (README "Module cache"): an entry is two files, the body as
 * the raw bytes the client got ("mod/<escaped module>/@v/<escaped
 * version>.zip", "sumdb/<name>/tile/8/0/000") and its metadata next to
 * it with ".meta" appended (text: status, Content-Type, size, SHA-256,
 * stored time, and the body file's identity when it was stored).  The
 * metadata is renamed into place last: an entry without it does not
 * exist.  Temporary files start with "." (no key element does).
 *
 * No event loop here: cache_store.c writes entries, cache_fetch.c
 * serves them.  Owns struct cache_meta and the key rules.
 */
#ifndef PROXYD_CACHE_H
#define PROXYD_CACHE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

struct goproxy_req;

/* A key (relative path) fits in this many bytes, with the NUL. */
#define CACHE_KEY_MAX		2048
/* A path element longer than this is refused (NAME_MAX). */
#define CACHE_ELEMENT_MAX	255

/* How long an entry stays fresh. */
enum cache_class {
	CACHE_NONE,		/* never cached (a query like @v/master.info) */
	CACHE_IMMUTABLE,	/* exact versions, lookups, full tiles */
	CACHE_LIST,		/* @v/list, @latest: list_ttl */
	CACHE_SUMDB_LATEST	/* sumdb latest, supported, partial tiles */
};

struct cache_meta {
	int		 status;		/* 200, 404 or 410 */
	char		 type[128];		/* Content-Type, "" if none */
	uint64_t	 size;			/* of the body */
	unsigned char	 sha256[32];		/* of the body */
	int64_t		 stored;		/* unix time, ms */
	/* The body file as stored: a change means it is not ours. */
	int64_t		 mtime_ns, ctime_ns;
	uint64_t	 ino;
};

/* The class of a parsed GOPROXY request. */
enum cache_class cache_class_of(const struct goproxy_req *g);

/*
 * The key of g into out[0..len): "mod/..." or "sumdb/...".  0, or -1
 * when g has no entry (CACHE_NONE) or the key would be unsafe: every
 * element is checked again here (not empty, not "." or "..", at most
 * CACHE_ELEMENT_MAX bytes, only [A-Za-z0-9._~!+@:-], no leading "."),
 * whatever goproxy_parse() let through.
 */
int	cache_key(const struct goproxy_req *g, char *out, size_t len);

/* A hash of key for the process's small tables (FNV-1a: keys are ours,
 * checked and escaped, no one picks collisions that matter). */
uint32_t cache_key_hash(const char *key);

/* Is the relative path key safe to join to cache_dir (as above)? */
int	cache_key_safe(const char *key);

/* Metadata as text into buf[0..len): its length, or -1 if too small. */
int	cache_meta_format(const struct cache_meta *m, char *buf, size_t len);

/* Parse metadata text buf[0..len): 0, or -1 when it is not complete. */
int	cache_meta_parse(const char *buf, size_t len, struct cache_meta *m);

/*
 * Open the entry key under dir: 0 with *fd the body (open, read-only)
 * and *m its metadata when the entry exists and the body is the file
 * that was stored (size, mtime, ctime, inode as recorded); -1 when
 * there is no entry; -2 when there is one that must not be served (its
 * metadata is unreadable or its body changed: truncated, flipped, or
 * gone), which the caller drops.  Blocking, but only open, fstat and
 * one read of the small metadata file.
 */
int	cache_open(const char *dir, const char *key, struct cache_meta *m,
	    int *fd);

/*
 * Read the metadata of key under dir: 0, -1 when there is none, -2 when
 * it is unreadable or malformed.
 */
int	cache_meta_read(const char *dir, const char *key, struct cache_meta *m);

/*
 * Write the metadata of key under dir: a temporary file in the entry's
 * directory, fsynced, renamed over "KEY.meta".  0, or -1 with errno.
 */
int	cache_meta_write(const char *dir, const char *key,
	    const struct cache_meta *m);

/*
 * Record a use of the entry (the metadata file's mtime: proxyd's own
 * last-access clock, kept across restarts, unlike atime, which mounts
 * often disable).
 */
void	cache_touch(const char *dir, const char *key);

/* Remove the entry: metadata first, so that it stops existing at once. */
void	cache_drop(const char *dir, const char *key);

struct config;
struct route;

/* What --cache-fill fetches of one module version. */
#define CACHE_WANT_INFO	1
#define CACHE_WANT_MOD	2
#define CACHE_WANT_ZIP	4

struct cache_sum_line {
	const char	*mod;		/* points into the line */
	size_t		 mod_len;
	const char	*ver;
	size_t		 ver_len;
	int		 files;		/* CACHE_WANT_* */
};

/*
 * One line of a go.sum ("MODULE VERSION[/go.mod] HASH": a /go.mod line
 * wants .info and .mod, others the .zip too) or "MODULE@VERSION" (all
 * three), NUL-terminated: 1 with *out, 0 for a blank or # line, -1 when
 * it is neither.  No checks of the path or version (the caller's).
 */
int	cache_sum_line(const char *line, struct cache_sum_line *out);

/*
 * For --explain: the "cache:" and "offline:" lines of request g on
 * route r: whether the route caches, the entry's key and state (not
 * cached, fresh, expired; status and size), and what offline does.
 */
void	cache_explain(FILE *out, const struct config *cfg,
	    const struct route *r, const struct goproxy_req *g);

/* Is the entry fresh at now (unix ms) for ttl_ms? */
int	cache_fresh(const struct cache_meta *m, int64_t now, int ttl_ms);

/* The unix time in ms (what "stored" is in). */
int64_t	cache_now(void);

#endif /* PROXYD_CACHE_H */
