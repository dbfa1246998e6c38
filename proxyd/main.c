/*
 * main.c - options, start-up, signals and the worker threads.
 *
 * Start-up order matters: load and validate the config, open logs and
 * every listening socket as the starting user, then drop privileges, then
 * start the workers with the signals blocked so that only the main
 * thread's event loop receives them.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "cache_fill.h"
#include "cache_verify.h"
#include "fdlimit.h"
#include "env.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "notify.h"
#include "redirect_rules.h"
#include "preflight.h"
#include "route.h"
#include "worker.h"

struct daemon {
	struct config		*cfg;
	struct logger		*log;
	struct worker		*workers;
	int			 nworkers;
	struct event_base	*base;
	int			 failed_reloads;
	struct metrics		*metrics;	/* admin listener on only */
	struct admin		*admin;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: proxyd [-dt] [-c FILE]\n"
	    "       proxyd --explain TARGET [--user NAME] [-c FILE]\n"
	    "       proxyd --env [--format sh|fish|dotenv|github] [-c FILE]\n"
	    "       proxyd --cache-verify [-c FILE]\n"
	    "       proxyd --cache-fill FILE [-c FILE]\n"
	    "       proxyd --redirect-rules [-c FILE] [--uid N] [--port P]\n"
	    "              [--ports 80,443] [--exclude CIDR,...] [--apply|--remove]\n"
	    "       proxyd -V | -h\n"
	    "  -c FILE  configuration file (default: built-in defaults,\n"
	    "           listen 127.0.0.1:3128, loopback clients only)\n"
	    "  -d       debug lines in the error log (why each client closed)\n"
	    "  -t       check the configuration and exit (0 ok, 1 errors)\n"
	    "  --explain TARGET\n"
	    "           print the route a URL (GET) or host:port (CONNECT)\n"
	    "           would take, why, its upstreams and limits; for a\n"
	    "           GOPROXY path (/golang.org/x/text/@v/list), its\n"
	    "           module route, mirrors and cache; with --user NAME,\n"
	    "           whether the route takes that user (users =)\n"
	    "  --env    print the client settings that match the rules\n"
	    "           (HTTP_PROXY, NO_PROXY, GOPROXY, GONOPROXY ...)\n"
	    "  --cache-verify\n"
	    "           check every module cache entry (size, SHA-256),\n"
	    "           remove bad ones; exit 1 when any was removed\n"
	    "  --cache-fill FILE\n"
	    "           fetch the modules of a go.sum (or module@version\n"
	    "           lines) into the module cache; exit 1 if any failed\n"
	    "  --redirect-rules\n"
	    "           print the iptables rules that redirect outbound TCP\n"
	    "           to --ports to the transparent listener (--port),\n"
	    "           except proxyd's --uid, loopback and --exclude;\n"
	    "           --apply runs them, --remove deletes them\n"
	    "  -V       print the version\n"
	    "  -h       this help\n");
}

/*
 * One --redirect-rules option into a: 1 for --redirect-rules, 4 for
 * the options that go with it, 2 (usage) for a second action.
 */
static int
redirect_option(struct rr_args *a, int ch, const char *arg)
{
	switch (ch) {
	case 'R':
		return 1;
	case 'I':
		a->uid = arg;
		return 4;
	case 'P':
		a->port = arg;
		return 4;
	case 'O':
		a->ports = arg;
		return 4;
	case 'X':
		a->exclude = arg;
		return 4;
	}
	if (a->action != RR_PRINT)
		return 2;
	a->action = ch == 'A' ? RR_APPLY : RR_REMOVE;
	return 4;
}

/* Switch to cfg->user; every step must succeed or we refuse to run. */
static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "proxyd: user %s: no such user\n", user);
		return -1;
	}
	/* Already that user (started by it): nothing to switch, and
	 * setgroups() would fail without root. */
	if (geteuid() == pw->pw_uid && getegid() == pw->pw_gid)
		return 0;
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		fprintf(stderr, "proxyd: switching to %s: %s\n", user,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
daemon_stop(struct daemon *d)
{
	int i;

	/* Not ready from now on; the admin listener serves on until exit. */
	admin_set_ready(d->admin, 0);
	for (i = 0; i < d->nworkers; i++)
		worker_stop(&d->workers[i]);
	event_base_loopexit(d->base, NULL);
}

/* SIGHUP: the new snapshot, or the old one keeps serving unchanged. */
static void
daemon_reload(struct daemon *d)
{
	struct config *c;

	notify_reloading();
	c = reload_config(d->cfg, d->workers, d->nworkers, d->log,
	    d->metrics);
	metrics_config_reload(d->metrics, c != NULL);
	if (c == NULL) {
		d->failed_reloads++;
		log_error(d->log, "reload failed (%d so far): the previous "
		    "configuration keeps serving, unchanged",
		    d->failed_reloads);
	} else {
		admin_set_config(d->admin, c);	/* PAC, admin_allow, limits */
		config_unref(d->cfg);
		d->cfg = c;
	}
	notify_ready();
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_error(d->log, "signal %d: draining connections, then exit",
		    (int)sig);
		notify_stopping();
		daemon_stop(d);
		break;
	case SIGUSR1:
		log_reopen(d->log);
		break;
	case SIGHUP:
		daemon_reload(d);
		break;
	}
}

