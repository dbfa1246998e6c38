/*
 * origdst.c - the original destination of a redirected connection
 * (Linux netfilter's conntrack, the getsockopt that squid's intercept
 * and Envoy's original_dst read).
 */
#include <string.h>
#include <netinet/in.h>
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
