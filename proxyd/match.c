/*
 * match.c - CIDR blocks, port ranges, host lists, module globs and
 * regexes (see match.h).
 *
 * Addresses are compared as raw network-order bytes.  IPv4 is canonical:
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d), whether it is a client
 * address from a dual-stack socket or a CIDR written that way, is turned
 * into the IPv4 address it carries, so "10.0.0.0/8" and
 * "::ffff:10.0.0.0/104" mean the same thing and both match either form.
 */
#define PCRE2_CODE_UNIT_WIDTH	8

#include <arpa/inet.h>
#include <netinet/in.h>

#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Is addr, of the given family (canonical: never IPv4-mapped), in c? */
static int
cidr_contains(const struct cidr *c, int family, const uint8_t *addr)
{
	return family == c->family && prefix_equal(addr, c->addr, c->prefix);
}

int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	uint8_t	addr[16];

	if (sa == NULL)
		return 0;
	return cidr_contains(c, sockaddr_bytes(sa, addr), addr);
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

/*
 * Host lists, module globs and regexes report errors to a caller's
 * buffer, which is the only place they have to say anything.
 */
static void	set_err(char *err, size_t errlen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Format a message into err[0..errlen), if the caller gave room for it. */
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* How much of an offending entry of len bytes a message quotes. */
static int
quote_len(size_t len)
{
	return len > 200 ? 200 : (int)len;
}

/* White space as Go's strings.TrimSpace sees it, ASCII part. */
static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

/* ASCII only: the locale must not change what a host name is. */
static char
to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Return s[0..*len) without white space at either end, updating *len. */
static const char *
trim_space(const char *s, size_t *len)
{
	while (*len > 0 && is_space(s[0])) {
		s++;
		(*len)--;
	}
	while (*len > 0 && is_space(s[*len - 1]))
		(*len)--;
	return s;
}

/* Number of comma-separated pieces of s: an upper bound on its entries. */
static size_t
count_pieces(const char *s)
{
	size_t	n = 1;

	for (; *s != '\0'; s++)
		if (*s == ',')
			n++;
	return n;
}

/*
 * Host lists.
 *
 * Each entry is an address (an IP is kept as a /32 or /128, so that
 * cidr_contains() does both Go's ipMatch and its cidrMatch, IPv4-mapped
 * addresses included) or a domain name, with an optional port.
 */
struct host_pattern {
	char		*name;		/* domain entry; NULL: address entry */
	size_t		 len;		/* of name */
	int		 subdomains_only;
	struct cidr	 cidr;		/* address entry */
	uint16_t	 port;		/* 0: any */
};

/*
 * Parse the port of an entry: 1..65535 without leading zeros.  Go compares
 * ports as text, so "080" or "0" would never match a destination port.
 */
static int
parse_entry_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long	v;

	if (len == 0 || s[0] == '0' || parse_decimal(s, len, 65535, &v) == -1)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Split entry e[0..len) into host and port where Go's net.SplitHostPort
 * would: "[host]:port", or "host:port" with a single colon.  Anything else
 * without brackets (no colon, or an IPv6 address) is all host, *port
 * NULL.  -1 for the bracketed forms SplitHostPort refuses: Go keeps those
 * as domain entries that cannot match.
 */
static int
split_host_port(const char *e, size_t len, const char **host, size_t *hlen,
    const char **port, size_t *plen)
{
	const char	*colon, *close;

	*port = NULL;
	*plen = 0;
	if (e[0] == '[') {
		close = memchr(e, ']', len);
		if (close == NULL || (size_t)(close - e) + 1 == len ||
		    close[1] != ':')
			return -1;
		*host = e + 1;
		*hlen = (size_t)(close - e) - 1;
		*port = close + 2;
		*plen = len - (size_t)(close - e) - 2;
		return 0;
	}
	*host = e;
	*hlen = len;
	colon = memchr(e, ':', len);
	if (colon == NULL ||
	    memchr(colon + 1, ':', len - (size_t)(colon - e) - 1) != NULL)
		return 0;
	*hlen = (size_t)(colon - e);
	*port = colon + 1;
	*plen = len - *hlen - 1;
	return 0;
}

/*
 * Is h[0..len) a lowercase domain name we accept: labels of [a-z0-9_-],
 * none empty?  Anything else (IDNs included: Go would punycode them) is
 * refused rather than kept as an entry that silently never matches.
 */
static int
valid_domain(const char *h, size_t len)
{
	size_t	i;

	if (len == 0 || h[0] == '.' || h[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (h[i] == '.' && h[i + 1] == '.')
			return 0;
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= '0' && h[i] <= '9') ||
		    h[i] == '.' || h[i] == '-' || h[i] == '_'))
			return 0;
	}
	return 1;
}

