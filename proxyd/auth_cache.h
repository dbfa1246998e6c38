/*
 * auth_cache.h - one worker's cache of successful verifications, so a
 * client doing thousands of requests pays one bcrypt check.
 *
 * Keyed by SipHash-2-4 (two keys: 128 bits) of the credentials header
 * value under random keys of the worker's (the cache never holds a
 * password, nor a hash an attacker could check guesses against
 * offline); bounded (direct-mapped slots, a newer entry replaces an
 * older one); entries expire after
 * auth_cache_ttl and belong to one users file (auth_users.id): a reload
 * makes every older entry a miss, so a removed user is refused at once.
 */
#ifndef PROXYD_AUTH_CACHE_H
#define PROXYD_AUTH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_MAC_LEN	16

struct auth_cache;

/* An empty cache with a fresh random key; NULL on failure. */
struct auth_cache	*auth_cache_new(void);
void			 auth_cache_free(struct auth_cache *ac);

/* The keyed hash of the header value v[0..len). */
void	auth_cache_mac(const struct auth_cache *ac, const char *v,
	    size_t len, unsigned char mac[AUTH_MAC_LEN]);

/*
 * The user name cached for mac under users file id at time now (ms),
 * or NULL.  The name lives until the next auth_cache_put().
 */
const char	*auth_cache_get(struct auth_cache *ac,
		    const unsigned char mac[AUTH_MAC_LEN], uint64_t id,
		    int64_t now);

/* Remember that mac is user's, for file id, until now + ttl_ms. */
void	auth_cache_put(struct auth_cache *ac,
	    const unsigned char mac[AUTH_MAC_LEN], uint64_t id,
	    const char *user, int64_t now, int ttl_ms);

#endif /* PROXYD_AUTH_CACHE_H */
