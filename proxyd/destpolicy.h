/*
 * destpolicy.h - the destination policy: may proxyd connect to this
 * address for this route?  Checked on every address the direct kind is
 * about to connect to (after DNS, so a name that resolves somewhere it
 * must not go is caught), for forwarding, CONNECT and mirrors alike.
 *
 * Built-in denies, enforced even in audit mode and lifted only by an
 * allow_destinations entry: link-local and the cloud metadata
 * addresses, unspecified, multicast, broadcast (and their IPv6
 * embeddings, addr.h).  Never lifted: proxyd's own listeners, reached
 * through any local address (a proxy loop).  Loopback, private and
 * cgnat are allowed unless deny_destinations (the route's or
 * [proxyd]'s) names them; allow_destinations (either) wins over both
 * kinds of deny.  In audit mode (action = report, policy_mode = audit)
 * a deny_destinations refusal becomes DEST_WOULD_DENY.
 */
#ifndef PROXYD_DESTPOLICY_H
#define PROXYD_DESTPOLICY_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

enum dest_verdict {
	DEST_ALLOW,
	DEST_DENY,		/* refuse: 403 with the reason */
	DEST_WOULD_DENY		/* audit mode: go on, log the reason */
};

/*
 * Runtime part of snapshot c: each route's and upstream's back pointer,
 * the "deny" upstreams of auditing routes turned into direct ones
 * (upstream_conf.audit_deny), and the host's local addresses
 * (getifaddrs(), taken once per snapshot: a reload picks up new ones).
 * 0, or -1 when out of memory.
 */
int		dest_bind(struct config *c);

/*
 * The verdict of r's policy on a connection to sa (AF_INET or
 * AF_INET6; others are allowed), with the reason in why[0..len) unless
 * allowed: "destination 169.254.169.254 is link-local".  r NULL: allowed
 * (no route, no policy: a parent proxy's own address).
 */
enum dest_verdict dest_check(const struct route *r,
		    const struct sockaddr *sa, char *why, size_t len);

/*
 * The same for an address written as text, "a.b.c.d:port" or
 * "[v6]:port" (sockaddr_text()'s form); text that is not an address is
 * allowed.
 */
enum dest_verdict dest_check_text(const struct route *r, const char *text,
		    char *why, size_t len);

/*
 * Is sa one of c's own listeners, reached through any local address
 * (the loop check of every connect, and of a transparent listener's
 * original destinations)?
 */
int		dest_is_own_listener(const struct config *c,
		    const struct sockaddr *sa);

#endif /* PROXYD_DESTPOLICY_H */
