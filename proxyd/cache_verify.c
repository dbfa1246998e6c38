/*
 * cache_verify.c - proxyd --cache-verify: check every entry of the
 * module cache against its metadata (size and SHA-256 of the whole
 * body), remove the bad ones, say what was found.
 *
 * It may run while daemons use the directory: an entry whose metadata
 * changed while its body was being read was replaced meanwhile and is
 * left alone; a whole body whose file identity changed (restored from a
 * backup, copied with cp -a) gets its metadata refreshed, so that the
 * daemons serve it again.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <openssl/evp.h>

#include "cache.h"
#include "cache_evict.h"
#include "cache_verify.h"
#include "config.h"

enum verdict { V_GOOD, V_REFRESHED, V_BAD, V_SKIPPED };

int
cache_hash_fd(int fd, uint64_t *size, unsigned char sha[32])
{
	unsigned char buf[65536];
	unsigned int len;
	EVP_MD_CTX *md;
	ssize_t n;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md, sha, &len);
	EVP_MD_CTX_free(md);
	return n < 0 ? -1 : 0;
}

/* The body as it is now goes into m's identity fields. */
static void
identity(const struct stat *sb, struct cache_meta *m)
{
	m->ino = (uint64_t)sb->st_ino;
	m->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	    sb->st_mtim.tv_nsec;
	m->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 +
	    sb->st_ctim.tv_nsec;
}

/* Check one entry; *why says what was wrong. */
static enum verdict
verify_one(const char *dir, const char *key, const char **why)
{
	struct cache_meta m, again, now;
	unsigned char sha[32];
	char path[4096];
	struct stat sb;
	uint64_t size;
	int fd, r;

	if ((r = cache_meta_read(dir, key, &m)) == -1)
		return V_SKIPPED;	/* removed meanwhile */
	*why = "unreadable metadata";
	if (r == -2)
		return V_BAD;
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	*why = "body missing";
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return cache_meta_read(dir, key, &again) == 0 &&
		    memcmp(&m, &again, sizeof(m)) == 0 ? V_BAD : V_SKIPPED;
	r = fstat(fd, &sb) == 0 ? cache_hash_fd(fd, &size, sha) : -1;
	close(fd);
	if (cache_meta_read(dir, key, &again) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		return V_SKIPPED;	/* replaced while it was read */
	*why = r == -1 ? "read error" : size != m.size ? "size differs" :
	    memcmp(sha, m.sha256, 32) != 0 ? "SHA-256 differs" : NULL;
	if (*why != NULL)
		return V_BAD;
	now = m;
	identity(&sb, &now);
	if (memcmp(&now, &m, sizeof(m)) == 0)
		return V_GOOD;
	*why = "whole, but not the file that was stored";
	return cache_meta_write(dir, key, &now) == 0 ? V_REFRESHED : V_BAD;
}

int
cache_verify_main(const struct config *cfg, FILE *out)
{
	struct cache_entry *v;
	size_t n, i, count[4] = { 0, 0, 0, 0 };
	const char *why;
	enum verdict r;

	if (cfg->cache_dir == NULL) {
		fprintf(out, "proxyd: --cache-verify: no cache_dir in the "
		    "configuration\n");
		return 2;
	}
	if (cache_walk(cfg->cache_dir, &v, &n) == -1) {
		fprintf(out, "proxyd: --cache-verify: out of memory\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		why = NULL;
		r = verify_one(cfg->cache_dir, v[i].key, &why);
		count[r]++;
		if (r == V_BAD) {
			cache_drop(cfg->cache_dir, v[i].key);
			fprintf(out, "removed %s: %s\n", v[i].key, why);
		} else if (r == V_REFRESHED)
			fprintf(out, "kept %s: %s (metadata refreshed)\n",
			    v[i].key, why);
	}
	cache_entries_free(v, n);
	fprintf(out, "%s: %zu entries: %zu good, %zu refreshed, %zu removed, "
	    "%zu changed during the check\n", cfg->cache_dir, n, count[V_GOOD],
	    count[V_REFRESHED], count[V_BAD], count[V_SKIPPED]);
	return count[V_BAD] ? 1 : 0;
}
