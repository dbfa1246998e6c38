/*
 * addr.c - host and address text: HOST:PORT split and formatted, IP
 * literals, socket addresses as text, address classes (the destination
 * policy's vocabulary), FNV-1a and hex digits.  See
 * addr.h for the contracts; everything here is pure.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/*
 * s[0..len) as a port, 1 to 65535, decimal digits only (no sign, no
 * white space: a port is never written with them).  0 for anything else.
 */
static uint16_t
port_value(const char *s, size_t len)
{
	unsigned long	n = 0;
	size_t		i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		/* Stop before it can overflow: "99999999999999999999". */
		if ((n = n * 10 + (unsigned long)(s[i] - '0')) > 65535)
			return 0;
	}
	return (uint16_t)n;
}

/*
 * "[v6]" at the start of s[0..len): the address inside into hp; returns
 * what follows the ']', or NULL when there is no ']' or no IPv6 address
 * between the brackets.
 */
static const char *
split_bracketed(const char *s, size_t len, struct addr_hostport *hp)
{
	const char	*close = memchr(s, ']', len);

	if (close == NULL ||
	    addr_ip_literal(s + 1, (size_t)(close - s - 1), NULL) != AF_INET6)
		return NULL;
	hp->host = s + 1;
	hp->hostlen = (size_t)(close - s - 1);
	hp->bracketed = 1;
	return close + 1;
}

/*
 * A host without brackets at the start of s[0..len): into hp; returns
 * its ':' or the end.  NULL if it is empty or holds a bracket, or a
 * second ':' follows (an IPv6 address written without brackets).
 */
static const char *
split_plain(const char *s, size_t len, struct addr_hostport *hp)
{
	const char	*end = s + len, *colon = memchr(s, ':', len);

	if (colon == NULL)
		colon = end;
	if (colon == s || memchr(s, '[', len) != NULL ||
	    memchr(s, ']', len) != NULL ||
	    (colon < end && memchr(colon + 1, ':', (size_t)(end - colon - 1))
	    != NULL))
		return NULL;
	hp->host = s;
	hp->hostlen = (size_t)(colon - s);
	hp->bracketed = 0;
	return colon;
}

int
addr_split(const char *s, size_t len, uint16_t defport,
    struct addr_hostport *hp)
{
	const char	*end = s + len, *rest;

	if (len == 0)
		return -1;
	rest = s[0] == '[' ? split_bracketed(s, len, hp) :
	    split_plain(s, len, hp);
	if (rest == NULL)
		return -1;
	if (rest == end) {
		hp->port = defport;
		return defport != 0 ? 0 : -1;
	}
	if (*rest != ':')
		return -1;	/* "[::1]x" */
	hp->port = port_value(rest + 1, (size_t)(end - rest - 1));
	return hp->port != 0 ? 0 : -1;
}

/*
 * Append s[0..n) at buf[*off] as far as it fits in size (keeping room
 * for the NUL); *off counts the whole text, as snprintf() does.
 */
static void
text_put(char *buf, size_t size, size_t *off, const char *s, size_t n)
{
	size_t	room = *off + 1 < size ? size - *off - 1 : 0;

	if (room > 0)
		memcpy(buf + *off, s, n < room ? n : room);
	*off += n;
}

int
addr_format(char *buf, size_t size, const char *host, uint16_t port,
    uint16_t defport)
{
	int	 v6 = strchr(host, ':') != NULL && host[0] != '[';
	char	 digits[6], *d = digits + sizeof(digits);
	unsigned p = port;
	size_t	 off = 0;

	/* No snprintf: this runs for every forwarded request. */
	if (v6)
		text_put(buf, size, &off, "[", 1);
	text_put(buf, size, &off, host, strlen(host));
	if (v6)
		text_put(buf, size, &off, "]", 1);
	if (defport == 0 || port != defport) {
		do
			*--d = (char)('0' + p % 10);
		while ((p /= 10) != 0);
		*--d = ':';
		text_put(buf, size, &off, d, (size_t)(digits +
		    sizeof(digits) - d));
	}
	if (size > 0)
		buf[off < size ? off : size - 1] = '\0';
	return (int)off;
}

size_t
addr_copy(char *dst, size_t size, const char *src)
{
	size_t	len = strlen(src);

	if (size == 0)
		return len;
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
	} else {
		memcpy(dst, src, len + 1);
	}
	return len;
}