/*
 * Make p a domain entry for lowercase h[0..len), as Go does: "*.x" is
 * ".x", and ".x" matches subdomains only.  We also drop a trailing dot.
 * -1 if it is no domain name, -2 out of memory.
 */
static int
domain_entry(const char *h, size_t len, struct host_pattern *p)
{
	if (len >= 2 && h[0] == '*' && h[1] == '.') {
		h++;
		len--;
	}
	if (len > 0 && h[0] == '.') {
		p->subdomains_only = 1;
		h++;
		len--;
	}
	if (len > 0 && h[len - 1] == '.')
		len--;
	if (!valid_domain(h, len))
		return -1;
	if ((p->name = malloc(len + 1)) == NULL)
		return -2;
	memcpy(p->name, h, len);
	p->name[len] = '\0';
	p->len = len;
	return 0;
}

/*
 * Parse the host (not "*", no '/') and port of lowercase entry e[0..len)
 * into p.  0, or -1 with a message in err.
 */
static int
parse_host_entry(const char *e, size_t len, struct host_pattern *p,
    char *err, size_t errlen)
{
	const char	*host, *port;
	size_t		 hlen, plen;
	int		 rc;

	if (split_host_port(e, len, &host, &hlen, &port, &plen) == -1)
		goto bad_host;
	if (hlen == 0) {
		set_err(err, errlen, "missing host in \"%.*s\"",
		    quote_len(len), e);
		return -1;
	}
	if (port != NULL && parse_entry_port(port, plen, &p->port) == -1) {
		set_err(err, errlen, "bad port in \"%.*s\"", quote_len(len), e);
		return -1;
	}
	if (cidr_parse(host, hlen, &p->cidr) == 0)
		return 0;
	if (e[0] == '[' || (rc = domain_entry(host, hlen, p)) == -1)
		goto bad_host;
	if (rc == -2) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;

bad_host:
	set_err(err, errlen, "bad host \"%.*s\"", quote_len(len), e);
	return -1;
}

/*
 * Add lowercase, trimmed, non-empty entry e[0..len) to hl, whose v has
 * room for it.  0, or -1 with a message in err.
 */
static int
parse_entry(const char *e, size_t len, struct host_list *hl, char *err,
    size_t errlen)
{
	struct host_pattern	*p = &hl->v[hl->n];

	if (len == 1 && e[0] == '*') {
		hl->any = 1;
		return 0;
	}
	memset(p, 0, sizeof(*p));
	if (memchr(e, '/', len) != NULL) {
		/* Go takes only a CIDR with a '/'; no port goes with it. */
		if (cidr_parse(e, len, &p->cidr) == -1) {
			set_err(err, errlen, "bad CIDR \"%.*s\"",
			    quote_len(len), e);
			return -1;
		}
	} else if (parse_host_entry(e, len, p, err, errlen) == -1) {
		free(p->name);
		return -1;
	}
	hl->n++;
	return 0;
}

int
host_list_parse(const char *s, struct host_list *hl, char *err,
    size_t errlen)
{
	char		*buf;
	const char	*e;
	size_t		 len, i, start, elen;

	memset(hl, 0, sizeof(*hl));
	if (s == NULL)
		return 0;
	len = strlen(s);
	if ((buf = malloc(len + 1)) == NULL)
		goto nomem;
	for (i = 0; i <= len; i++)
		buf[i] = to_lower(s[i]);
	if ((hl->v = calloc(count_pieces(buf), sizeof(*hl->v))) == NULL)
		goto nomem;
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && buf[i] != ','; i++)
			continue;
		elen = i - start;
		e = trim_space(buf + start, &elen);
		if (elen > 0 && parse_entry(e, elen, hl, err, errlen) == -1)
			goto fail;
	}
	free(buf);
	return 0;

nomem:
	set_err(err, errlen, "out of memory");
