/*
 * addr.c - host and address text: HOST:PORT split and formatted, IP
 * literals, socket addresses as text, FNV-1a and hex digits.  See
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

int
addr_format(char *buf, size_t size, const char *host, uint16_t port,
    uint16_t defport)
{
	int	v6 = strchr(host, ':') != NULL && host[0] != '[';

	if (defport != 0 && port == defport)
		return snprintf(buf, size, "%s%s%s", v6 ? "[" : "", host,
		    v6 ? "]" : "");
	return snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", host,
	    v6 ? "]" : "", (unsigned)port);
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