int
addr_ip_literal(const char *s, size_t len, void *out)
{
	char		buf[INET6_ADDRSTRLEN];
	unsigned char	scratch[sizeof(struct in6_addr)];

	/* inet_pton() wants a C string; a NUL inside would cut it short. */
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (out == NULL)
		out = scratch;
	if (inet_pton(AF_INET, buf, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, buf, out) == 1)
		return AF_INET6;
	return 0;
}

void
sockaddr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in	*in = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*in6 = (const struct sockaddr_in6 *)sa;
	char				 addr[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(buf, len, "%s:%u", addr, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, len, "[%s]:%u", addr, ntohs(in6->sin6_port));
	} else
		snprintf(buf, len, "unix");
}

uint32_t
addr_fnv1a(const void *s, size_t len)
{
	const unsigned char	*p = s;
	uint32_t		 h = 2166136261u;

	while (len-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

int
addr_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Classes of an IPv4 address; a is 4 bytes, network order. */
static unsigned
classify_v4(const uint8_t *a)
{
	unsigned c = 0;

	if (a[0] == 0)
		c |= ADDR_UNSPEC;
	if (a[0] == 127)
		c |= ADDR_LOOPBACK;
	if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168))
		c |= ADDR_PRIVATE;
	if (a[0] == 169 && a[1] == 254)
		c |= ADDR_LINKLOCAL;
	if (a[0] == 169 && a[1] == 254 && a[2] == 169 && a[3] == 254)
		c |= ADDR_METADATA;
	if ((a[0] & 0xf0) == 224)
		c |= ADDR_MULTICAST;
	if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
		c |= ADDR_BROADCAST;
	if (a[0] == 100 && (a[1] & 0xc0) == 64)
		c |= ADDR_CGNAT;
	return c;
}

/* Are a[from..to) all zero? */
static int
zeros(const uint8_t *a, int from, int to)
{
	for (; from < to; from++)
		if (a[from] != 0)
			return 0;
	return 1;
}

int
addr_embedded_v4(const uint8_t a6[16], uint8_t v4[4])
{
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (zeros(a6, 0, 10) && a6[10] == 0xff && a6[11] == 0xff) {
		memcpy(v4, a6 + 12, 4);		/* ::ffff:a.b.c.d */
		return 1;
	}
	if (zeros(a6, 0, 12) && !zeros(a6, 12, 15)) {
		memcpy(v4, a6 + 12, 4);		/* ::a.b.c.d, not ::1 or :: */
		return 1;
	}
	if (a6[0] == 0x20 && a6[1] == 0x02) {
		memcpy(v4, a6 + 2, 4);		/* 6to4 2002:AABB:CCDD:: */
		return 1;
	}
	if (memcmp(a6, nat64, sizeof(nat64)) == 0) {
		memcpy(v4, a6 + 12, 4);		/* NAT64 64:ff9b::a.b.c.d */
		return 1;
	}
	return 0;
}

/* Classes of an IPv6 address itself, embeddings aside. */
static unsigned
classify_v6(const uint8_t *a)
{
	static const uint8_t ec2[16] = { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0x02, 0x54 };
	unsigned c = 0;

	if (zeros(a, 0, 16))
		c |= ADDR_UNSPEC;
	if (zeros(a, 0, 15) && a[15] == 1)
		c |= ADDR_LOOPBACK;
	if ((a[0] & 0xfe) == 0xfc)
		c |= ADDR_PRIVATE;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		c |= ADDR_LINKLOCAL;
	if (memcmp(a, ec2, 16) == 0)
		c |= ADDR_METADATA;
	if (a[0] == 0xff)
		c |= ADDR_MULTICAST;
	return c;
}

unsigned
addr_classify(int family, const uint8_t *a)
{
	uint8_t v4[4];
	unsigned c;

	if (family == AF_INET)
		return classify_v4(a);
	if (family != AF_INET6)
		return 0;
	c = classify_v6(a);
	if (addr_embedded_v4(a, v4))
		c |= classify_v4(v4);
	return c;
}

const char *
addr_class_name(unsigned bit)
{
	static const char *const names[ADDR_NCLASSES] = { "loopback",
	    "private", "link-local", "a cloud metadata address",
	    "unspecified", "multicast", "broadcast", "cgnat" };
	int i;

	for (i = 0; i < ADDR_NCLASSES; i++)
		if (bit == (1u << i))
			return names[i];
	return "?";
}
