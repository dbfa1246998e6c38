/*
 * origdst.h - where a redirected connection was going: the original
 * destination the kernel's NAT (iptables/nftables REDIRECT or DNAT)
 * remembers for a socket a transparent listener accepted.
 */
#ifndef PROXYD_ORIGDST_H
#define PROXYD_ORIGDST_H

#include <sys/socket.h>

/*
 * The original destination of accepted socket fd into *ss:
 * SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6.  A
 * connection no NAT rule touched (no conntrack entry) has none: then
 * its own local address, which is proxyd's listener, so the caller's
 * loop check refuses it.  0, or -1 when neither can be read.
 */
int	origdst_get(int fd, struct sockaddr_storage *ss);

/*
 * The UID owning the local TCP socket connected from peer to dst (the
 * redirected client's own socket: its address, and the destination as
 * it sees it, before NAT), asked of the kernel by sock_diag (what ss(8)
 * uses; one exact lookup, no privilege).  0 with *uid, or -1 when there
 * is no such socket on this host or the kernel would not say.
 */
int	origdst_peer_uid(const struct sockaddr *peer, const struct sockaddr *dst,
	    uid_t *uid);

#endif /* PROXYD_ORIGDST_H */
