/*
 * redirect_rules.c - `proxyd --redirect-rules`: what an init container
 * (or a CI host's setup) runs so that outbound TCP to some ports lands
 * on proxyd's transparent listener, the way service-mesh init
 * containers do it.  Per address family, appended to the nat table's
 * OUTPUT chain, in this order:
 *
 *   proxyd's own UID          -j RETURN   (its upstream connections
 *                                          must not come back: a loop)
 *   loopback, --exclude CIDRs -j RETURN
 *   -m multiport --dports P   -j REDIRECT --to-ports LISTENER
 *
 * Each rule carries `-m comment --comment proxyd`, which is how
 * --remove finds exactly these rules again (`iptables -t nat -S`).
 * Commands are run with execvp, never through a shell.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "match.h"
#include "redirect_rules.h"

/* The listen address's port and family. */
static unsigned
listen_port(const struct listen_addr *la, int *v6)
{
	*v6 = la->ss.ss_family == AF_INET6;
	return ntohs(*v6 ? ((const struct sockaddr_in6 *)&la->ss)->sin6_port :
	    ((const struct sockaddr_in *)&la->ss)->sin_port);
}

/* A whole number in [min, max] from s; -1 when it is not one. */
static long
rr_number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		return -1;
	return v;
}

/* uid: --uid, else the config's user, else ours. */
static int
rr_uid(const struct config *cfg, const char *arg, struct rr_opts *o,
    FILE *err)
{
	struct passwd *pw;
	long v;

	if (arg != NULL) {
		if ((v = rr_number(arg, 0, 2147483647L)) == -1) {
			fprintf(err, "proxyd: --uid: expected a user id like "
			    "1337, got \"%s\"\n", arg);
			return -1;
		}
		o->uid = (uid_t)v;
	} else if (cfg->user != NULL) {
		if ((pw = getpwnam(cfg->user)) == NULL) {
			fprintf(err, "proxyd: user %s (the config's user): no "
			    "such user; give --uid\n", cfg->user);
			return -1;
		}
		o->uid = pw->pw_uid;
	} else {
		o->uid = getuid();
	}
	return 0;
}

/* port and families: --port, else the first transparent listener's. */
static int
rr_port(const struct config *cfg, const char *arg, struct rr_opts *o,
    FILE *err)
{
	size_t i;
	int v6, any = 0;
	long v;

	if (arg != NULL && (v = rr_number(arg, 1, 65535)) == -1) {
		fprintf(err, "proxyd: --port: expected a port like 3129, got "
		    "\"%s\"\n", arg);
		return -1;
	}
	o->port = arg != NULL ? (unsigned)v : 0;
	for (i = 0; i < cfg->nlisten; i++) {
		if (!cfg->listen[i].transparent)
			continue;
		v = (long)listen_port(&cfg->listen[i], &v6);
		if (o->port == 0)
			o->port = (unsigned)v;
		if ((unsigned)v == o->port) {
			any = 1;
			o->v4 |= !v6;
			o->v6 |= v6;
		}
	}
	if (o->port == 0) {
		fprintf(err, "proxyd: --redirect-rules: the config has no "
		    "transparent listener; give --port\n");
		return -1;
	}
	if (!any)
		o->v4 = o->v6 = 1;	/* where it listens is the user's word */
	return 0;
}

