/*
 * match.h - matchers used by the config, the ACL and the routes: CIDR
 * blocks (IPv4 and IPv6), port ranges, NO_PROXY-style host lists,
 * GOPRIVATE-style module path globs and PCRE2 regexes.  Pure functions:
 * no I/O, no global state; a parsed matcher is read-only and may be
 * shared between threads (a regex's match data may not).
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

/*
 * A NO_PROXY-style host list, with the semantics of Go's
 * golang.org/x/net/http/httpproxy: comma-separated entries, white space
 * trimmed, empty entries ignored, case-insensitive.
 *
 *	*		every host
 *	10.0.0.0/8	an IPv4 or IPv6 CIDR: IP hosts inside it
 *	1.2.3.4[:p]	an IP, optionally only on port p ("[v6]:p" for IPv6)
 *	example.com	example.com and every subdomain
 *	.example.com	subdomains only ("*.example.com" is the same)
 *	name:p		as above, only on port p
 *
 * A trailing dot on an entry or a host is ignored.  As in Go, domain
 * entries are compared with IP hosts too (as text: "0.0.1" matches
 * 10.0.0.1), and an entry with a port matches only that port.
 * Entries Go would accept but that could never match, or that it would
 * silently drop, are errors here: "10.0.0.0/33", ":80", "host:",
 * "host:0", "[::1]" without a port, "[name]:80", "*:80", "a..b",
 * characters outside [a-z0-9._-] (so IDNs must be given in punycode).
 * Unlike Go's UseProxy there is no "localhost and loopback never match"
 * rule: that is the caller's policy, not part of the list.
 */
struct host_pattern;

struct host_list {
	struct host_pattern	*v;
	size_t			 n;
	int			 any;	/* saw "*" */
};

/*
 * Parse s into hl, which the caller frees with host_list_free() whatever
 * the result.  0, or -1 with a message such as "bad CIDR \"10.0.0.0/33\""
 * in err.  An empty list is valid and matches nothing.
 */
int	host_list_parse(const char *s, struct host_list *hl, char *err,
	    size_t errlen);

/*
 * Does host[0..host_len) (no brackets around IPv6) on port match hl?
 * Port 0 means unknown: only entries without a port can match it.
 */
int	host_list_match(const struct host_list *hl, const char *host,
	    size_t host_len, uint16_t port);

/*
 * host_list_match() for a caller that parsed host once for many lists:
 * ip is host as an address (host_parse_ip()), or NULL when it is a name.
 */
int	host_list_match_parsed(const struct host_list *hl, const char *host,
	    size_t host_len, uint16_t port, const struct cidr *ip);

/* host[0..len) as an IPv4 or IPv6 address: 0, or -1 for a name. */
int	host_parse_ip(const char *host, size_t host_len, struct cidr *ip);

/* Release what hl holds and leave it an empty list. */
void	host_list_free(struct host_list *hl);

/*
 * Iterate over the domain entries of hl, for building an index:
 *
 *	for (i = 0; (i = host_list_domains(hl, i, &name, &len, &sub,
 *	    &port)) != 0; )
 *
 * Returns 0 when no domain entry is left at or after position i, else
 * the position to pass next, having set *name (lowercase, without
 * leading or trailing dot, NUL-terminated), *len, *subdomains_only (a
 * ".name" entry) and *port (0: any).  A host matches
 * the entry when its lowercased, trailing-dot-stripped form equals name
 * (unless subdomains_only) or ends with "." name, and the port agrees.
 */
size_t	host_list_domains(const struct host_list *hl, size_t i,
	    const char **name, size_t *len, int *subdomains_only,
	    uint16_t *port);

/*
 * Entry i of hl (i < hl->n; "*" is hl->any, not an entry) written back
 * as NO_PROXY text in buf: "example.com", ".example.com", "10.1.2.3",
 * "10.0.0.0/8", "::1", with ":port" ("[v6]:port") when it has one.
 * *kind says which; *port is 0 for any.  0, or -1 if buf is too small.
 */
enum host_entry_kind {
	HOST_ENTRY_DOMAIN,	/* the name and its subdomains */
	HOST_ENTRY_SUBDOMAINS,	/* ".name": subdomains only */
	HOST_ENTRY_IP,		/* one address */
	HOST_ENTRY_CIDR		/* a block wider than one address */
};

int	host_list_entry(const struct host_list *hl, size_t i, char *buf,
	    size_t len, enum host_entry_kind *kind, uint16_t *port);

/*
 * Like host_list_domains(), over the address entries (IPs, as /32 or
 * /128, and CIDRs):
 * sets *c and *port (0: any).  For the PAC file (pac.c).
 */
size_t	host_list_addrs(const struct host_list *hl, size_t i,
	    const struct cidr **c, uint16_t *port);

/*
 * Can hl be replaced by an index of host_list_domains()?  True when it
 * has no "*" and no IP or CIDR entry.
 */
int	host_list_is_indexable(const struct host_list *hl);

/*
 * GOPRIVATE/GONOPROXY-style module path globs, with the semantics of
 * golang.org/x/mod/module.MatchPrefixPatterns: comma-separated globs,
 * empty ones ignored, one trailing slash removed; a glob of N path
 * elements matches a path whose first N elements path.Match it.
 * Case-sensitive, as module paths are.  Unlike Go, white space around a
 * glob is trimmed, and a malformed glob is an error instead of a glob
 * that never matches.
 */
struct glob_hint;

struct module_list {
	char			**globs;
	size_t			  n;
	struct glob_hint	 *hints;	/* private: quick rejection */
};

/* Parse s into ml (freed by module_list_free() whatever the result). */
int	module_list_parse(const char *s, struct module_list *ml, char *err,
	    size_t errlen);

/* Does module path path[0..len) match a glob of ml? */
int	module_list_match(const struct module_list *ml, const char *path,
	    size_t len);

void	module_list_free(struct module_list *ml);

/*
 * Go's path.Match of the NUL-terminated pattern against name[0..name_len):
 * 1 match, 0 no match, -1 malformed pattern (whatever name is).
 * '*' is any run of non-'/' bytes, '?' one non-'/' UTF-8 character,
 * [a-z] / [^a-z] classes of UTF-8 characters, '\\' escapes.
 */
int	glob_path_match(const char *pattern, const char *name,
	    size_t name_len);

/*
 * PCRE2 regexes over bytes (no UTF mode; "(*UTF)" is refused), JIT-
 * compiled when the JIT is available.
 */
struct regex;
struct regex_md;

/*
 * Compile pattern; NULL with PCRE2's message in err on error, e.g.
 * "at offset 3: missing closing parenthesis".
 */
struct regex	*regex_compile(const char *pattern, char *err, size_t errlen);

/*
 * Does re match anywhere in s[0..len)?  md comes from
 * regex_match_data_new() and is reused across calls by one thread.
 * 1 match, 0 no match, -1 error (such as the match limit).
 */
int	regex_match(const struct regex *re, const char *s, size_t len,
	    struct regex_md *md);

/* Match data for regex_match(); NULL when out of memory. */
struct regex_md	*regex_match_data_new(void);
void		 regex_match_data_free(struct regex_md *md);
void		 regex_free(struct regex *re);

#endif /* PROXYD_MATCH_H */
