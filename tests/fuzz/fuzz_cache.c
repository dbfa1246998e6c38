/*
 * fuzz_cache.c - libFuzzer target for the module cache's parsers:
 * cache_meta_parse() (the metadata files on disk, which an operator or
 * another process may have left in any state), the request path to
 * cache key mapping (goproxy_parse() then cache_key()), and the go.sum
 * line parser of --cache-fill (cache_sum_line()).
 *
 * Properties, besides what ASan and UBSan catch:
 * - metadata that parses formats and parses again to the same fields;
 * - a key, when there is one, is safe (cache_key_safe), relative, with
 *   no "." or ".." element, and fits its buffer with ".meta" appended;
 * - a go.sum line's module and version lie inside the line, are not
 *   empty where it says 1, and want .info and .mod at least.
 *
 * Build (see README.md):
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iproxyd \
 *	    tests/fuzz/fuzz_cache.c proxyd/cache.c proxyd/goproxy.c \
 *	    -o fuzz_cache
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "goproxy.h"

static void
fuzz_meta(const uint8_t *data, size_t size)
{
	struct cache_meta m, back;
	char text[2048];
	char *copy;
	int n;

	if ((copy = malloc(size ? size : 1)) == NULL)
		return;
	memcpy(copy, data, size);
	if (cache_meta_parse(copy, size, &m) == 0) {
		n = cache_meta_format(&m, text, sizeof(text));
		if (n < 0 || cache_meta_parse(text, (size_t)n, &back) != 0 ||
		    memcmp(&m, &back, sizeof(m)) != 0)
			abort();
	}
	free(copy);
}

static void
fuzz_key(const uint8_t *data, size_t size)
{
	static struct goproxy_req g;
	char key[CACHE_KEY_MAX];
	const char *reason;
	char *copy;
	int status;

	if ((copy = malloc(size ? size : 1)) == NULL)
		return;
	memcpy(copy, data, size);
	if (goproxy_parse(copy, size, &g, &status, &reason, NULL, 0) == 0 &&
	    cache_key(&g, key, sizeof(key)) == 0) {
		if (!cache_key_safe(key) || key[0] == '/' ||
		    strstr(key, "/../") || strstr(key, "/./") ||
		    strlen(key) + sizeof(".meta") > sizeof(key))
			abort();
	}
	free(copy);
}

static void
fuzz_sum_line(const uint8_t *data, size_t size)
{
	struct cache_sum_line l;
	char *line;

	if ((line = malloc(size + 1)) == NULL)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	if (cache_sum_line(line, &l) == 1 &&
	    (l.mod < line || l.mod + l.mod_len > line + size ||
	    l.ver < line || l.ver + l.ver_len > line + size ||
	    l.mod_len == 0 || l.ver_len == 0 ||
	    (l.files & (CACHE_WANT_INFO | CACHE_WANT_MOD)) !=
	    (CACHE_WANT_INFO | CACHE_WANT_MOD)))
		abort();
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_meta(data, size);
	fuzz_key(data, size);
	fuzz_sum_line(data, size);
	return 0;
}