/* ports: a comma list of ports or ranges (multiport's syntax, a:b). */
static int
rr_ports(const char *arg, struct rr_opts *o, FILE *err)
{
	const char *s = arg ? arg : "80,443";
	size_t i, n = strlen(s);
	int ok = n > 0 && n < sizeof(o->ports) && s[0] != ',' &&
	    s[n - 1] != ',';

	for (i = 0; ok && i < n; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || s[i] == ',' ||
		    s[i] == ':';
	if (!ok) {
		fprintf(err, "proxyd: --ports: expected ports like 80,443 or "
		    "8000:8100, got \"%s\"\n", s);
		return -1;
	}
	memcpy(o->ports, s, n + 1);
	return 0;
}

/* The excluded ranges: loopback of each family, then --exclude. */
static int
rr_exclude(const char *arg, struct rr_opts *o, FILE *err)
{
	const char *s = arg, *end;
	size_t len;

	cidr_parse("127.0.0.0/8", 11, &o->exclude[0]);
	cidr_parse("::1/128", 7, &o->exclude[1]);
	o->nexclude = 2;
	while (s != NULL && *s != '\0') {
		end = strchr(s, ',');
		len = end ? (size_t)(end - s) : strlen(s);
		if (o->nexclude == RR_MAX_EXCLUDE ||
		    cidr_parse(s, len, &o->exclude[o->nexclude]) == -1) {
			fprintf(err, "proxyd: --exclude: expected at most %d "
			    "CIDRs like 10.0.0.0/8,fd00::/8, got \"%.*s\"\n",
			    RR_MAX_EXCLUDE - 2, (int)len, s);
			return -1;
		}
		o->nexclude++;
		s = end ? end + 1 : NULL;
	}
	return 0;
}

int
rr_options(const struct config *cfg, const struct rr_args *a,
    struct rr_opts *o, FILE *err)
{
	memset(o, 0, sizeof(*o));
	if (rr_uid(cfg, a->uid, o, err) == -1 ||
	    rr_port(cfg, a->port, o, err) == -1 ||
	    rr_ports(a->ports, o, err) == -1 ||
	    rr_exclude(a->exclude, o, err) == -1)
		return -1;
	return 0;
}

/* The i-th excluded CIDR of family af, as text into buf; -1: none. */
static int
rr_nth_exclude(const struct rr_opts *o, int af, size_t i, char *buf,
    size_t size)
{
	char a[INET6_ADDRSTRLEN];
	size_t k;

	for (k = 0; k < o->nexclude; k++) {
		if (o->exclude[k].family != af || i-- != 0)
			continue;
		inet_ntop(af, o->exclude[k].addr, a, sizeof(a));
		snprintf(buf, size, "%s/%d", a, o->exclude[k].prefix);
		return 0;
	}
	return -1;
}

/* Split the words of text (in buf, modified) into argv from index n. */
static int
rr_words(char *text, char **argv, int n)
{
	char *save = NULL, *w;

	for (w = strtok_r(text, " ", &save); w && n < RR_MAX_ARGS;
	    w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	return n;
}

int
rr_rule(const struct rr_opts *o, int v6, size_t i, char **argv, char *buf,
    size_t size)
{
	char cidr[64];
	size_t nexcl = 0;
	int n;

	while (rr_nth_exclude(o, v6 ? AF_INET6 : AF_INET, nexcl, cidr,
	    sizeof(cidr)) == 0)
		nexcl++;
	if (i == 0)
		n = snprintf(buf, size, "-m owner --uid-owner %u -m comment "
		    "--comment %s -j RETURN", (unsigned)o->uid, RR_COMMENT);
	else if (i <= nexcl) {
		rr_nth_exclude(o, v6 ? AF_INET6 : AF_INET, i - 1, cidr,
		    sizeof(cidr));
		n = snprintf(buf, size, "-d %s -m comment --comment %s -j "
		    "RETURN", cidr, RR_COMMENT);
	} else if (i == nexcl + 1)
		n = snprintf(buf, size, "-m multiport --dports %s -m comment "
		    "--comment %s -j REDIRECT --to-ports %u", o->ports,
		    RR_COMMENT, o->port);
	else
		return -1;
	if (n < 0 || (size_t)n >= size)
		return -1;
	argv[0] = v6 ? "ip6tables" : "iptables";
	argv[1] = "-t";
	argv[2] = "nat";
	argv[3] = "-A";
	argv[4] = "OUTPUT";
	argv[5] = "-p";
	argv[6] = "tcp";
	rr_words(buf, argv, 7);
	return 0;
}

int
rr_delete_argv(char *line, const char *cmd, char **argv, int max)
{
	char *save = NULL, *w;
	int n = 3, ours = 0;

	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "-A OUTPUT ", 10) != 0 || strchr(line, '"') ||
	    max < 5)
		return 0;
	argv[0] = (char *)cmd;
	argv[1] = "-t";
	argv[2] = "nat";
	for (w = strtok_r(line, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (n == max - 1)
			return 0;
		if (n > 3 && strcmp(w, RR_COMMENT) == 0 &&
		    strcmp(argv[n - 1], "--comment") == 0)
			ours = 1;
		argv[n++] = w;
	}
	argv[3] = "-D";
	argv[n] = NULL;
	return ours ? n : 0;
}

/* Run argv (no shell); with out, its stdout goes there.  Exit status. */
static int
rr_run(char **argv, FILE *out, FILE *err)
{
	int fds[2] = { -1, -1 }, status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	if (out != NULL && pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		if (out != NULL && dup2(fds[1], 1) == -1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(err, "proxyd: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out != NULL) {
		close(fds[1]);
		while ((n = read(fds[0], buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, out);
		close(fds[0]);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
fail:
	close(fds[0]);
	close(fds[1]);
	return -1;
}

/* Delete every rule of cmd's nat OUTPUT chain with the proxyd comment.
 * 0, or -1 when listing or a delete failed. */
static int
rr_remove(const char *cmd, FILE *err)
{
	char *list[] = { (char *)cmd, "-t", "nat", "-S", "OUTPUT", NULL };
	char *argv[RR_MAX_ARGS + 1], *text = NULL, *line, *save = NULL;
	size_t size = 0;
	FILE *mem;
	int rc = 0;

	if ((mem = open_memstream(&text, &size)) == NULL)
		return -1;
	if (rr_run(list, mem, err) != 0)
		rc = -1;
	fclose(mem);
	for (line = strtok_r(text, "\n", &save); line && rc == 0;
	    line = strtok_r(NULL, "\n", &save))
		if (rr_delete_argv(line, cmd, argv, RR_MAX_ARGS) > 0 &&
		    rr_run(argv, NULL, err) != 0)
			rc = -1;
	free(text);
	return rc;
}

/* Print or run family v6's rules.  0, or -1 when a command failed. */
static int
rr_family(const struct rr_opts *o, int v6, int apply, FILE *out, FILE *err)
{
	char *argv[RR_MAX_ARGS + 1], buf[512];
	size_t i;
	int k;

	for (i = 0; rr_rule(o, v6, i, argv, buf, sizeof(buf)) == 0; i++) {
		if (apply) {
			if (rr_run(argv, NULL, err) != 0)
				return -1;
			continue;
		}
		for (k = 0; argv[k]; k++)
			fprintf(out, "%s%s", k ? " " : "", argv[k]);
		fputc('\n', out);
	}
	return 0;
}

int
redirect_rules_main(const struct config *cfg, const struct rr_args *a,
    FILE *out, FILE *err)
{
	struct rr_opts o;
	int rc = 0;

	if (rr_options(cfg, a, &o, err) == -1)
		return 2;
	/* --apply removes ours first, so that a restarted init container
	 * does not stack a second copy of every rule. */
	if (a->action != RR_PRINT) {
		if (o.v4 && rr_remove("iptables", err) == -1)
			rc = 1;
		if (o.v6 && rr_remove("ip6tables", err) == -1)
			rc = 1;
	}
	if (a->action == RR_REMOVE || rc != 0)
		return rc;
	if ((o.v4 && rr_family(&o, 0, a->action == RR_APPLY, out, err) == -1) ||
	    (o.v6 && rr_family(&o, 1, a->action == RR_APPLY, out, err) == -1))
		return 1;
	return 0;
}
