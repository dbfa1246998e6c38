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
 * Copy the text src into dst[0..size), cut to fit and NUL-terminated
 * (strlcpy); returns strlen(src), so >= size means it was cut.
 */
size_t		addr_copy(char *dst, size_t size, const char *src);

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

/*
 * Address classes (addr_classify()), bits of one mask: an address may be
 * in several (169.254.169.254 is link-local and metadata).
 */
#define ADDR_LOOPBACK	0x01u	/* 127.0.0.0/8, ::1 */
#define ADDR_PRIVATE	0x02u	/* RFC 1918, fc00::/7 */
#define ADDR_LINKLOCAL	0x04u	/* 169.254.0.0/16, fe80::/10 */
#define ADDR_METADATA	0x08u	/* 169.254.169.254, fd00:ec2::254 */
#define ADDR_UNSPEC	0x10u	/* 0.0.0.0/8 ("this network"), :: */
#define ADDR_MULTICAST	0x20u	/* 224.0.0.0/4, ff00::/8 */
#define ADDR_BROADCAST	0x40u	/* 255.255.255.255 */
#define ADDR_CGNAT	0x80u	/* 100.64.0.0/10 (RFC 6598) */
#define ADDR_NCLASSES	8

/*
 * The classes of the address a (network byte order, 4 bytes for
 * AF_INET, 16 for AF_INET6).  An IPv6 address that carries an IPv4 one
 * (v4-mapped ::ffff:0:0/96, v4-compatible ::/96 but :: and ::1, 6to4
 * 2002::/16, NAT64 64:ff9b::/96) also has the embedded address's
 * classes, because a connection to it may well end there.  0: none of
 * them (a public address).
 */
unsigned	addr_classify(int family, const uint8_t *a);

/*
 * The IPv4 address an IPv6 one embeds (the forms above) into v4;
 * 1, or 0 when it embeds none.
 */
int		addr_embedded_v4(const uint8_t a6[16], uint8_t v4[4]);

/* "loopback", "private", "link-local", ... for one class bit; "?" else. */
const char	*addr_class_name(unsigned bit);

/* The 32-bit FNV-1a hash of s[0..len): cheap and good for short keys. */
uint32_t	addr_fnv1a(const void *s, size_t len);

/* The value of hex digit c (either case), or -1. */
int		addr_hex_value(int c);

#endif /* PROXYD_ADDR_H */
