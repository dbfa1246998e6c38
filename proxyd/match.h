/*
 * match.h - address and port matchers used by the config and the ACL:
 * CIDR blocks (IPv4 and IPv6) and port ranges.  Pure functions, no state.
 * (The NO_PROXY host, module-glob and PCRE2 matchers of the rules issue
 * live here too once they exist.)
 */
#ifndef PROXYD_MATCH_H
#define PROXYD_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	int	family;		/* AF_INET or AF_INET6 */
	uint8_t	addr[16];	/* network byte order, host bits cleared */
	int	prefix;		/* 0..32 or 0..128 */
};

struct port_range {
	uint16_t	lo;
	uint16_t	hi;	/* inclusive */
};

/*
 * Parse "a.b.c.d[/n]" or "v6[/n]" (a bare address is a /32 or /128).
 * Returns 0, or -1 when s[0..len) is not a CIDR.
 */
int	cidr_parse(const char *s, size_t len, struct cidr *c);

/*
 * Does sa fall inside c?  An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is matched as the IPv4 address it carries.
 */
int	cidr_match(const struct cidr *c, const struct sockaddr *sa);

/* Does sa fall inside any of cs[0..n)? */
int	cidr_match_any(const struct cidr *cs, size_t n,
	    const struct sockaddr *sa);

/* Parse "443" or "1024-65535".  0, or -1 when invalid (0 is invalid). */
int	port_range_parse(const char *s, size_t len, struct port_range *r);

/* Is port inside any of rs[0..n)? */
int	port_range_match_any(const struct port_range *rs, size_t n,
	    uint16_t port);

#endif /* PROXYD_MATCH_H */
