/*
 * destpolicy.c - the destination policy at run time: which addresses a
 * route may connect to (destpolicy.h), and the local addresses that
 * make proxyd's own listeners recognisable.  The keys are read by
 * config_dest.c; the classes come from addr.c.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "destpolicy.h"

/* Denied unless allow_destinations says otherwise, even when auditing:
 * nothing legitimate needs them through a proxy. */
#define DEST_BUILTIN	(ADDR_LINKLOCAL | ADDR_METADATA | ADDR_UNSPEC | \
			 ADDR_MULTICAST | ADDR_BROADCAST)

/* Add ifa's address, if it is an IP one, to c's local addresses. */
static int
add_local(struct config *c, const struct sockaddr *sa, size_t *cap)
{
	struct cidr *n, *a;

	if (sa == NULL || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6))
		return 0;
	if (c->nlocal_addrs == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		if ((n = reallocarray(c->local_addrs, *cap, sizeof(*n))) ==
		    NULL)
			return -1;
		c->local_addrs = n;
	}
	a = &c->local_addrs[c->nlocal_addrs++];
	memset(a, 0, sizeof(*a));
	a->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		memcpy(a->addr, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
		a->prefix = 32;
	} else {
		memcpy(a->addr, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
		a->prefix = 128;
	}
	return 0;
}

/*
 * In audit mode a route's "deny" would refuse: it is served directly
 * instead, and request.c logs would_deny= for it (the route, too, is
 * rolled out by auditing first).
 */
static void
dest_audit_deny(struct route *r, struct upstream_conf *uc)
{
	if (uc->type != UPSTREAM_DENY || !(r->report || r->cfg->policy_audit))
		return;
	uc->type = UPSTREAM_DIRECT;
	uc->audit_deny = 1;
}

int
dest_bind(struct config *c)
{
	struct ifaddrs *ifs = NULL, *i;
	size_t r, u, cap = 0;
	int rc = 0;

	for (r = 0; r < c->nroutes; r++) {
		c->routes[r].cfg = c;
		for (u = 0; u < c->routes[r].nupstreams; u++) {
			c->routes[r].upstreams[u].route = &c->routes[r];
			dest_audit_deny(&c->routes[r],
			    &c->routes[r].upstreams[u]);
		}
		for (u = 0; u < c->routes[r].nvia; u++)
			c->routes[r].via[u].route = &c->routes[r];
	}
	/* Without the interface list, loopback and unspecified addresses
	 * still reveal most loops (dest_own_listener()). */
	if (getifaddrs(&ifs) == -1)
		return 0;
	for (i = ifs; i != NULL && rc == 0; i = i->ifa_next)
		rc = add_local(c, i->ifa_addr, &cap);
	freeifaddrs(ifs);
	return rc;
}

/* sa's address bytes (4 or 16) and port; NULL when not an IP one. */
static const uint8_t *
sa_bytes(const struct sockaddr *sa, uint16_t *port)
{
	const struct sockaddr_in *in = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;

	if (sa->sa_family == AF_INET) {
		*port = ntohs(in->sin_port);
		return (const uint8_t *)&in->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		*port = ntohs(in6->sin6_port);
		return (const uint8_t *)&in6->sin6_addr;
	}
	return NULL;
}

/*
 * Is sa one of proxyd's own listeners (or the admin listener)?  A
 * listener on 0.0.0.0 or :: is reached through any local address, so
 * any local address on a listening port counts: a different local
 * service on the same port number of another address is refused too,
 * which is the safe side of a loop.
 */
static int
dest_own_listener(const struct config *c, const struct sockaddr *sa,
    unsigned classes, uint16_t port)
{
	uint16_t lport;
	size_t i;
	int hit = 0;

	for (i = 0; i < c->nlisten && !hit; i++)
		hit = sa_bytes((const struct sockaddr *)&c->listen[i].ss,
		    &lport) != NULL && lport == port;
	if (!hit && c->admin_listen.len > 0)
		hit = sa_bytes((const struct sockaddr *)&c->admin_listen.ss,
		    &lport) != NULL && lport == port;
	if (!hit)
		return 0;
	return (classes & (ADDR_LOOPBACK | ADDR_UNSPEC)) != 0 ||
	    cidr_match_any(c->local_addrs, c->nlocal_addrs, sa);
}

