/*
 * preflight.c - what a start would fail on, checked by proxyd -t.
 *
 * config_load() checks a file's syntax and meaning; this file checks
 * what the config asks of the machine it is about to run on, as the
 * user running the check (so ExecStartPre / ExecReload check under the
 * unit's own conditions): the `user` exists and can be switched to, the
 * log files can be opened for appending, `ca_file` loads, and no other
 * process holds a listen (or admin_listen) address.  The same checks
 * (but the listen one) run at start, before anything is opened, so that
 * both say the same.
 *
 * A listen address is probed by binding it without SO_REUSEPORT: a
 * proxyd's own listeners would otherwise let the bind through.  On
 * EADDRINUSE, sockowner.c finds who holds it: another proxyd started
 * with this same config file is the daemon being reloaded (fine);
 * anything else is what start would trip on.  The probe never creates
 * a file or keeps a socket.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "preflight.h"
#include "sockowner.h"
#include "tls.h"

#define MAX_OWNERS	8

static void	report(const struct config *, const char *, FILE *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

/*
 * The line of key in a [proxyd] section of path, or 0 (defaults, or a
 * file that changed since it was loaded): the config keeps values, not
 * where they came from.
 */
static int
key_line(const char *path, const char *key)
{
	char buf[1024], *p;
	int line = 0, found = 0, in_proxyd = 0;
	size_t klen = strlen(key);
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(buf, sizeof(buf), f)) {
		line++;
		for (p = buf; *p == ' ' || *p == '\t'; p++)
			;
		if (p != buf)
			continue;	/* a continuation line */
		if (*p == '[')
			in_proxyd = strncmp(p, "[proxyd]", 8) == 0;
		else if (in_proxyd && strncmp(p, key, klen) == 0) {
			for (p += klen; *p == ' ' || *p == '\t'; p++)
				;
			found = *p == '=' || *p == ':';
		}
	}
	fclose(f);
	return found ? line : 0;
}

/* One problem, as "file:line: key: what". */
static void
report(const struct config *cfg, const char *key, FILE *errs,
    const char *fmt, ...)
{
	const char *path = cfg->path ? cfg->path : "(defaults)";
	va_list ap;
	int line;

	if ((line = key_line(cfg->path, key)) > 0)
		fprintf(errs, "%s:%d: %s: ", path, line, key);
	else
		fprintf(errs, "%s: %s: ", path, key);
	va_start(ap, fmt);
	vfprintf(errs, fmt, ap);
	va_end(ap);
	fputc('\n', errs);
}

/*
 * main.c switches to `user` with setgroups/setgid/setuid: that needs the
 * user to exist and root, unless we already are that user.
 */
static int
check_user(const struct config *cfg, FILE *errs)
{
	struct passwd *pw;

	if (cfg->user == NULL)
		return 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		report(cfg, "user", errs, "no such user \"%s\"", cfg->user);
		return 1;
	}
	if (geteuid() != 0 &&
	    (geteuid() != pw->pw_uid || getegid() != pw->pw_gid)) {
		report(cfg, "user", errs, "switching to \"%s\" needs root, "
		    "and this runs as uid %ld (under systemd's DynamicUser, "
		    "leave user unset)", cfg->user, (long)geteuid());
		return 1;
	}
	return 0;
}

/* log.c opens path with O_APPEND|O_CREAT: the file or its directory
 * must be writable.  "-" is stdout. */
static int
check_log(const struct config *cfg, const char *key, const char *path,
    FILE *errs)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			report(cfg, key, errs, "%s is a directory", path);
			return 1;
		}
		if (access(path, W_OK) == -1) {
			report(cfg, key, errs, "%s: cannot write: %s", path,
			    strerror(errno));
			return 1;
		}
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		report(cfg, key, errs, "%s: directory %s does not exist", path,
		    dir);
		return 1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		report(cfg, key, errs, "%s: cannot create it in %s: %s", path,
		    dir, strerror(errno));
		return 1;
	}
	return 0;
}

