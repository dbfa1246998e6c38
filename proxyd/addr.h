/*
 * addr.h - host and address text, one copy for the whole daemon:
 * splitting and formatting HOST:PORT (IPv6 in brackets), telling IP
 * literals from names, socket addresses as text, and the two helpers
 * every table of host names and every %XX decoder needs (FNV-1a and the
 * value of a hex digit).
 *
 * Pure: no event loop, no allocation, no global state, so it lives in
 * libproxyd.a and is unit tested on its own (tests/unit/test_addr.c).
 *
 * Zone ids ("fe80::1%eth0", "%25eth0" in URLs) are not IP literals
 * here: inet_pton() refuses them, and a scope only means something on
 * the host that wrote it, not in a rules file or a client's request.
 */
#ifndef PROXYD_ADDR_H
#define PROXYD_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* HOST[:PORT] split: pointers into the text that was split. */
struct addr_hostport {
	const char	*host;		/* without the brackets */
	size_t		 hostlen;	/* at least 1 */
	uint16_t	 port;		/* 1..65535 */
	int		 bracketed;	/* written as [v6] */
};

/*
 * Split s[0..len) as HOST:PORT or [IPV6]:PORT into *hp.  The port is 1
 * to 65535 in decimal digits; it may be left out (with its colon) when
 * defport is not 0, and then is defport.  Brackets hold exactly an IPv6
 * address (a v4-mapped one too); an unbracketed HOST holds no ':', '['
 * or ']', so "::1:80" is refused rather than guessed at.  The HOST is
 * not checked further: whether a name is acceptable is the caller's
 * business.  Returns 0, or -1 (hp unspecified) when s is not that.
 */
int		addr_split(const char *s, size_t len, uint16_t defport,
		    struct addr_hostport *hp);

/*
 * "HOST:PORT" into buf[0..size), HOST in brackets if it holds a ':'
 * (an IPv6 literal) and is not bracketed already; ":PORT" is left out
 * when defport is not 0 and port equals it.  Returns what snprintf()
 * does: the length of the whole text, so >= size means truncated.
 */
int		addr_format(char *buf, size_t size, const char *host,
		    uint16_t port, uint16_t defport);

/*
 * Is s[0..len) an IPv4 address (dotted quad) or an IPv6 address,
 * without brackets?  AF_INET or AF_INET6, with the address in network
 * byte order in out (4 or 16 bytes) unless out is NULL; 0 for anything
 * else, names, zone ids and embedded NULs included.
 */
int		addr_ip_literal(const char *s, size_t len, void *out);

/*
 * "a.b.c.d:port", "[v6]:port" (a v4-mapped address stays in its IPv6
 * form, as the socket has it) or "unix" into buf[0..len), truncated to
 * fit.  The name and signature are proxyd.h's, which declares it too.
 */
void		sockaddr_text(const struct sockaddr *sa, char *buf,
		    size_t len);

/* The 32-bit FNV-1a hash of s[0..len): cheap and good for short keys. */
uint32_t	addr_fnv1a(const void *s, size_t len);

/* The value of hex digit c (either case), or -1. */
int		addr_hex_value(int c);

#endif /* PROXYD_ADDR_H */