int
dest_is_own_listener(const struct config *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	uint16_t port;

	if ((a = sa_bytes(sa, &port)) == NULL)
		return 0;
	return dest_own_listener(c, sa, addr_classify(sa->sa_family, a),
	    port);
}

/* Does list d take sa (classes cls)?  The matching CIDR in *hit. */
static int
dest_list_match(const struct dest_list *d, const struct sockaddr *sa,
    unsigned cls, const struct cidr **hit)
{
	size_t i;

	*hit = NULL;
	if (cls & d->classes)
		return 1;
	for (i = 0; i < d->ncidrs; i++) {
		if (cidr_match(&d->cidrs[i], sa)) {
			*hit = &d->cidrs[i];
			return 1;
		}
	}
	return 0;
}

/* The lowest class bit of cls (link-local before metadata). */
static unsigned
first_class(unsigned cls)
{
	return cls & -cls;
}

/* "destination A is CLASS" or "destination A is in CIDR" into why. */
static void
dest_reason(char *why, size_t len, const char *addr, unsigned cls,
    const struct cidr *hit)
{
	char net[INET6_ADDRSTRLEN];

	if (hit == NULL) {
		snprintf(why, len, "destination %s is %s", addr,
		    addr_class_name(first_class(cls)));
		return;
	}
	inet_ntop(hit->family, hit->addr, net, sizeof(net));
	snprintf(why, len, "destination %s is in %s/%d (deny_destinations)",
	    addr, net, hit->prefix);
}

enum dest_verdict
dest_check(const struct route *r, const struct sockaddr *sa, char *why,
    size_t len)
{
	const struct config *c;
	const struct cidr *hit, *ghit;
	const uint8_t *a;
	char addr[INET6_ADDRSTRLEN];
	unsigned cls;
	uint16_t port;
	int rdeny, gdeny;

	if (r == NULL || (c = r->cfg) == NULL ||
	    (a = sa_bytes(sa, &port)) == NULL)
		return DEST_ALLOW;
	cls = addr_classify(sa->sa_family, a);
	/* The address as text only for a reason: an allowed connect (every
	 * tunnel's) prints nothing. */
	if (dest_own_listener(c, sa, cls, port)) {
		inet_ntop(sa->sa_family, a, addr, sizeof(addr));
		snprintf(why, len, "destination %s port %u is proxyd's own "
		    "listener (a proxy loop)", addr, (unsigned)port);
		return DEST_DENY;
	}
	if (dest_list_match(&r->allow_dest, sa, cls, &hit) ||
	    dest_list_match(&c->allow_dest, sa, cls, &hit))
		return DEST_ALLOW;
	if (cls & DEST_BUILTIN) {
		inet_ntop(sa->sa_family, a, addr, sizeof(addr));
		dest_reason(why, len, addr, cls & DEST_BUILTIN, NULL);
		return DEST_DENY;
	}
	rdeny = dest_list_match(&r->deny_dest, sa, cls, &hit);
	gdeny = !rdeny && dest_list_match(&c->deny_dest, sa, cls, &ghit);
	if (!rdeny && !gdeny)
		return DEST_ALLOW;
	inet_ntop(sa->sa_family, a, addr, sizeof(addr));
	dest_reason(why, len, addr, cls & (rdeny ? r->deny_dest.classes :
	    c->deny_dest.classes), rdeny ? hit : ghit);
	return r->report || c->policy_audit ? DEST_WOULD_DENY : DEST_DENY;
}

enum dest_verdict
dest_check_text(const struct route *r, const char *text, char *why,
    size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct addr_hostport hp;
	uint8_t a[16];
	int af;

	if (addr_split(text, strlen(text), 0, &hp) == -1 ||
	    (af = addr_ip_literal(hp.host, hp.hostlen, a)) == 0)
		return DEST_ALLOW;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)af;
	if (af == AF_INET) {
		memcpy(&in->sin_addr, a, 4);
		in->sin_port = htons(hp.port);
	} else {
		memcpy(&in6->sin6_addr, a, 16);
		in6->sin6_port = htons(hp.port);
	}
	return dest_check(r, (struct sockaddr *)&ss, why, len);
}
