/*
 * notify.c - telling the service manager how proxyd is doing.
 *
 * The sd_notify protocol without libsystemd: one datagram of
 * "VAR=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET, a
 * path or, with a leading '@', an abstract name.  It is all systemd's
 * Type=notify needs (READY=1 once the listeners accept, STOPPING=1 when
 * the drain starts, RELOADING=1 with MONOTONIC_USEC when a reload
 * begins), and one dependency less for a package that runs everywhere.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

/* Send msg to $NOTIFY_SOCKET; silently nothing if unset or unusable. */
static void
notify_send(const char *msg)
{
	struct sockaddr_un sun;
	const char *name = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t n;
	int fd;

	if (name == NULL || (name[0] != '/' && name[0] != '@'))
		return;
	if ((n = strlen(name)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no NUL terminator */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (name[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (const struct sockaddr *)&sun, len);
	close(fd);
}

void
notify_ready(void)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld", (long)getpid());
	notify_send(msg);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

/* systemd (Type=notify-reload, 253+) wants the reload's start time. */
void
notify_reloading(void)
{
	struct timespec ts;
	char msg[80];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify_send(msg);
}
