/*
 * test_cache.c - the module cache's keys (escaping, classes, traversal
 * attempts), its metadata text, and entry lookup on a real directory
 * (a changed body is never a hit).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cache.h"
#include "cache_evict.h"
#include "goproxy.h"
#include "unit.h"

/* The key of request path, or "" when it has none; -1 if it did not parse. */
static int
key_of(const char *path, char *key, size_t len)
{
	struct goproxy_req g;
	const char *reason;
	int status;

	key[0] = '\0';
	if (goproxy_parse(path, strlen(path), &g, &status, &reason, NULL, 0))
		return -1;
	if (cache_key(&g, key, len) == -1)
		key[0] = '\0';
	return (int)cache_class_of(&g);
}

static const struct {
	const char		*path;
	const char		*key;
	enum cache_class	 cls;
} keys[] = {
	{ "/github.com/!burnt!sushi/toml/@v/v1.2.1.zip",
	  "mod/github.com/!burnt!sushi/toml/@v/v1.2.1.zip", CACHE_IMMUTABLE },
	{ "/github.com/!burnt!sushi/toml/@v/v1.2.1.mod",
	  "mod/github.com/!burnt!sushi/toml/@v/v1.2.1.mod", CACHE_IMMUTABLE },
	{ "/golang.org/x/text/@v/v0.0.0-20170915032832-14c0d48ead0c.info",
	  "mod/golang.org/x/text/@v/v0.0.0-20170915032832-14c0d48ead0c.info",
	  CACHE_IMMUTABLE },
	{ "/github.com/x/y/@v/v2.0.0+incompatible.info",
	  "mod/github.com/x/y/@v/v2.0.0+incompatible.info", CACHE_IMMUTABLE },
	{ "/github.com/x/y/@v/master.info", "", CACHE_NONE },
	{ "/github.com/x/y/@v/list", "mod/github.com/x/y/@v/list", CACHE_LIST },
	{ "/github.com/x/y/@latest", "mod/github.com/x/y/@latest", CACHE_LIST },
	{ "/sumdb/sum.golang.org/supported", "sumdb/sum.golang.org/supported",
	  CACHE_SUMDB_LATEST },
	{ "/sumdb/sum.golang.org/latest", "sumdb/sum.golang.org/latest",
	  CACHE_SUMDB_LATEST },
	{ "/sumdb/sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.2.1",
	  "sumdb/sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.2.1",
	  CACHE_IMMUTABLE },
	{ "/sumdb/sum.golang.org/tile/8/0/x001/234",
	  "sumdb/sum.golang.org/tile/8/0/x001/234", CACHE_IMMUTABLE },
	{ "/sumdb/sum.golang.org/tile/8/0/x001/234.p/5",
	  "sumdb/sum.golang.org/tile/8/0/x001/234.p/5", CACHE_SUMDB_LATEST },
	{ "/sumdb/sum.golang.org/tile/8/data/000",
	  "sumdb/sum.golang.org/tile/8/data/000", CACHE_IMMUTABLE },
};

/* Paths that must never become a key (most never parse). */
static const char *const evil[] = {
	"/../../etc/passwd/@v/list", "/%2e%2e/x.com/@v/list",
	"/example.com/%2e%2e/@v/v1.0.0.zip", "//etc/passwd/@v/list",
	"/example.com/a%00b/@v/list", "/example.com/x/@v/..%2fv1.0.0.zip",
	"/example.com/x/@v/.v1.0.0.zip", "/sumdb/../etc/latest",
	"/sumdb/sum.test/tile/8/0/../../x", "/example.com/./x/@v/list",
	"/example.com/x%2fy/@v/list", "/example.com/x/@v/v1.0.0%2f..zip",
};

static void
test_keys(void)
{
	char key[CACHE_KEY_MAX];
	size_t i;
	int cls;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		cls = key_of(keys[i].path, key, sizeof(key));
		CHECK(cls == (int)keys[i].cls, "%s: class %d", keys[i].path, cls);
		CHECK(strcmp(key, keys[i].key) == 0, "%s: key %s", keys[i].path,
		    key);
	}
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		cls = key_of(evil[i], key, sizeof(key));
		CHECK(key[0] == '\0', "%s: key %s (class %d)", evil[i], key, cls);
	}
	/* A key too long for the buffer (with ".meta") is no key. */
	cls = key_of(keys[0].path, key, strlen(keys[0].key) + 3);
	CHECK(key[0] == '\0', "short buffer: %s", key);
}

