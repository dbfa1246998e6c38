/*
 * siphash.h - SipHash (Aumasson and Bernstein), the keyed hash for tables
 * whose keys come from clients (addresses, credentials): one copy of the
 * rounds for every user.  Pure.
 */
#ifndef PROXYD_SIPHASH_H
#define PROXYD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * SipHash-c-d of in[0..len) under the 128-bit key k: c rounds per block,
 * d finalization rounds (2-4 is the standard PRF; 1-3 is the faster
 * variant for hash tables).  Blocks are read in host order (little-endian
 * hosts give the reference values).
 */
uint64_t	siphash(const uint64_t k[2], const void *in, size_t len, int c,
		    int d);

#endif /* PROXYD_SIPHASH_H */
