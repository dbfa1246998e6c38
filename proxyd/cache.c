/*
 * cache.c - the module cache's keys, metadata and entry lookup (see
 * cache.h for the layout).  Keys are built from the request as parsed
 * and escaped again (module.EscapePath: lower case only, so that one
 * module is one directory on case-insensitive file systems too), then
 * checked element by element: a request that is not a safe relative
 * path never reaches the file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cache.h"
#include "config.h"
#include "goproxy.h"

#define META_SUFFIX	".meta"
#define META_MAX	1024	/* a metadata file is far smaller */
#define KEY_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789._~!+@:-"

/* Is version an exact one (canonical semver, maybe +incompatible)? */
static int
exact_version(const char *v)
{
	char canon[GOPROXY_VERSION_MAX];
	size_t len = strlen(v);
	const char *inc = "+incompatible";

	if (len > strlen(inc) && strcmp(v + len - strlen(inc), inc) == 0)
		len -= strlen(inc);
	return goproxy_semver_canonical(v, len, canon, sizeof(canon)) == 0 &&
	    strlen(canon) == len && memcmp(canon, v, len) == 0;
}

enum cache_class
cache_class_of(const struct goproxy_req *g)
{
	switch (g->kind) {
	case GOPROXY_INFO:
		/* @v/master.info answers a query: it changes. */
		return exact_version(g->version) ? CACHE_IMMUTABLE : CACHE_NONE;
	case GOPROXY_MOD:
	case GOPROXY_ZIP:
	case GOPROXY_SUMDB_LOOKUP:
		return CACHE_IMMUTABLE;
	case GOPROXY_SUMDB_TILE:
		return memmem(g->rest, g->rest_len, ".p/", 3) ?
		    CACHE_SUMDB_LATEST : CACHE_IMMUTABLE;
	case GOPROXY_LIST:
	case GOPROXY_LATEST:
		return CACHE_LIST;
	case GOPROXY_SUMDB_SUPPORTED:
	case GOPROXY_SUMDB_LATEST:
		return CACHE_SUMDB_LATEST;
	}
	return CACHE_NONE;
}

uint32_t
cache_key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

int
cache_key_safe(const char *key)
{
	const char *e = key, *end;
	size_t n;

	if (*key == '\0')
		return 0;
	for (;;) {
		end = e + strcspn(e, "/");
		n = (size_t)(end - e);
		if (n == 0 || n > CACHE_ELEMENT_MAX || e[0] == '.' ||
		    strspn(e, KEY_CHARS) < n)
			return 0;	/* empty, ".", "..", hidden, odd bytes */
		if (*end == '\0')
			return 1;
		e = end + 1;
	}
}

/* out[0..len) gets the printf; -1 when it does not fit. */
static int __attribute__((format(printf, 3, 4)))
key_printf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The key of a module path request: "mod/<escaped module>/..." */
static int
module_key(const struct goproxy_req *g, char *out, size_t len)
{
	char mod[GOPROXY_MODULE_MAX * 2], ver[GOPROXY_VERSION_MAX * 2];
	static const char *const suffix[] = {
		[GOPROXY_INFO] = "info", [GOPROXY_MOD] = "mod",
		[GOPROXY_ZIP] = "zip",
	};

	if (goproxy_escape_path(g->module, mod, sizeof(mod)) == -1)
		return -1;
	if (g->kind == GOPROXY_LIST)
		return key_printf(out, len, "mod/%s/@v/list", mod);
	if (g->kind == GOPROXY_LATEST)
		return key_printf(out, len, "mod/%s/@latest", mod);
	if (goproxy_escape_version(g->version, ver, sizeof(ver)) == -1)
		return -1;
	return key_printf(out, len, "mod/%s/@v/%s.%s", mod, ver,
	    suffix[g->kind]);
}

/* The key of a checksum database request: "sumdb/<name>/..." */
static int
sumdb_key(const struct goproxy_req *g, char *out, size_t len)
{
	char mod[GOPROXY_MODULE_MAX * 2], ver[GOPROXY_VERSION_MAX * 2];
	char rest[GOPROXY_PATH_MAX];

	switch (g->kind) {
	case GOPROXY_SUMDB_LOOKUP:
		if (goproxy_escape_path(g->module, mod, sizeof(mod)) == -1 ||
		    goproxy_escape_version(g->version, ver, sizeof(ver)) == -1)
			return -1;
		return key_printf(out, len, "sumdb/%s/lookup/%s@%s", g->sumdb,
		    mod, ver);
	case GOPROXY_SUMDB_TILE:
		/* "/tile/8/0/x001/234.p/5": digits, x, ".p", as parsed. */
		if (g->rest_len == 0 || g->rest_len >= sizeof(rest) ||
		    g->rest[0] != '/')
			return -1;
		memcpy(rest, g->rest + 1, g->rest_len - 1);
		rest[g->rest_len - 1] = '\0';
		return key_printf(out, len, "sumdb/%s/%s", g->sumdb, rest);
	case GOPROXY_SUMDB_LATEST:
		return key_printf(out, len, "sumdb/%s/latest", g->sumdb);
	default:
		return key_printf(out, len, "sumdb/%s/supported",
		    g->sumdb);
	}
}

