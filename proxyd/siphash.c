/*
 * siphash.c - SipHash-c-d, see siphash.h.
 */
#include <string.h>

#include "siphash.h"

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
sip_rounds(uint64_t v[4], int n)
{
	while (n-- > 0) {
		v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0];
		v[0] = rotl(v[0], 32);
		v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
		v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
		v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2];
		v[2] = rotl(v[2], 32);
	}
}

/* Mix one 8-byte block m into the state. */
static inline void
sip_block(uint64_t v[4], uint64_t m, int c)
{
	v[3] ^= m;
	sip_rounds(v, c);
	v[0] ^= m;
}

uint64_t
siphash(const uint64_t k[2], const void *in, size_t len, int c, int d)
{
	const unsigned char *p = in;
	uint64_t v[4], m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;

	v[0] = k[0] ^ UINT64_C(0x736f6d6570736575);
	v[1] = k[1] ^ UINT64_C(0x646f72616e646f6d);
	v[2] = k[0] ^ UINT64_C(0x6c7967656e657261);
	v[3] = k[1] ^ UINT64_C(0x7465646279746573);
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		sip_block(v, m, c);
	}
	for (; left > 0; left--)
		b |= (uint64_t)p[i + left - 1] << (8 * (left - 1));
	sip_block(v, b, c);
	v[2] ^= 0xff;
	sip_rounds(v, d);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
