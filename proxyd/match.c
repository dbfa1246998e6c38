/*
 * match.c - CIDR blocks and port ranges (see match.h).
 *
 * Addresses are compared as raw network-order bytes.  IPv4 is canonical:
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d), whether it is a client
 * address from a dual-stack socket or a CIDR written that way, is turned
 * into the IPv4 address it carries, so "10.0.0.0/8" and
 * "::ffff:10.0.0.0/104" mean the same thing and both match either form.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "match.h"

/* Longest CIDR text: an IPv6 address with an embedded IPv4 part, "/128". */
#define CIDR_TEXT_MAX	(INET6_ADDRSTRLEN + 4)

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * Parse all of s[0..len) as a decimal number no greater than max.
 * -1 if it is empty, holds anything but digits, or is too large.
 * max must be small enough that max * 10 + 9 fits in an unsigned long.
 */
static int
parse_decimal(const char *s, size_t len, unsigned long max, unsigned long *v)
{
	unsigned long	n = 0;
	size_t		i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (unsigned long)(s[i] - '0');
		if (n > max)
			return -1;
	}
	*v = n;
	return 0;
}

static int
is_v4mapped(const uint8_t *a)
{
	return memcmp(a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

/* Zero every bit of addr[0..nbytes) past the first prefix bits. */
static void
clear_host_bits(uint8_t *addr, size_t nbytes, int prefix)
{
	size_t	i;
	int	bits;

	for (i = 0; i < nbytes; i++) {
		bits = prefix - (int)i * 8;
		if (bits <= 0)
			addr[i] = 0;
		else if (bits < 8)
			addr[i] &= (uint8_t)(0xff << (8 - bits));
	}
}

/*
 * Do the first prefix bits of a and b agree?
 */
static int
prefix_equal(const uint8_t *a, const uint8_t *b, int prefix)
{
	size_t	full = (size_t)prefix / 8;
	int	rest = prefix % 8;
	uint8_t	mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] ^ b[full]) & mask) == 0;
}

/*
 * Turn a CIDR inside ::ffff:0:0/96 into the IPv4 CIDR it denotes, so that
 * it is compared with IPv4 clients, which is what its author meant.
 */
static void
unmap_cidr(struct cidr *c)
{
	if (c->family != AF_INET6 || c->prefix < 96 || !is_v4mapped(c->addr))
		return;
	c->family = AF_INET;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, sizeof(c->addr) - 4);
	c->prefix -= 96;
}

int
cidr_parse(const char *s, size_t len, struct cidr *c)
{
	char		 buf[CIDR_TEXT_MAX + 1];
	const char	*slash;
	struct cidr	 n;
	unsigned long	 prefix, maxprefix;
	size_t		 alen;

	/* inet_pton() stops at a NUL we were not told about. */
	if (len > CIDR_TEXT_MAX || memchr(s, '\0', len) != NULL)
		return -1;
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	memset(&n, 0, sizeof(n));
	if (inet_pton(AF_INET, buf, n.addr) == 1) {
		n.family = AF_INET;
		maxprefix = 32;
	} else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
		n.family = AF_INET6;
		maxprefix = 128;
	} else
		return -1;

	prefix = maxprefix;
	if (slash != NULL &&
	    parse_decimal(slash + 1, len - alen - 1, maxprefix, &prefix) == -1)
		return -1;
	n.prefix = (int)prefix;
	unmap_cidr(&n);
	clear_host_bits(n.addr, sizeof(n.addr), n.prefix);
	*c = n;
	return 0;
}

/*
 * Copy the address of sa to addr and return its family, AF_INET for an
 * IPv4-mapped IPv6 address; -1 for families that have no place in an ACL.
 */
static int
sockaddr_bytes(const struct sockaddr *sa, uint8_t addr[16])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(addr, &sin->sin_addr, 4);
		return AF_INET;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (is_v4mapped(sin6->sin6_addr.s6_addr)) {
			memcpy(addr, sin6->sin6_addr.s6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(addr, sin6->sin6_addr.s6_addr, 16);
		return AF_INET6;
	default:
		return -1;
	}
}

int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	uint8_t	addr[16];

	if (sa == NULL || sockaddr_bytes(sa, addr) != c->family)
		return 0;
	return prefix_equal(addr, c->addr, c->prefix);
}

int
cidr_match_any(const struct cidr *cs, size_t n, const struct sockaddr *sa)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (cidr_match(&cs[i], sa))
			return 1;
	return 0;
}

int
port_range_parse(const char *s, size_t len, struct port_range *r)
{
	const char	*dash;
	unsigned long	 lo, hi;
	size_t		 lolen;

	dash = memchr(s, '-', len);
	lolen = dash != NULL ? (size_t)(dash - s) : len;
	if (parse_decimal(s, lolen, 65535, &lo) == -1)
		return -1;
	hi = lo;
	if (dash != NULL &&
	    parse_decimal(dash + 1, len - lolen - 1, 65535, &hi) == -1)
		return -1;
	if (lo == 0 || lo > hi)
		return -1;
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}

int
port_range_match_any(const struct port_range *rs, size_t n, uint16_t port)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (port >= rs[i].lo && port <= rs[i].hi)
			return 1;
	return 0;
}