fail:
	free(buf);
	host_list_free(hl);
	return -1;
}

/* Do h[0..len) and lowercase l[0..len) agree, ignoring ASCII case? */
static int
equal_lower(const char *h, const char *l, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (to_lower(h[i]) != l[i])
			return 0;
	return 1;
}

/*
 * Does domain entry p match host h[0..len)?  As Go's domainMatch: h is
 * the name (unless subdomains only) or ends in "." name.
 */
static int
domain_match(const struct host_pattern *p, const char *h, size_t len)
{
	if (len == p->len)
		return !p->subdomains_only && equal_lower(h, p->name, len);
	if (len > p->len && h[len - p->len - 1] == '.')
		return equal_lower(h + len - p->len, p->name, p->len);
	return 0;
}

/*
 * Could h[0..len) be an IP address, one cidr_parse() takes without a
 * prefix length?  Spares inet_pton() most host names.
 */
static int
may_be_ip(const char *h, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.' ||
		    h[i] == ':' || (to_lower(h[i]) >= 'a' &&
		    to_lower(h[i]) <= 'f')))
			return 0;
	return len > 0;
}

int
host_list_match(const struct host_list *hl, const char *host,
    size_t host_len, uint16_t port)
{
	struct cidr	 ip;
	int		 is_ip;

	if (hl->any)
		return 1;
	if (host == NULL)
		host = "";
	is_ip = host_parse_ip(host, host_len, &ip) == 0;
	return host_list_match_parsed(hl, host, host_len, port,
	    is_ip ? &ip : NULL);
}

/*
 * s[0..len) as a dotted-quad IPv4 address, the way inet_pton(AF_INET)
 * reads one (four decimal octets, each at most 255 and without a leading
 * zero), into what cidr_parse() makes of it: a /32.  Spares the host of
 * every request that is an address the copy and the two calls.  Returns
 * 0, or -1 for anything else, which cidr_parse() then judges.
 */
static int
parse_dotted_quad(const char *s, size_t len, struct cidr *ip)
{
	uint8_t		a[4];
	unsigned	v = 0, digits = 0, n = 0;
	size_t		i;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (digits == 0 || n == 4)
				return -1;
			a[n++] = (uint8_t)v;
			v = digits = 0;
		} else if (s[i] < '0' || s[i] > '9' || (digits > 0 && v == 0) ||
		    (v = v * 10 + (unsigned)(s[i] - '0')) > 255)
			return -1;
		else
			digits++;
	}
	if (n != 4)
		return -1;
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET;
	memcpy(ip->addr, a, sizeof(a));
	ip->prefix = 32;
	return 0;
}

int
host_parse_ip(const char *host, size_t host_len, struct cidr *ip)
{
	if (parse_dotted_quad(host, host_len, ip) == 0)
		return 0;
	return may_be_ip(host, host_len) &&
	    cidr_parse(host, host_len, ip) == 0 ? 0 : -1;
}

int
host_list_match_parsed(const struct host_list *hl, const char *host,
    size_t host_len, uint16_t port, const struct cidr *ip)
{
	const struct host_pattern	*p;
	size_t				 i;

	if (hl->any)
		return 1;
	if (host == NULL)
		host = "";
	if (host_len > 0 && host[host_len - 1] == '.')
		host_len--;
	for (i = 0; i < hl->n; i++) {
		p = &hl->v[i];
		/* Port 0, unknown, is Go's "", which no entry's port equals. */
		if (p->port != 0 && p->port != port)
			continue;
		if (p->name != NULL ? domain_match(p, host, host_len) :
		    ip != NULL && cidr_contains(&p->cidr, ip->family, ip->addr))
			return 1;
	}
	return 0;
}

void
host_list_free(struct host_list *hl)
{
	size_t	i;

	for (i = 0; i < hl->n; i++)
		free(hl->v[i].name);
	free(hl->v);
	memset(hl, 0, sizeof(*hl));
}

size_t
host_list_domains(const struct host_list *hl, size_t i, const char **name,
    size_t *len, int *subdomains_only, uint16_t *port)
{
	const struct host_pattern	*p;

	for (; i < hl->n; i++) {
		p = &hl->v[i];
		if (p->name == NULL)
			continue;
		*name = p->name;
		*len = p->len;
		*subdomains_only = p->subdomains_only;
		*port = p->port;
		return i + 1;
	}
	return 0;
}

