/*
 * reload.c - the main thread's side of a reload (SIGHUP): load and check
 * the file in full, carry over what must survive (route limiters, the
 * listening sockets of addresses kept), bind what was added, and hand the
 * snapshot to the workers.  Nothing is changed before the new file has
 * been found good and every added address bound: a reload either applies
 * in full or not at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "fdlimit.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "worker.h"
#include "worker_swap.h"

/* config_load() with each of its error lines sent to the error log. */
static struct config *
reload_load(const char *path, struct logger *log)
{
	struct config *c;
	char *buf = NULL, *line, *next;
	size_t len = 0;
	FILE *errs;

	if ((errs = open_memstream(&buf, &len)) == NULL) {
		log_error(log, "reload: %s", strerror(errno));
		return NULL;
	}
	c = config_load(path, errs);
	fclose(errs);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		log_error(log, "%s", line);
	}
	free(buf);
	return c;
}

/* Are two optional strings (paths, names) the same? */
static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * What a running proxyd cannot change: say so, and keep the old value
 * where the daemon reads it from the snapshot (workers).
 */
static void
reload_restart_needed(const struct config *old, struct config *c,
    struct logger *log)
{
	static const char fmt[] = "reload: %s changed: a restart is needed "
	    "to apply it; the running value stays";

	if (c->workers != old->workers) {
		log_error(log, "reload: workers changed from %d to %d: a "
		    "restart is needed to apply it; %d workers stay",
		    old->workers, c->workers, old->workers);
		c->workers = old->workers;
	}
	if (!same_str(old->user, c->user))
		log_error(log, fmt, "user");
	if (!same_str(old->access_log, c->access_log))
		log_error(log, fmt, "access_log");
	if (!same_str(old->error_log, c->error_log))
		log_error(log, fmt, "error_log");
	if (!same_str(old->resolv_conf, c->resolv_conf))
		log_error(log, fmt, "resolv_conf");
	if (!same_str(old->hosts_file, c->hosts_file))
		log_error(log, fmt, "hosts_file");
	if (!same_str(old->ca_file, c->ca_file))
		log_error(log, fmt, "ca_file");
	if (!same_str(old->admin_listen.text, c->admin_listen.text))
		log_error(log, fmt, "admin_listen");
}

/* Do two routes enforce the same limits (so one limiter serves both)? */
static int
same_limits(const struct route *a, const struct route *b)
{
	return strcmp(a->name, b->name) == 0 && a->rate == b->rate &&
	    a->burst == b->burst && a->client_rate == b->client_rate &&
	    a->client_burst == b->client_burst &&
	    a->bandwidth == b->bandwidth &&
	    a->client_bandwidth == b->client_bandwidth &&
	    a->max_conns == b->max_conns && a->queue == b->queue;
}

/*
 * A route whose name and limits are unchanged shares the old route's
 * limiter: its buckets, client table, queue and connection counts go on
 * (requests in flight on the old snapshot still count against it).
 */
static void
reload_carry_limiters(const struct config *old, struct config *c)
{
	size_t i, j;

	for (i = 0; i < c->nroutes; i++) {
		if (c->routes[i].limiter == NULL)
			continue;
		for (j = 0; j < old->nroutes; j++) {
			if (old->routes[j].limiter == NULL ||
			    !same_limits(&old->routes[j], &c->routes[i]))
				continue;
			limiter_free(c->routes[i].limiter);
			c->routes[i].limiter =
			    limiter_ref(old->routes[j].limiter);
			break;
		}
	}
}

/* The index of old's listen address equal to la, or -1. */
static int
listen_index(const struct config *old, const struct listen_addr *la)
{
	char a[64], b[64];
	size_t i;

	sockaddr_text((const struct sockaddr *)&la->ss, a, sizeof(a));
	for (i = 0; i < old->nlisten; i++) {
		sockaddr_text((const struct sockaddr *)&old->listen[i].ss, b,
		    sizeof(b));
		if (strcmp(a, b) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * One message per worker: kept addresses point at the old listener,
 * added ones get a socket bound here (as the current user: after
 * `user =`, a port below 1024 cannot be).  0, or -1 (logged; the
 * messages made so far are freed).
 */
static int
reload_messages(const struct config *old, struct config *c, int n,
    struct worker_swap **msgs, struct logger *log)
{
	int i, share = (c->max_clients + n - 1) / n;
	size_t k;

	for (i = 0; i < n; i++) {
		if ((msgs[i] = worker_swap_new(c, share)) == NULL) {
			log_error(log, "reload: %s", strerror(ENOMEM));
			goto fail;
		}
		for (k = 0; k < c->nlisten; k++) {
			msgs[i]->from[k] = listen_index(old, &c->listen[k]);
			if (msgs[i]->from[k] != -1)
				continue;
			msgs[i]->fds[k] = worker_listen_socket(&c->listen[k]);
			if (msgs[i]->fds[k] == -1) {
				log_error(log, "reload: listen %s: %s",
				    c->listen[k].text, strerror(errno));
				i++;
				goto fail;
			}
		}
	}
	return 0;
fail:
	while (i-- > 0)
		worker_swap_free_msg(msgs[i]);
	return -1;
}

/* What the new snapshot changes in listeners, for the log line. */
static void
reload_report(const struct config *old, const struct config *c,
    struct logger *log)
{
	size_t i, added = 0, kept = 0;

	for (i = 0; i < c->nlisten; i++) {
		if (listen_index(old, &c->listen[i]) == -1)
			added++;
		else
			kept++;
	}
	log_error(log, "reload: %s loaded: %zu routes; listeners: %zu kept, "
	    "%zu added, %zu closed", c->path, c->nroutes - 1, kept, added,
	    old->nlisten - kept);
}

struct config *
reload_config(struct config *old, struct worker *workers, int n,
    struct logger *log, struct metrics *m)
{
	struct worker_swap **msgs = NULL;
	struct config *c;
	int i;

	if (old->path == NULL) {
		log_error(log, "SIGHUP: running on built-in defaults (no -c): "
		    "no file to reload");
		return NULL;
	}
	log_error(log, "SIGHUP: reloading %s", old->path);
	if ((c = reload_load(old->path, log)) == NULL)
		return NULL;
	reload_restart_needed(old, c, log);
	reload_carry_limiters(old, c);
	if (m != NULL && metrics_bind(m, c) == -1)
		log_error(log, "reload: metrics: out of memory (some routes "
		    "are not counted)");
	if ((msgs = calloc((size_t)n, sizeof(*msgs))) == NULL ||
	    reload_messages(old, c, n, msgs, log) == -1) {
		free(msgs);
		config_unref(c);
		return NULL;
	}
	reload_report(old, c, log);
	fdlimit_check(c, log);
	for (i = 0; i < n; i++)
		if (worker_swap_send(&workers[i], msgs[i]) == -1)
			log_error(log, "reload: worker %d: cannot hand it the "
			    "new configuration: %s", i, strerror(errno));
	free(msgs);
	return c;
}