int
cache_key(const struct goproxy_req *g, char *out, size_t len)
{
	int r;

	if (cache_class_of(g) == CACHE_NONE)
		return -1;
	switch (g->kind) {
	case GOPROXY_LIST: case GOPROXY_INFO: case GOPROXY_MOD:
	case GOPROXY_ZIP: case GOPROXY_LATEST:
		r = module_key(g, out, len);
		break;
	default:
		r = sumdb_key(g, out, len);
		break;
	}
	/* Room for META_SUFFIX, so that every file of the entry fits. */
	if (r == -1 || strlen(out) + sizeof(META_SUFFIX) > len ||
	    !cache_key_safe(out))
		return -1;
	return 0;
}

int
cache_meta_format(const struct cache_meta *m, char *buf, size_t len)
{
	char hex[65];
	int i, n;

	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", m->sha256[i]);
	/* type last: the rest of its line, spaces and all. */
	n = snprintf(buf, len, "proxyd-cache 1\nstatus %d\n"
	    "size %" PRIu64 "\nsha256 %s\nstored %" PRId64 "\n"
	    "body %" PRId64 " %" PRId64 " %" PRIu64 "\ntype %s\n", m->status,
	    m->size, hex, m->stored, m->mtime_ns, m->ctime_ns, m->ino,
	    m->type[0] ? m->type : "-");
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Two hex digits at s into *b; -1 when they are not hex. */
static int
hex_byte(const char *s, unsigned char *b)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 2; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (unsigned)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (unsigned)(s[i] - 'a' + 10);
		else
			return -1;
	}
	*b = (unsigned char)v;
	return 0;
}

int
cache_meta_parse(const char *buf, size_t len, struct cache_meta *m)
{
	char text[META_MAX + 1], hex[65];
	const char *type;
	size_t tlen;
	int i;

	if (len > META_MAX || memchr(buf, '\0', len) != NULL)
		return -1;
	memcpy(text, buf, len);
	text[len] = '\0';
	memset(m, 0, sizeof(*m));
	if (sscanf(text, "proxyd-cache 1\nstatus %d\n"
	    "size %" SCNu64 "\nsha256 %64s\nstored %" SCNd64 "\n"
	    "body %" SCNd64 " %" SCNd64 " %" SCNu64, &m->status, &m->size, hex,
	    &m->stored, &m->mtime_ns, &m->ctime_ns, &m->ino) != 7 ||
	    strlen(hex) != 64 || len == 0 || text[len - 1] != '\n' ||
	    (type = strstr(text, "\ntype ")) == NULL)
		return -1;
	type += strlen("\ntype ");
	tlen = strcspn(type, "\n");
	if (tlen >= sizeof(m->type) || type[tlen + 1] != '\0')
		return -1;
	memcpy(m->type, type, tlen);
	m->type[tlen] = '\0';
	if (m->status != 200 && m->status != 404 && m->status != 410)
		return -1;
	for (i = 0; i < 32; i++)
		if (hex_byte(hex + 2 * i, &m->sha256[i]) == -1)
			return -1;
	if (strcmp(m->type, "-") == 0)
		m->type[0] = '\0';
	return 0;
}

