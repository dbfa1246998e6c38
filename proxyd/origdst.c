/*
 * origdst.c - the original destination of a redirected connection
 * (Linux netfilter's conntrack, the getsockopt that squid's intercept
 * and Envoy's original_dst read), and who made it (sock_diag).
 */
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/netfilter_ipv4.h>	/* SO_ORIGINAL_DST */
#include <linux/netfilter_ipv6/ip6_tables.h>	/* IP6T_SO_ORIGINAL_DST */

#include "origdst.h"

int
origdst_get(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (getsockname(fd, (struct sockaddr *)ss, &len) == -1)
		return -1;
	len = sizeof(*ss);
	if (ss->ss_family == AF_INET)
		(void)getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, ss, &len);
	else if (ss->ss_family == AF_INET6)
		(void)getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, ss,
		    &len);
	/* On failure ss still holds the local address (see origdst.h). */
	return 0;
}

/* Address bytes and port of sa into a diag id's fields; -1: not IP. */
static int
diag_addr(const struct sockaddr *sa, __be32 *addr, __be16 *port)
{
	const struct sockaddr_in *in = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;

	if (sa->sa_family == AF_INET) {
		memcpy(addr, &in->sin_addr, 4);
		*port = in->sin_port;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(addr, &in6->sin6_addr, 16);
		*port = in6->sin6_port;
		return 0;
	}
	return -1;
}

int
origdst_peer_uid(const struct sockaddr *peer, const struct sockaddr *dst,
    uid_t *uid)
{
	struct {
		struct nlmsghdr		nlh;
		struct inet_diag_req_v2	r;
	} req;
	union {
		struct nlmsghdr		nlh;
		char			buf[1024];
	} ans;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct inet_diag_msg *m;
	ssize_t n;
	int fd, rc = -1;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;	/* one socket, no dump */
	req.r.sdiag_family = (__u8)peer->sa_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U;
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (peer->sa_family != dst->sa_family ||
	    diag_addr(peer, req.r.id.idiag_src, &req.r.id.idiag_sport) == -1 ||
	    diag_addr(dst, req.r.id.idiag_dst, &req.r.id.idiag_dport) == -1)
		return -1;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1)
		return -1;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) != (ssize_t)sizeof(req))
		goto fail;
	/* The kernel answers while sending: nothing to wait for. */
	n = recv(fd, &ans, sizeof(ans), MSG_DONTWAIT);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*m)) || !NLMSG_OK(&ans.nlh,
	    (unsigned)n) || ans.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto fail;	/* NLMSG_ERROR: no such socket */
	m = NLMSG_DATA(&ans.nlh);
	*uid = (uid_t)m->idiag_uid;
	rc = 0;
fail:
	close(fd);
	return rc;
}