static void
test_key_safe(void)
{
	char longer[300];

	CHECK(cache_key_safe("mod/a.b/@v/list"), "plain");
	CHECK(!cache_key_safe(""), "empty");
	CHECK(!cache_key_safe("/etc/passwd"), "absolute");
	CHECK(!cache_key_safe("mod/../x"), "..");
	CHECK(!cache_key_safe("mod/./x"), ".");
	CHECK(!cache_key_safe("mod//x"), "empty element");
	CHECK(!cache_key_safe("mod/x/"), "trailing /");
	CHECK(!cache_key_safe("mod/.tmp-abc"), "hidden (temporary)");
	CHECK(!cache_key_safe("mod/a b"), "space");
	CHECK(!cache_key_safe("mod/a\\b"), "backslash");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	CHECK(!cache_key_safe(longer), "element over 255 bytes");
	longer[CACHE_ELEMENT_MAX] = '\0';
	CHECK(cache_key_safe(longer), "element of 255 bytes");
}

static void
test_meta(void)
{
	struct cache_meta m, back;
	char text[1024];
	int n;

	memset(&m, 0, sizeof(m));
	m.status = 200;
	snprintf(m.type, sizeof(m.type), "text/plain; charset=utf-8");
	m.size = 12345;
	m.sha256[0] = 0xab;
	m.sha256[31] = 0x01;
	m.stored = 1700000000123;
	m.mtime_ns = 1700000000123456789;
	m.ctime_ns = 1700000000123456790;
	m.ino = 42;
	n = cache_meta_format(&m, text, sizeof(text));
	CHECK(n > 0, "format");
	CHECK(cache_meta_parse(text, (size_t)n, &back) == 0, "parse: %s", text);
	CHECK(memcmp(&m, &back, sizeof(m)) == 0, "round trip: %s", text);
	CHECK(cache_meta_parse(text, (size_t)n - 1, &back) == -1, "cut");
	CHECK(cache_meta_parse(text, 20, &back) == -1, "cut short");
	m.status = 500;
	n = cache_meta_format(&m, text, sizeof(text));
	CHECK(cache_meta_parse(text, (size_t)n, &back) == -1, "status 500");
	m.status = 404;
	m.type[0] = '\0';
	n = cache_meta_format(&m, text, sizeof(text));
	CHECK(cache_meta_parse(text, (size_t)n, &back) == 0 &&
	    back.type[0] == '\0' && back.status == 404, "no type");
	CHECK(cache_meta_format(&m, text, 10) == -1, "small buffer");
}

/* Store body as key under dir the way cache_store.c does (no hash). */
static void
put(const char *dir, const char *key, const char *body)
{
	char path[4096], text[1024];
	struct cache_meta m;
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1 || write(fd, body, strlen(body)) < 0 || fstat(fd, &sb))
		abort();
	close(fd);
	memset(&m, 0, sizeof(m));
	m.status = 200;
	m.size = strlen(body);
	m.ino = sb.st_ino;
	m.mtime_ns = sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	m.ctime_ns = sb.st_ctim.tv_sec * 1000000000LL + sb.st_ctim.tv_nsec;
	snprintf(path, sizeof(path), "%s/%s.meta", dir, key);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1 || write(fd, text, (size_t)cache_meta_format(&m, text,
	    sizeof(text))) < 0)
		abort();
	close(fd);
}

