/*
 * auth_cache.c - a worker's successful verifications (see auth_cache.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth.h"
#include "auth_cache.h"
#include "siphash.h"

#define CACHE_SLOTS	4096	/* a power of 2 */

struct cache_slot {
	unsigned char	 mac[AUTH_MAC_LEN];
	uint64_t	 id;		/* the users file it was checked on */
	int64_t		 expires;	/* ms; 0: empty */
	char		*user;
};

struct auth_cache {
	uint64_t		key[4];		/* two SipHash keys */
	struct cache_slot	slots[CACHE_SLOTS];
};

struct auth_cache *
auth_cache_new(void)
{
	struct auth_cache	*ac;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return NULL;
	if (getrandom(ac->key, sizeof(ac->key), 0) != sizeof(ac->key)) {
		free(ac);
		return NULL;
	}
	return ac;
}

void
auth_cache_free(struct auth_cache *ac)
{
	size_t	i;

	if (ac == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		free(ac->slots[i].user);
	explicit_bzero(ac->key, sizeof(ac->key));
	free(ac);
}

void
auth_cache_mac(const struct auth_cache *ac, const char *v, size_t len,
    unsigned char mac[AUTH_MAC_LEN])
{
	uint64_t	h[2];

	/* SipHash-2-4, a PRF made for keyed tables (HMAC-SHA256 through
	 * OpenSSL 3 costs tens of microseconds a call); two independent
	 * keys: 128 bits to match on. */
	h[0] = siphash(ac->key, v, len, 2, 4);
	h[1] = siphash(ac->key + 2, v, len, 2, 4);
	memset(mac, 0, AUTH_MAC_LEN);
	memcpy(mac, h, sizeof(h));
}

static struct cache_slot *
slot_of(struct auth_cache *ac, const unsigned char mac[AUTH_MAC_LEN])
{
	size_t	i;

	memcpy(&i, mac, sizeof(i));	/* a keyed hash: uniform */
	return &ac->slots[i & (CACHE_SLOTS - 1)];
}

const char *
auth_cache_get(struct auth_cache *ac, const unsigned char mac[AUTH_MAC_LEN],
    uint64_t id, int64_t now)
{
	struct cache_slot	*s = slot_of(ac, mac);

	if (s->expires <= now || s->id != id ||
	    memcmp(s->mac, mac, AUTH_MAC_LEN) != 0)
		return NULL;
	return s->user;
}

void
auth_cache_put(struct auth_cache *ac, const unsigned char mac[AUTH_MAC_LEN],
    uint64_t id, const char *user, int64_t now, int ttl_ms)
{
	struct cache_slot	*s = slot_of(ac, mac);
	char			*u;

	if (ttl_ms <= 0 || (u = strdup(user)) == NULL)
		return;
	free(s->user);
	s->user = u;
	memcpy(s->mac, mac, AUTH_MAC_LEN);
	s->id = id;
	s->expires = now + ttl_ms;
}
