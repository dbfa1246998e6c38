/*
 * sockowner.c - which process listens on a TCP address, from /proc.
 *
 * Owns the reading of /proc/net/tcp{,6} (listening sockets and their
 * inodes) and of /proc/PID/fd (which process holds an inode), and what
 * an owner is: its executable and the config file it was started with.
 * proxyd -t uses it to tell "this address is served by the proxyd being
 * reloaded" from "another program took the port".  Only for that check:
 * nothing here runs in a worker.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockowner.h"

#define MAX_INODES	64

/* An address as /proc/net/tcp prints it: raw 32-bit words. */
struct laddr {
	int		family;
	unsigned char	a[16];
	unsigned	port;
};

static int
laddr_from_ss(const struct sockaddr_storage *ss, struct laddr *la)
{
	memset(la, 0, sizeof(*la));
	la->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		memcpy(la->a, &sin->sin_addr, 4);
		la->port = ntohs(sin->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		memcpy(la->a, &sin6->sin6_addr, 16);
		la->port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

/* The kernel prints each 32-bit word of the address with %08X. */
static int
laddr_parse_hex(const char *hex, int family, unsigned char *a)
{
	size_t i, words = family == AF_INET ? 1 : 4;
	char w[9];

	if (strlen(hex) != words * 8)
		return -1;
	for (i = 0; i < words; i++) {
		uint32_t v;

		memcpy(w, hex + i * 8, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, NULL, 16);
		memcpy(a + i * 4, &v, 4);
	}
	return 0;
}

static int
is_zero(const unsigned char *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

/* Would binding ours (IPV6_V6ONLY for IPv6) collide with theirs? */
static int
laddr_collides(const struct laddr *ours, const struct laddr *theirs)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	size_t n = ours->family == AF_INET ? 4 : 16;

	if (ours->port != theirs->port)
		return 0;
	if (ours->family == theirs->family)
		return memcmp(ours->a, theirs->a, n) == 0 || is_zero(ours->a, n) ||
		    is_zero(theirs->a, n);
	/* IPv4 against a dual-stack IPv6 socket: [::] or [::ffff:a.b.c.d]. */
	if (ours->family == AF_INET)
		return is_zero(theirs->a, 16) ||
		    (memcmp(theirs->a, mapped, 12) == 0 &&
		    (memcmp(theirs->a + 12, ours->a, 4) == 0 ||
		    is_zero(ours->a, 4)));
	return 0;
}

/* Add the inodes of the listening sockets in one /proc/net file. */
static void
scan_table(const char *file, int family, const struct laddr *ours,
    unsigned long *inodes, int *n)
{
	char line[512], hex[40];
	unsigned port, st;
	unsigned long inode;
	struct laddr theirs;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) && *n < MAX_INODES) {
		if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s "
		    "%*u %*u %lu", hex, &port, &st, &inode) != 4)
			continue;	/* the header line */
		memset(&theirs, 0, sizeof(theirs));
		theirs.family = family;
		theirs.port = port;
		if (st != 0x0A || inode == 0 ||
		    laddr_parse_hex(hex, family, theirs.a) == -1)
			continue;	/* 0x0A: TCP_LISTEN */
		if (laddr_collides(ours, &theirs))
			inodes[(*n)++] = inode;
	}
	fclose(f);
}

/* Does process pid hold one of the inodes? */
static int
holds_inode(long pid, const unsigned long *inodes, int n)
{
	char dir[64], link[PATH_MAX], target[64];
	struct dirent *de;
	int i, found = 0;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	if ((d = opendir(dir)) == NULL)
		return 0;	/* gone, or not ours to look at */
	while (!found && (de = readdir(d)) != NULL) {
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		if ((len = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[len] = '\0';
		for (i = 0; i < n && !found; i++) {
			char want[40];

			snprintf(want, sizeof(want), "socket:[%lu]", inodes[i]);
			found = strcmp(target, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* The FILE of -c FILE (or -cFILE, -tc FILE) in a NUL-separated argv. */
static const char *
cmdline_conf(const char *args, size_t len)
{
	const char *p = args, *end = args + len, *c;

	for (p = args; p < end; p += strlen(p) + 1) {
		if (p[0] != '-' || p[1] == '-' || (c = strchr(p, 'c')) == NULL)
			continue;
		if (c[1] != '\0')
			return c + 1;
		p += strlen(p) + 1;
		return p < end ? p : NULL;
	}
	return NULL;
}

/* Fill o->exe and o->conf for process pid (best effort). */
static void
owner_describe(long pid, struct sock_owner *o)
{
	char path[64], args[4096], cwd[PATH_MAX], joined[2 * PATH_MAX + 2];
	const char *conf;
	ssize_t len;
	int fd;

	o->pid = (pid_t)pid;
	o->exe[0] = o->conf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	if ((len = readlink(path, o->exe, sizeof(o->exe) - 1)) > 0)
		o->exe[len] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	len = read(fd, args, sizeof(args) - 1);
	close(fd);
	if (len <= 0)
		return;
	args[len] = '\0';
	if ((conf = cmdline_conf(args, (size_t)len)) == NULL)
		return;
	/* A relative FILE is relative to that process's directory. */
	snprintf(path, sizeof(path), "/proc/%ld/cwd", pid);
	if (conf[0] != '/' && (len = readlink(path, cwd, sizeof(cwd) - 1)) > 0) {
		cwd[len] = '\0';
		snprintf(joined, sizeof(joined), "%s/%s", cwd, conf);
		conf = joined;
	}
	/* Not there in our mount namespace: compare the name as given. */
	if (realpath(conf, o->conf) == NULL && strlen(conf) < sizeof(o->conf))
		memcpy(o->conf, conf, strlen(conf) + 1);
}

int
sockowner_find(const struct sockaddr_storage *ss, struct sock_owner *out,
    int max)
{
	unsigned long inodes[MAX_INODES];
	struct laddr ours;
	struct dirent *de;
	int n = 0, found = 0;
	long pid;
	DIR *d;

	if (laddr_from_ss(ss, &ours) == -1)
		return -1;
	scan_table("/proc/net/tcp", AF_INET, &ours, inodes, &n);
	scan_table("/proc/net/tcp6", AF_INET6, &ours, inodes, &n);
	if (n == 0)
		return -1;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (found < max && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    (pid = atol(de->d_name)) == (long)getpid())
			continue;
		if (holds_inode(pid, inodes, n))
			owner_describe(pid, &out[found++]);
	}
	closedir(d);
	return found;
}