static void
test_open(void)
{
	char dir[] = "/tmp/test_cache.XXXXXX", path[4096];
	struct cache_meta m;
	int fd, r;

	if (mkdtemp(dir) == NULL)
		abort();
	CHECK(cache_open(dir, "a", &m, &fd) == -1 && fd == -1, "no entry");
	put(dir, "a", "hello");
	r = cache_open(dir, "a", &m, &fd);
	CHECK(r == 0 && fd != -1 && m.size == 5, "hit: %d", r);
	if (fd != -1)
		close(fd);
	CHECK(cache_open(dir, "../a", &m, &fd) == -1, "unsafe key");
	/* Rewritten in place (same size): the identity changed. */
	usleep(20000);
	snprintf(path, sizeof(path), "%s/a", dir);
	fd = open(path, O_WRONLY);
	if (fd == -1 || write(fd, "jello", 5) != 5)
		abort();
	close(fd);
	CHECK(cache_open(dir, "a", &m, &fd) == -2 && fd == -1, "changed body");
	put(dir, "b", "x");
	snprintf(path, sizeof(path), "%s/b", dir);
	unlink(path);
	CHECK(cache_open(dir, "b", &m, &fd) == -2, "body gone");
	cache_drop(dir, "a");
	cache_drop(dir, "b");
	CHECK(cache_open(dir, "a", &m, &fd) == -1, "dropped");
	rmdir(dir);
	CHECK(cache_fresh(&m, m.stored + 999, 1000), "fresh");
	CHECK(!cache_fresh(&m, m.stored + 1000, 1000), "expired");
	CHECK(!cache_fresh(&m, m.stored - 1, 1000), "from the future");
}

/* The LRU plan: oldest first, down to 90 % of the cap, ties by key. */
static void
test_evict_plan(void)
{
	struct cache_entry v[5];
	static char names[5][8] = { "a", "b", "c", "d", "e" };
	static const int64_t used[5] = { 50, 10, 40, 20, 30 };
	size_t i, k;

	for (i = 0; i < 5; i++) {
		v[i].key = names[i];
		v[i].bytes = 100;
		v[i].used_ns = used[i];
	}
	CHECK(cache_evict_plan(v, 5, 500) == 0, "at the cap: nothing");
	k = cache_evict_plan(v, 5, 499);	/* goal 441: remove one */
	CHECK(k == 1 && strcmp(v[0].key, "b") == 0, "one: %zu %s", k,
	    v[0].key);
	k = cache_evict_plan(v, 5, 300);	/* goal 270: remove three */
	CHECK(k == 3 && strcmp(v[0].key, "b") == 0 &&
	    strcmp(v[1].key, "d") == 0 && strcmp(v[2].key, "e") == 0,
	    "three: %zu %s %s %s", k, v[0].key, v[1].key, v[2].key);
	CHECK(cache_evict_plan(v, 5, 50) == 5, "all");
	CHECK(cache_evict_plan(v, 0, 50) == 0, "none");
	v[1].used_ns = v[0].used_ns;	/* a tie: by key */
	k = cache_evict_plan(v, 5, 499);
	CHECK(k == 1 && strcmp(v[0].key, "b") == 0, "tie: %s", v[0].key);
}

static void
test_sum_line(void)
{
	struct cache_sum_line l;

	CHECK(cache_sum_line("github.com/a/b v1.2.3 h1:abc=\n", &l) == 1 &&
	    l.mod_len == 14 && strncmp(l.ver, "v1.2.3", l.ver_len) == 0 &&
	    l.ver_len == 6 && l.files == 7, "go.sum line");
	CHECK(cache_sum_line("github.com/a/b v1.2.3/go.mod h1:abc=\r\n", &l) ==
	    1 && l.ver_len == 6 && l.files == (CACHE_WANT_INFO |
	    CACHE_WANT_MOD), "go.sum /go.mod line");
	CHECK(cache_sum_line("golang.org/x/text@v0.3.0\n", &l) == 1 &&
	    l.mod_len == 17 && l.ver_len == 6 && l.files == 7, "mod@ver");
	CHECK(cache_sum_line("\n", &l) == 0, "blank");
	CHECK(cache_sum_line("  # comment\n", &l) == 0, "comment");
	CHECK(cache_sum_line("golang.org/x/text\n", &l) == -1, "no version");
	CHECK(cache_sum_line("@v1\n", &l) == -1, "no module");
	CHECK(cache_sum_line("a@\n", &l) == -1, "empty version");
}

int
main(void)
{
	test_sum_line();
	test_evict_plan();
	test_keys();
	test_key_safe();
	test_meta();
	test_open();
	return unit_done("cache");
}