/* dir/key plus suffix into out; -1 if it does not fit. */
static int
entry_path(char *out, size_t len, const char *dir, const char *key,
    const char *suffix)
{
	int n = snprintf(out, len, "%s/%s%s", dir, key, suffix);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
cache_meta_read(const char *dir, const char *key, struct cache_meta *m)
{
	char path[4096], buf[META_MAX + 1];
	ssize_t n;
	int fd;

	if (entry_path(path, sizeof(path), dir, key, META_SUFFIX) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? -1 : -2;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || cache_meta_parse(buf, (size_t)n, m) == -1)
		return -2;
	return 0;
}

int
cache_open(const char *dir, const char *key, struct cache_meta *m, int *fd)
{
	char path[4096];
	struct stat sb;
	int r;

	*fd = -1;
	if (!cache_key_safe(key))
		return -1;
	if ((r = cache_meta_read(dir, key, m)) != 0)
		return r;
	if (entry_path(path, sizeof(path), dir, key, "") == -1 ||
	    (*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -2;
	if (fstat(*fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != m->size || (uint64_t)sb.st_ino != m->ino ||
	    (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec !=
	    m->mtime_ns ||
	    (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec !=
	    m->ctime_ns) {
		close(*fd);
		*fd = -1;
		return -2;	/* not the file that was stored */
	}
	return 0;
}

int
cache_meta_write(const char *dir, const char *key, const struct cache_meta *m)
{
	char text[META_MAX], tmp[4096], path[4096];
	char *slash;
	ssize_t w;
	int fd, n, rc = -1;

	if ((n = cache_meta_format(m, text, sizeof(text))) < 0 ||
	    entry_path(path, sizeof(path), dir, key, META_SUFFIX) == -1 ||
	    entry_path(tmp, sizeof(tmp) - sizeof("/.tmp-XXXXXX"), dir, key,
	    "") == -1 || (slash = strrchr(tmp, '/')) == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(slash, "/.tmp-XXXXXX");
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	/* One write: the text is far below a page. */
	w = write(fd, text, (size_t)n);
	if (w == n && fchmod(fd, 0644) == 0 && fsync(fd) == 0)
		rc = rename(tmp, path);
	close(fd);
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

void
cache_touch(const char *dir, const char *key)
{
	char path[4096];

	if (entry_path(path, sizeof(path), dir, key, META_SUFFIX) == 0)
		(void)utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
}

void
cache_drop(const char *dir, const char *key)
{
	char path[4096];

	if (!cache_key_safe(key))
		return;
	if (entry_path(path, sizeof(path), dir, key, META_SUFFIX) == 0)
		(void)unlink(path);
	if (entry_path(path, sizeof(path), dir, key, "") == 0)
		(void)unlink(path);
}

int
cache_fresh(const struct cache_meta *m, int64_t now, int ttl_ms)
{
	return m->stored <= now && now - m->stored < ttl_ms;
}

int64_t
cache_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long an entry of g's class with status stays fresh (ms); -1: always. */
static int
explain_ttl(const struct route *r, enum cache_class cls, int status)
{
	if (status != 200)
		return r->negative_ttl;
	return cls == CACHE_LIST ? r->list_ttl : cls == CACHE_SUMDB_LATEST ?
	    r->sumdb_latest_ttl : -1;
}

void
cache_explain(FILE *out, const struct config *cfg, const struct route *r,
    const struct goproxy_req *g)
{
	char key[CACHE_KEY_MAX];
	struct cache_meta m;
	int fd, ttl;

	if (cfg->cache_dir == NULL || !r->cache) {
		fprintf(out, "cache:     %s\n", cfg->cache_dir == NULL ?
		    "not configured (no cache_dir)" : "off for this route");
	} else if (cache_key(g, key, sizeof(key)) == -1) {
		fprintf(out, "cache:     never cached (a query that moves)\n");
	} else if (cache_open(cfg->cache_dir, key, &m, &fd) != 0) {
		fprintf(out, "cache:     not cached (%s/%s)\n", cfg->cache_dir,
		    key);
	} else {
		close(fd);
		ttl = explain_ttl(r, cache_class_of(g), m.status);
		fprintf(out, "cache:     cached, %s (%s/%s: %d, %llu bytes)\n",
		    ttl == -1 ? "kept until evicted" : cache_fresh(&m,
		    cache_now(), ttl) ? "fresh" : "expired (asked again; "
		    "served stale if the mirrors fail)", cfg->cache_dir, key,
		    m.status, (unsigned long long)m.size);
	}
	fprintf(out, "offline:   %s\n", r->offline && r->cache ? "yes (served "
	    "from the cache only; a miss is 404)" : "no (misses are asked "
	    "of the mirrors)");
}

int
cache_sum_line(const char *line, struct cache_sum_line *out)
{
	const char *sp, *end, *at;

	line += strspn(line, " \t");
	if (*line == '\0' || *line == '#' || *line == '\n' || *line == '\r')
		return 0;
	sp = line + strcspn(line, " \t\r\n");
	out->mod = line;
	out->files = CACHE_WANT_INFO | CACHE_WANT_MOD | CACHE_WANT_ZIP;
	if (*sp == ' ' || *sp == '\t') {
		out->mod_len = (size_t)(sp - line);
		out->ver = sp + strspn(sp, " \t");
		end = out->ver + strcspn(out->ver, " \t\r\n");
		out->ver_len = (size_t)(end - out->ver);
		if (out->ver_len > 7 && memcmp(end - 7, "/go.mod", 7) == 0) {
			out->ver_len -= 7;
			out->files = CACHE_WANT_INFO | CACHE_WANT_MOD;
		}
		return out->ver_len > 0 ? 1 : -1;
	}
	if ((at = memchr(line, '@', (size_t)(sp - line))) == NULL ||
	    at == line || at + 1 == sp)
		return -1;
	out->mod_len = (size_t)(at - line);
	out->ver = at + 1;
	out->ver_len = (size_t)(sp - at - 1);
	return 1;
}
