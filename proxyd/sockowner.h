/*
 * sockowner.h - which process listens on a TCP address (Linux /proc).
 */
#ifndef PROXYD_SOCKOWNER_H
#define PROXYD_SOCKOWNER_H

#include <limits.h>
#include <sys/socket.h>
#include <sys/types.h>

struct sock_owner {
	pid_t	pid;
	char	exe[PATH_MAX];		/* /proc/PID/exe, "" if unreadable */
	char	conf[PATH_MAX];		/* its -c FILE, absolute; "" if none */
};

/*
 * Find the processes holding a listening TCP socket that a bind of ss
 * (without SO_REUSEPORT) collides with: the same port on the same
 * address or on a wildcard.  Fills at most max owners; returns how many
 * were found, 0 when a listener exists but its process is not visible
 * to us (another user, another PID namespace), -1 when /proc shows no
 * such listener at all.
 */
int	sockowner_find(const struct sockaddr_storage *ss,
	    struct sock_owner *out, int max);

#endif /* PROXYD_SOCKOWNER_H */