/*
 * Block or unblock the signals proxyd handles.  They stay blocked from
 * before the listening sockets open until the main loop's handlers are
 * in place, so a SIGTERM sent as soon as the port answers is still a
 * graceful stop, never the default action.
 */
static void
daemon_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(how, &set, NULL);
}

/* Open every worker's sockets (before dropping privileges). */
static int
daemon_bind(struct daemon *d)
{
	int i, j;

	d->nworkers = d->cfg->workers;
	if ((d->workers = calloc((size_t)d->nworkers,
	    sizeof(*d->workers))) == NULL)
		return -1;
	for (i = 0; i < d->nworkers; i++) {
		for (j = 0; j < CONFIG_MAX_LISTEN; j++)
			d->workers[i].listen_fds[j] = -1;
		d->workers[i].stop_pipe[0] = d->workers[i].stop_pipe[1] = -1;
		d->workers[i].swap_pipe[0] = d->workers[i].swap_pipe[1] = -1;
		d->workers[i].metrics = d->metrics;
		if (worker_bind(&d->workers[i], d->cfg) == -1)
			return -1;
	}
	if (d->cfg->admin_listen.len > 0 &&
	    (d->admin = admin_bind(d->cfg)) == NULL)
		return -1;
	return 0;
}

/*
 * The admin listener's counters, before any snapshot reaches a worker
 * (a reload binds its new snapshot the same way).
 */
static int
daemon_metrics(struct daemon *d)
{
	if (d->cfg->admin_listen.len == 0)
		return 0;
	if ((d->metrics = metrics_new()) == NULL ||
	    metrics_bind(d->metrics, d->cfg) == -1) {
		fprintf(stderr, "proxyd: metrics: out of memory\n");
		return -1;
	}
	return 0;
}

static int
daemon_start(struct daemon *d)
{
	int i, share, rc = 0;

	share = (d->cfg->max_clients + d->nworkers - 1) / d->nworkers;
	/* Signals are blocked (main()): the workers inherit that. */
	for (i = 0; i < d->nworkers && rc == 0; i++) {
		if (worker_init(&d->workers[i], i, d->cfg, d->log, share) ==
		    -1 || worker_start(&d->workers[i]) == -1) {
			fprintf(stderr, "proxyd: cannot start worker %d\n", i);
			rc = -1;
		}
	}
	if (rc == -1)
		d->nworkers = i - 1;	/* join only the started ones */
	return rc;
}

static void
daemon_free(struct daemon *d)
{
	int i;

	for (i = 0; d->workers && i < d->cfg->workers; i++)
		worker_free(&d->workers[i]);
	free(d->workers);
	admin_free(d->admin);
	metrics_free(d->metrics);
	if (d->base)
		event_base_free(d->base);
	log_close(d->log);
	config_unref(d->cfg);
}

/*
 * glibc gives a worker arena's free top back with madvise() once it
 * passes 128 KiB: every 64 KiB read buffer freed cost a syscall.  A
 * proxy's working set comes back at once; 8 MiB stays mapped instead.
 * Setting that turns off glibc's sliding mmap threshold, so it is set
 * too: buffers up to 1 MiB (writes are 256 KiB) come from the heap, not
 * an mmap() and munmap() each.
 */
