/*
 * auth_cache.c - a worker's successful verifications (see auth_cache.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth.h"
#include "auth_cache.h"

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

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/*
 * SipHash-2-4 (Aumasson and Bernstein), a PRF made for keyed hash
 * tables: HMAC-SHA256 through OpenSSL 3 costs tens of microseconds a
 * call (a provider fetch each time), which a keep-alive client would
 * pay on every request.
 */
static uint64_t
siphash(const uint64_t k[2], const unsigned char *in, size_t len)
{
	uint64_t	v0 = k[0] ^ 0x736f6d6570736575ULL;
	uint64_t	v1 = k[1] ^ 0x646f72616e646f6dULL;
	uint64_t	v2 = k[0] ^ 0x6c7967656e657261ULL;
	uint64_t	v3 = k[1] ^ 0x7465646279746573ULL;
	uint64_t	m, b = (uint64_t)len << 56;
	size_t		i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, in + i, 8);	/* little-endian hosts */
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (; left > 0; left--)
		b |= (uint64_t)in[i + left - 1] << (8 * (left - 1));
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void
auth_cache_mac(const struct auth_cache *ac, const char *v, size_t len,
    unsigned char mac[AUTH_MAC_LEN])
{
	uint64_t	h[2];

	/* Two independent keys: 128 bits to match on. */
	h[0] = siphash(ac->key, (const unsigned char *)v, len);
	h[1] = siphash(ac->key + 2, (const unsigned char *)v, len);
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