/* An address entry's text: "10.1.2.3", "10.0.0.0/8", "::1", in buf. */
static int
address_entry_text(const struct host_pattern *p, char *buf, size_t len,
    enum host_entry_kind *kind)
{
	char	addr[INET6_ADDRSTRLEN];
	int	full = p->cidr.family == AF_INET ? 32 : 128, n;

	if (inet_ntop(p->cidr.family, p->cidr.addr, addr, sizeof(addr)) ==
	    NULL)
		return -1;
	*kind = p->cidr.prefix == full ? HOST_ENTRY_IP : HOST_ENTRY_CIDR;
	if (*kind == HOST_ENTRY_IP)
		n = snprintf(buf, len, "%s", addr);
	else
		n = snprintf(buf, len, "%s/%d", addr, p->cidr.prefix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
host_list_entry(const struct host_list *hl, size_t i, char *buf,
    size_t len, enum host_entry_kind *kind, uint16_t *port)
{
	const struct host_pattern	*p;
	char				 text[300];
	int				 n, v6;

	if (i >= hl->n)
		return -1;
	p = &hl->v[i];
	*port = p->port;
	if (p->name != NULL) {
		*kind = p->subdomains_only ? HOST_ENTRY_SUBDOMAINS :
		    HOST_ENTRY_DOMAIN;
		n = snprintf(text, sizeof(text), "%s%s",
		    p->subdomains_only ? "." : "", p->name);
	} else
		n = address_entry_text(p, text, sizeof(text), kind);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	v6 = p->name == NULL && p->cidr.family == AF_INET6;
	if (p->port == 0)
		n = snprintf(buf, len, "%s", text);
	else
		n = snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", text,
		    (unsigned)p->port);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

size_t
host_list_addrs(const struct host_list *hl, size_t i, const struct cidr **c,
    uint16_t *port)
{
	for (; i < hl->n; i++) {
		if (hl->v[i].name != NULL)
			continue;
		*c = &hl->v[i].cidr;
		*port = hl->v[i].port;
		return i + 1;
	}
	return 0;
}

int
host_list_is_indexable(const struct host_list *hl)
{
	size_t	i;

	if (hl->any)
		return 0;
	for (i = 0; i < hl->n; i++)
		if (hl->v[i].name == NULL)
			return 0;
	return 1;
}

/*
 * Module globs: a port of Go's path.Match (scanChunk, matchChunk,
 * getEsc) and module.MatchPrefixPatterns, on byte strings with lengths.
 * Go decodes UTF-8 for '?' and classes, so we do too.
 */

static const int32_t	rune_error = 0xfffd;

/*
 * Decode the character at s[0..len), len > 0, as Go's utf8.DecodeRune:
 * an invalid, overlong, surrogate or truncated sequence is U+FFFD of
 * width 1.  Returns the width.
 */
static size_t
utf8_decode(const char *s, size_t len, int32_t *r)
{
	const unsigned char	*u = (const unsigned char *)s;
	unsigned char		 lo = 0x80, hi = 0xbf;
	size_t			 n, i;
	int32_t			 v;

	*r = rune_error;
	if (u[0] < 0x80) {
		*r = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return 1;
	/* The second byte's range excludes overlongs, surrogates, >10FFFF. */
	if (u[0] == 0xe0)
		lo = 0xa0;
	else if (u[0] == 0xed)
		hi = 0x9f;
	else if (u[0] == 0xf0)
		lo = 0x90;
	else if (u[0] == 0xf4)
		hi = 0x8f;
	if (len < n)
		return 1;
	v = u[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if (u[i] < lo || u[i] > hi)
			return 1;
		v = v << 6 | (u[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*r = v;
	return n;
}

/*
 * Go's getEsc: read one possibly escaped character of a class from
 * *c[0..*clen) and step past it.  -1 when the class is malformed there:
 * it ends, an unescaped '-' or ']', invalid UTF-8, or nothing after it.
 */
static int
get_esc(const char **c, size_t *clen, int32_t *r)
{
	const char	*p = *c;
	size_t		 len = *clen, n;

	if (len == 0 || p[0] == '-' || p[0] == ']')
		return -1;
	if (p[0] == '\\') {
		p++;
		len--;
		if (len == 0)
			return -1;
	}
	n = utf8_decode(p, len, r);
	if (*r == rune_error && n == 1)
		return -1;
	if (len == n)
		return -1;
	*c = p + n;
	*clen = len - n;
	return 0;
}

/*
 * Match r (-1: none, the match has failed already) against the class at
 * *c[0..*clen), just past its '[', and step past its ']'.  1 if r is in
 * it (once '^' is applied), 0 if not, -1 if the class is malformed.
 */
static int
match_class(const char **c, size_t *clen, int32_t r)
{
	int32_t	lo, hi;
	size_t	nrange = 0;
	int	negated = 0, in = 0;

	if (*clen > 0 && **c == '^') {
		negated = 1;
		(*c)++;
		(*clen)--;
	}
	for (;;) {
		/* A ']' first is a member, and then invalid unescaped. */
		if (*clen > 0 && **c == ']' && nrange > 0)
			break;
		if (get_esc(c, clen, &lo) == -1)
			return -1;
		hi = lo;
		if (**c == '-') {
			(*c)++;
			(*clen)--;
			if (get_esc(c, clen, &hi) == -1)
				return -1;
		}
		if (lo <= r && r <= hi)
			in = 1;
		nrange++;
	}
	(*c)++;
	(*clen)--;
	return in != negated;
}

/*
 * Go's matchChunk: does chunk c[0..clen) (literals, '?', classes; no
 * '*') match the start of s[0..slen)?  1 with *used set, 0 if not, -1 if
 * the chunk is malformed.  Go reads the rest of the chunk after a
 * mismatch to check its syntax; we do so only when asked (check), as a
 * glob that was checked when parsed need not be checked again.
 */
static int
match_chunk(const char *c, size_t clen, const char *s, size_t slen,
    size_t *used, int check)
{
	size_t	off = 0;
	int32_t	r;
	int	failed = 0, in;

	while (clen > 0) {
		if (!failed && off == slen)
			failed = 1;
		if (failed && !check)
			return 0;
		switch (c[0]) {
		case '[':
			r = -1;
			if (!failed)
				off += utf8_decode(s + off, slen - off, &r);
			c++;
			clen--;
			if ((in = match_class(&c, &clen, r)) == -1)
				return -1;
			if (!in)
				failed = 1;
			continue;
		case '?':
			if (!failed) {
				if (s[off] == '/')
					failed = 1;
				off += utf8_decode(s + off, slen - off, &r);
			}
			c++;
			clen--;
			continue;
		case '\\':
			c++;
			clen--;
			if (clen == 0)
				return -1;
			break;
		default:
			break;
		}
		if (!failed && c[0] != s[off++])
			failed = 1;
		c++;
		clen--;
	}
	if (failed)
		return 0;
	*used = off;
	return 1;
}

/*
 * Go's scanChunk: step *pat past its leading stars (setting *star if
 * there were any) and return the length of the chunk that follows, up to
 * the next '*' outside a class.
 */
static size_t
scan_chunk(const char **pat, size_t *plen, int *star)
{
	const char	*p = *pat;
	size_t		 len = *plen, i;
	int		 inrange = 0;

	*star = 0;
	while (len > 0 && p[0] == '*') {
		p++;
		len--;
		*star = 1;
	}
	for (i = 0; i < len; i++) {
		if (p[i] == '\\') {
			if (i + 1 < len)
				i++;
		} else if (p[i] == '[')
			inrange = 1;
		else if (p[i] == ']')
			inrange = 0;
		else if (p[i] == '*' && !inrange)
			break;
	}
	*pat = p;
	*plen = len;
	return i;
}

/*
 * After a star: find the first skip of 1 or more bytes, not over a '/',
 * after which the chunk matches *name; being the last chunk (last), it
 * must use up the name.  1 with *name, *nlen stepped past the match, 0
 * if there is none, -1 if the chunk is malformed.
 */
static int
match_after_star(const char *c, size_t clen, int last, const char **name,
    size_t *nlen, int check)
{
	size_t	i, used, left;
	int	rc;

	for (i = 0; i < *nlen && (*name)[i] != '/'; i++) {
		left = *nlen - i - 1;
		rc = match_chunk(c, clen, *name + i + 1, left, &used, check);
		if (rc == -1)
			return -1;
		if (rc == 0 || (last && used < left))
			continue;
		*name += i + 1 + used;
		*nlen = left - used;
		return 1;
	}
	return 0;
}

/* Is the rest of a pattern well formed, as Go checks before a "no"? */
static int
check_rest(const char *pat, size_t plen)
{
	size_t	clen, used;
	int	star;

	while (plen > 0) {
		clen = scan_chunk(&pat, &plen, &star);
		if (match_chunk(pat, clen, "", 0, &used, 1) == -1)
			return -1;
		pat += clen;
		plen -= clen;
	}
	return 0;
}

/*
 * Go's path.Match of pat[0..plen) against name[0..nlen): 1, 0, or -1 for
 * a malformed pattern.  Without check, pat must be known to be well
 * formed.
 */
static int
glob_match(const char *pat, size_t plen, const char *name, size_t nlen,
    int check)
{
	const char	*chunk;
	size_t		 clen, used;
	int		 star, rc;

	while (plen > 0) {
		clen = scan_chunk(&pat, &plen, &star);
		chunk = pat;
		pat += clen;
		plen -= clen;
		if (star && clen == 0)
			return memchr(name, '/', nlen) == NULL;
		rc = match_chunk(chunk, clen, name, nlen, &used, check);
		if (rc == 1 && (used == nlen || plen > 0)) {
			name += used;
			nlen -= used;
			continue;
		}
		if (rc == -1)
			return -1;
		if (star && (rc = match_after_star(chunk, clen, plen == 0,
		    &name, &nlen, check)) != 0) {
			if (rc == -1)
				return -1;
			continue;
		}
		return check ? check_rest(pat, plen) : 0;
	}
	return nlen == 0;
}

int
glob_path_match(const char *pattern, const char *name, size_t name_len)
{
	if (name == NULL)
		name = "";
	return glob_match(pattern, strlen(pattern), name, name_len, 1);
}

/*
 * What a module list knows of each glob so as to skip most of them
 * without running the matcher: a list of a thousand globs is scanned
 * whole for each request that matches none.
 */
struct glob_hint {
	size_t	len;		/* of the glob */
	size_t	nslash;		/* it matches nslash + 1 path elements */
	size_t	prefix;		/* it starts with this many literal bytes */
	size_t	suffix;		/* and ends with this many */
};

/* Slashes of a module path noted up front; deeper ones are walked to. */
#define PATH_SLASHES_MAX	32

/* Fill h for the well-formed glob g[0..len), NUL-terminated. */
static void
glob_hint_init(struct glob_hint *h, const char *g, size_t len)
{
	size_t	i;

	h->len = len;
	h->nslash = 0;
	for (i = 0; i < len; i++)
		if (g[i] == '/')
			h->nslash++;
	h->prefix = strcspn(g, "*?[\\");
	/* After the last ']' nothing is inside a class. */
	for (h->suffix = 0; h->suffix < len; h->suffix++)
		if (strchr("*?[]\\", g[len - h->suffix - 1]) != NULL)
			break;
}

/*
 * Can glob g (with hint h) match name[0..len)?  Only if name starts and
 * ends with g's literal ends; a glob without wildcards is all literal.
 */
static int
hint_allows(const struct glob_hint *h, const char *g, const char *name,
    size_t len)
{
	if (h->prefix == h->len)
		return len == h->len && memcmp(name, g, len) == 0;
	return len >= h->prefix + h->suffix &&
	    memcmp(name, g, h->prefix) == 0 &&
	    memcmp(name + len - h->suffix, g + h->len - h->suffix,
	    h->suffix) == 0;
}

/*
 * MatchPrefixPatterns' cut: set *plen to the length of the first n + 1
 * elements of path[0..len), which has nslash slashes, the first ones at
 * slash[0..PATH_SLASHES_MAX).  0 if it has fewer elements than that.
 */
static int
element_prefix(const char *path, size_t len, const size_t *slash,
    size_t nslash, size_t n, size_t *plen)
{
	size_t	i, seen = 0;

	if (n > nslash)
		return 0;
	if (n == nslash)
		*plen = len;
	else if (n < PATH_SLASHES_MAX)
		*plen = slash[n];
	else {
		/* Walk to slash number n, counting from 0. */
		for (i = 0; path[i] != '/' || seen++ != n; i++)
			continue;
		*plen = i;
	}
	return 1;
}

int
module_list_parse(const char *s, struct module_list *ml, char *err,
    size_t errlen)
{
	const char	*g;
	char		*copy;
	size_t		 len, i, start, glen, n;

	memset(ml, 0, sizeof(*ml));
	if (s == NULL)
		return 0;
	len = strlen(s);
	n = count_pieces(s);
	if ((ml->globs = calloc(n, sizeof(*ml->globs))) == NULL ||
	    (ml->hints = calloc(n, sizeof(*ml->hints))) == NULL)
		goto nomem;
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && s[i] != ','; i++)
			continue;
		glen = i - start;
		g = trim_space(s + start, &glen);
		if (glen > 0 && g[glen - 1] == '/')
			glen--;		/* Go's TrimSuffix: one slash */
		if (glen == 0)
			continue;
		if ((copy = malloc(glen + 1)) == NULL)
			goto nomem;
		memcpy(copy, g, glen);
		copy[glen] = '\0';
		glob_hint_init(&ml->hints[ml->n], copy, glen);
		ml->globs[ml->n++] = copy;
		if (glob_match(copy, glen, "", 0, 1) == -1) {
			set_err(err, errlen, "bad glob \"%.*s\"",
			    quote_len(glen), copy);
			goto fail;
		}
	}
	return 0;

nomem:
	set_err(err, errlen, "out of memory");
fail:
	module_list_free(ml);
	return -1;
}

int
module_list_match(const struct module_list *ml, const char *path,
    size_t len)
{
	const struct glob_hint	*h;
	size_t			 slash[PATH_SLASHES_MAX], nslash = 0, i, plen;

	if (path == NULL)
		path = "";
	for (i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		if (nslash < PATH_SLASHES_MAX)
			slash[nslash] = i;
		nslash++;
	}
	for (i = 0; i < ml->n; i++) {
		h = &ml->hints[i];
		if (element_prefix(path, len, slash, nslash, h->nslash,
		    &plen) && hint_allows(h, ml->globs[i], path, plen) &&
		    glob_match(ml->globs[i], h->len, path, plen, 0) == 1)
			return 1;
	}
	return 0;
}

void
module_list_free(struct module_list *ml)
{
	size_t	i;

	for (i = 0; i < ml->n; i++)
		free(ml->globs[i]);
	free(ml->globs);
	free(ml->hints);
	memset(ml, 0, sizeof(*ml));
}

/*
 * Regexes.
 */
struct regex {
	pcre2_code	*code;
	int		 jit;		/* pcre2_jit_compile() succeeded */
};

/* Our own type, so that callers need not include pcre2.h. */
struct regex_md {
	pcre2_match_data	*md;
};

struct regex *
regex_compile(const char *pattern, char *err, size_t errlen)
{
	struct regex	*re;
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 code;

	if ((re = calloc(1, sizeof(*re))) == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	/* Bytes: a "(*UTF)" would make non-UTF-8 subjects errors. */
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_NEVER_UTF, &code, &off, NULL);
	if (re->code == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) ==
		    PCRE2_ERROR_BADDATA)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		set_err(err, errlen, "at offset %zu: %s", (size_t)off,
		    (const char *)msg);
		free(re);
		return NULL;
	}
	/* Without the JIT (unsupported, or no memory) the interpreter does. */
	re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
	return re;
}

int
regex_match(const struct regex *re, const char *s, size_t len,
    struct regex_md *md)
{
	int	rc;

	if (s == NULL)
		s = "";
	if (re->jit)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, 0, 0,
		    md->md, NULL);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md->md,
		    NULL);
	/* 0 is a match whose groups did not fit the one pair we asked for. */
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

struct regex_md *
regex_match_data_new(void)
{
	struct regex_md	*md;

	if ((md = malloc(sizeof(*md))) == NULL)
		return NULL;
	/* One pair, the whole match: a yes or no is all we ask. */
	if ((md->md = pcre2_match_data_create(1, NULL)) == NULL) {
		free(md);
		return NULL;
	}
	return md;
}

void
regex_match_data_free(struct regex_md *md)
{
	if (md == NULL)
		return;
	pcre2_match_data_free(md->md);
	free(md);
}

void
regex_free(struct regex *re)
{
	if (re == NULL)
		return;
	pcre2_code_free(re->code);
	free(re);
}
