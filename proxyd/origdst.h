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

#endif /* PROXYD_ORIGDST_H */