/* Each worker loads the trust store at start (tls.c): load it once. */
static int
check_ca_file(const struct config *cfg, FILE *errs)
{
	struct tls_client *tc;
	char err[512];

	if (cfg->ca_file == NULL)
		return 0;
	if ((tc = tls_client_new(cfg->ca_file, err, sizeof(err))) == NULL) {
		/* err already names "ca_file PATH". */
		report(cfg, "ca_file", errs, "%s", strncmp(err, "ca_file ", 8) == 0 ?
		    err + 8 : err);
		return 1;
	}
	tls_client_free(tc);
	return 0;
}

/* Bind la as worker.c does, but without SO_REUSEPORT; 0 or an errno. */
static int
bind_probe(const struct listen_addr *la)
{
	int fd, one = 1, rc = 0;

	fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	/* SO_REUSEADDR as the daemon: TIME_WAIT leftovers are no conflict. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (la->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (const struct sockaddr *)&la->ss, la->len) == -1)
		rc = errno;
	close(fd);
	return rc;
}

/* Is o a proxyd started with this same config (or both on defaults)? */
static int
same_daemon(const struct config *cfg, const struct sock_owner *o)
{
	char self[PATH_MAX], conf[PATH_MAX];
	const char *base;
	ssize_t len;

	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return 0;
	self[len] = '\0';
	base = strrchr(o->exe, '/');
	if (strcmp(o->exe, self) != 0 &&
	    (base == NULL || strcmp(base, "/proxyd") != 0))
		return 0;
	if (cfg->path == NULL)
		return o->conf[0] == '\0';
	if (realpath(cfg->path, conf) == NULL)
		return 0;
	return strcmp(conf, o->conf) == 0;
}

/* An address in use is fine only if every holder is this proxyd. */
static int
check_in_use(const struct config *cfg, const char *key,
    const struct listen_addr *la, FILE *errs)
{
	struct sock_owner owners[MAX_OWNERS];
	int i, n;

	n = sockowner_find(&la->ss, owners, MAX_OWNERS);
	if (n <= 0) {
		report(cfg, key, errs, "%s: address already in use by "
		    "another process%s", la->text, n == 0 ? " (not one this "
		    "user can see)" : "");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (same_daemon(cfg, &owners[i]))
			continue;
		report(cfg, key, errs, "%s: address already in use by "
		    "pid %ld (%s)%s", la->text, (long)owners[i].pid,
		    owners[i].exe[0] ? owners[i].exe : "?",
		    strstr(owners[i].exe, "proxyd") ? ", a proxyd with "
		    "another configuration" : "");
		return 1;
	}
	return 0;
}

/* One address of key (listen, admin_listen): 0, or 1 reported. */
static int
check_address(const struct config *cfg, const char *key,
    const struct listen_addr *la, FILE *errs)
{
	int e;

	if ((e = bind_probe(la)) == 0)
		return 0;
	if (e == EADDRINUSE)
		return check_in_use(cfg, key, la, errs);
	report(cfg, key, errs, "%s: %s%s", la->text, strerror(e),
	    e == EACCES ? " (a port below 1024 needs CAP_NET_BIND_SERVICE)" :
	    "");
	return 1;
}

static int
check_listen(const struct config *cfg, FILE *errs)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < cfg->nlisten; i++)
		bad += check_address(cfg, "listen", &cfg->listen[i], errs);
	if (cfg->admin_listen.len > 0)
		bad += check_address(cfg, "admin_listen", &cfg->admin_listen,
		    errs);
	return bad;
}

int
preflight_check(const struct config *cfg, int flags, FILE *errs)
{
	int bad = 0;

	bad += check_user(cfg, errs);
	bad += check_log(cfg, "access_log", cfg->access_log, errs);
	bad += check_log(cfg, "error_log", cfg->error_log, errs);
	bad += check_ca_file(cfg, errs);
	if (flags & PREFLIGHT_LISTEN)
		bad += check_listen(cfg, errs);
	return bad;
}