static void
malloc_tune(void)
{
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
	(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
#endif
}

static int
daemon_run(struct daemon *d)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct event *ev[4] = { NULL, NULL, NULL, NULL };
	size_t i;
	int rc = 1;

	malloc_tune();
	if ((d->base = event_base_new()) == NULL)
		return 1;
	for (i = 0; i < 4; i++) {
		ev[i] = evsignal_new(d->base, sigs[i], signal_cb, d);
		if (ev[i] == NULL || evsignal_add(ev[i], NULL) == -1)
			goto out;
	}
	if (d->admin && admin_start(d->admin, d->cfg, d->metrics,
	    d->log) == -1) {
		fprintf(stderr, "proxyd: cannot start the admin listener\n");
		goto out;
	}
	if (daemon_start(d) == 0) {
		admin_set_ready(d->admin, 1);
		daemon_signals(SIG_UNBLOCK);
		log_error(d->log, "proxyd %s: %d workers, listening on %s%s",
		    PROXYD_VERSION, d->nworkers, d->cfg->listen[0].text,
		    d->cfg->nlisten > 1 ? " and more" : "");
		notify_ready();
		event_base_dispatch(d->base);
		rc = 0;
	} else {
		daemon_stop(d);
	}
	for (i = 0; i < (size_t)d->nworkers; i++)
		worker_join(&d->workers[i]);
	admin_stop(d->admin);
out:
	for (i = 0; i < 4; i++)
		if (ev[i])
			event_free(ev[i]);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct daemon d;
	static const struct option longopts[] = {
		{ "explain", required_argument, NULL, 'E' },
		{ "user", required_argument, NULL, 'U' },
		{ "env", no_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'F' },
		{ "cache-verify", no_argument, NULL, 'C' },
		{ "cache-fill", required_argument, NULL, 'L' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "redirect-rules", no_argument, NULL, 'R' },
		{ "uid", required_argument, NULL, 'I' },
		{ "port", required_argument, NULL, 'P' },
		{ "ports", required_argument, NULL, 'O' },
		{ "exclude", required_argument, NULL, 'X' },
		{ "apply", no_argument, NULL, 'A' },
		{ "remove", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *explain = NULL, *format = NULL;
	const char *user = NULL, *fill = NULL;
	int ch, test = 0, debug = 0, env = 0, verify = 0, redirect = 0, rc;
	struct rr_args rra;

	memset(&rra, 0, sizeof(rra));

	while ((ch = getopt_long(argc, argv, "c:dthV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'E':
			explain = optarg;
			break;
		case 'U':
			user = optarg;
			break;
		case 'e':
			env = 1;
			break;
		case 'F':
			format = optarg;
			break;
		case 'C':
			verify = 1;
			break;
		case 'L':
			fill = optarg;
			break;
		case 'c':
			path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'R':
		case 'I':
		case 'P':
		case 'O':
		case 'X':
		case 'A':
		case 'M':
			redirect |= redirect_option(&rra, ch, optarg);
			break;
		case 'V':
			printf("proxyd %s\n", PROXYD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (format && !env) || (user && !explain) ||
	    (redirect & 2) || (redirect == 4)) {
		usage(stderr);
		return 2;
	}
	memset(&d, 0, sizeof(d));
	d.cfg = path ? config_load(path, stderr) : config_default();
	if (d.cfg == NULL)
		return 1;
	if (explain) {
		rc = route_explain(d.cfg, explain, user, stdout) == 0 ? 0 : 1;
		config_unref(d.cfg);
		return rc;
	}
	if (fill) {
		signal(SIGPIPE, SIG_IGN);
		rc = cache_fill_main(d.cfg, fill, stdout);
		config_unref(d.cfg);
		return rc;
	}
	if (verify) {
		rc = cache_verify_main(d.cfg, stdout);
		config_unref(d.cfg);
		return rc;
	}
	if (redirect & 1) {
		rc = redirect_rules_main(d.cfg, &rra, stdout, stderr);
		config_unref(d.cfg);
		return rc;
	}
	if (env) {
		rc = env_main(d.cfg, format, stdout, stderr);
		config_unref(d.cfg);
		return rc;
	}
	if (test) {
		if (preflight_check(d.cfg, PREFLIGHT_LISTEN, stderr) > 0) {
			config_unref(d.cfg);
			return 1;
		}
		printf("%s: configuration OK\n", path ? path : "(defaults)");
		config_unref(d.cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	daemon_signals(SIG_BLOCK);
	if (daemon_metrics(&d) == -1 ||
	    preflight_check(d.cfg, 0, stderr) > 0 ||
	    (d.log = log_open(d.cfg->access_log, d.cfg->error_log)) == NULL)
		goto fail;
	fdlimit_raise(d.log);
	fdlimit_check(d.cfg, d.log);
	if (daemon_bind(&d) == -1 || drop_privileges(d.cfg->user) == -1)
		goto fail;
	log_set_debug(d.log, debug);
	log_set_json(d.log, d.cfg->access_log_json);
	rc = daemon_run(&d);
	daemon_free(&d);
	return rc;
fail:
	daemon_free(&d);
	return 1;
}
