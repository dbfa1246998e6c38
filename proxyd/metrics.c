/*
 * metrics.c - counters, gauges and histograms, and their Prometheus text
 * exposition.
 *
 * Every value is a 64-bit atomic updated with relaxed ordering: workers
 * add, the admin thread reads at scrape time, and nothing needs the
 * values to agree with each other to the request (a scrape is a sample).
 * The series lists only grow, under a mutex, from metrics_bind(); the
 * hot path never takes it.  Histograms count per bucket and cumulate at
 * scrape, so +Inf and _count are the same sum and always agree.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

#define ADD(p, n)	__atomic_fetch_add((p), (n), __ATOMIC_RELAXED)
#define GET(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define SET(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* Bucket upper bounds in ms (printed as seconds), ending with +Inf. */
static const int64_t duration_le[] = { 5, 10, 25, 50, 100, 250, 500, 1000,
	2500, 5000, 10000, 30000, 60000, 300000 };
static const int64_t connect_le[] = { 1, 5, 10, 25, 50, 100, 250, 500,
	1000, 2500, 5000, 10000 };
#define NDURATION	(sizeof(duration_le) / sizeof(duration_le[0]))
#define NCONNECT	(sizeof(connect_le) / sizeof(connect_le[0]))
#define MAXBUCKETS	(NDURATION + 1)

static const char *const kind_names[METRICS_NKINDS] = {
	"forward", "connect", "goproxy"
};
static const char *const fail_names[METRICS_NFAILS] = {
	"refused", "timeout", "tls", "dns", "reset", "protocol"
};
static const char *const limit_names[METRICS_NLIMITS] = {
	"rate", "conns", "queue_full"
};
static const char *const would_deny_names[METRICS_NWOULD_DENY] = {
	"destination", "route", "users", "rate"
};

struct histogram {
	uint64_t	buckets[MAXBUCKETS];	/* the last one is +Inf */
	uint64_t	sum_ms;
};

struct upstream_metrics {
	char			*label;
	uint64_t		 attempts;
	uint64_t		 failures[METRICS_NFAILS];
	struct upstream_metrics	*next;
};

struct route_metrics {
	char			*name;
	uint64_t		 requests[METRICS_NKINDS][5];	/* 1xx..5xx */
	uint64_t		 bytes[2];			/* in, out */
	uint64_t		 limited[METRICS_NLIMITS];
	uint64_t		 would_deny[METRICS_NWOULD_DENY];
	struct histogram	 duration;
	struct histogram	 connect;
	struct upstream_metrics	*upstreams;	/* newest first */
	struct route_metrics	*next;		/* in the order first bound */
	struct route_metrics	*hnext;		/* in its hash bucket */
};

struct metrics {
	pthread_mutex_t		 lock;		/* the lists, not the values */
	struct route_metrics	*routes;	/* oldest first */
	struct route_metrics	**tail;		/* of routes, for appending */
	struct route_metrics	**buckets;	/* by name, for binding */
	size_t			 nbuckets;	/* a power of two */
	size_t			 nroutes;
	struct route_metrics	*none;		/* route "-": before routing */
	int64_t			 clients;	/* gauges */
	int64_t			 tunnels;
	uint64_t		 reloads[2];	/* error, ok */
	int64_t			 reload_ok_time;	/* seconds */
	uint64_t		 auth_checks[2];	/* wrong, good */
};

static struct route_metrics *
route_series_new(const char *name)
{
	struct route_metrics *rm;

	if ((rm = calloc(1, sizeof(*rm))) == NULL)
		return NULL;
	if ((rm->name = strdup(name)) == NULL) {
		free(rm);
		return NULL;
	}
	return rm;
}

struct metrics *
metrics_new(void)
{
	struct metrics *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->tail = &m->routes;
	if ((m->none = route_series_new("-")) == NULL) {
		metrics_free(m);
		return NULL;
	}
	m->reload_ok_time = (int64_t)time(NULL);
	return m;
}

static void
route_series_free(struct route_metrics *rm)
{
	struct upstream_metrics *um;

	while ((um = rm->upstreams) != NULL) {
		rm->upstreams = um->next;
		free(um->label);
		free(um);
	}
	free(rm->name);
	free(rm);
}

void
metrics_free(struct metrics *m)
{
	struct route_metrics *rm;

	if (m == NULL)
		return;
	while ((rm = m->routes) != NULL) {
		m->routes = rm->next;
		route_series_free(rm);
	}
	if (m->none)
		route_series_free(m->none);
	free(m->buckets);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* FNV-1a of a route name. */
static size_t
name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* Keep at most two series a bucket on average (100,000 routes bind in
 * linear time).  -1 when out of memory. */
static int
route_table_grow(struct metrics *m)
{
	struct route_metrics **nb, *rm;
	size_t n = m->nbuckets ? m->nbuckets * 2 : 64, h;

	if (m->nroutes < m->nbuckets * 2)
		return 0;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return -1;
	for (rm = m->routes; rm != NULL; rm = rm->next) {
		h = name_hash(rm->name) & (n - 1);
		rm->hnext = nb[h];
		nb[h] = rm;
	}
	free(m->buckets);
	m->buckets = nb;
	m->nbuckets = n;
	return 0;
}

/* The series of route name, created if new; NULL when out of memory. */
static struct route_metrics *
route_series(struct metrics *m, const char *name)
{
	struct route_metrics *rm;
	size_t h;

	if (route_table_grow(m) == -1)
		return NULL;
	h = name_hash(name) & (m->nbuckets - 1);
	for (rm = m->buckets[h]; rm != NULL; rm = rm->hnext)
		if (strcmp(rm->name, name) == 0)
			return rm;
	if ((rm = route_series_new(name)) == NULL)
		return NULL;
	rm->hnext = m->buckets[h];
	m->buckets[h] = rm;
	*m->tail = rm;
	m->tail = &rm->next;
	m->nroutes++;
	return rm;
}

static struct upstream_metrics *
upstream_series(struct route_metrics *rm, const char *label)
{
	struct upstream_metrics *um;

	for (um = rm->upstreams; um != NULL; um = um->next)
		if (strcmp(um->label, label) == 0)
			return um;
	if ((um = calloc(1, sizeof(*um))) == NULL)
		return NULL;
	if ((um->label = strdup(label)) == NULL) {
		free(um);
		return NULL;
	}
	um->next = rm->upstreams;
	rm->upstreams = um;
	return um;
}

int
metrics_bind(struct metrics *m, struct config *cfg)
{
	struct route *r;
	size_t i, j;
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < cfg->nroutes && rc == 0; i++) {
		r = &cfg->routes[i];
		if ((r->metrics = route_series(m, r->name)) == NULL) {
			rc = -1;
			break;
		}
		for (j = 0; j < r->nupstreams; j++)
			if ((r->upstreams[j].metrics = upstream_series(
			    r->metrics, r->upstreams[j].label)) == NULL)
				rc = -1;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void
histogram_add(struct histogram *h, const int64_t *le, size_t n, int64_t ms)
{
	size_t i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < n && ms > le[i]; i++)
		;
	ADD(&h->buckets[i], 1);
	ADD(&h->sum_ms, (uint64_t)ms);
}

void
metrics_request(struct metrics *m, const struct route *r,
    enum metrics_kind kind, int status, uint64_t bytes_in,
    uint64_t bytes_out, int64_t ms)
{
	struct route_metrics *rm = r ? r->metrics : m ? m->none : NULL;

	if (rm == NULL)
		return;
	if (status >= 100 && status <= 599)
		ADD(&rm->requests[kind][status / 100 - 1], 1);
	ADD(&rm->bytes[0], bytes_in);
	ADD(&rm->bytes[1], bytes_out);
	histogram_add(&rm->duration, duration_le, NDURATION, ms);
}

void
metrics_attempt(const struct route *r, int upi, int ok,
    enum metrics_fail reason, int64_t ms)
{
	struct upstream_metrics *um;

	if (r == NULL || r->metrics == NULL || upi < 0 ||
	    (um = r->upstreams[upi].metrics) == NULL)
		return;
	ADD(&um->attempts, 1);
	if (!ok)
		ADD(&um->failures[reason], 1);
	histogram_add(&r->metrics->connect, connect_le, NCONNECT, ms);
}

void
metrics_upstream_failed(const struct route *r, int upi,
    enum metrics_fail reason)
{
	struct upstream_metrics *um;

	if (r != NULL && upi >= 0 && (um = r->upstreams[upi].metrics) != NULL)
		ADD(&um->failures[reason], 1);
}

enum metrics_fail
metrics_failure_reason(int status, const char *why)
{
	if (why == NULL)
		why = "";
	if (status == 504 || strstr(why, "timed out") ||
	    strstr(why, "timeout"))
		return METRICS_TIMEOUT;
	if (strstr(why, "TLS"))
		return METRICS_TLS;
	if (strstr(why, "resolve"))
		return METRICS_DNS;
	if (strcasestr(why, "connection refused"))
		return METRICS_REFUSED;
	if (strstr(why, "reset") || strstr(why, "closed"))
		return METRICS_RESET;
	return METRICS_PROTOCOL;
}

void
metrics_limited(const struct route *r, enum metrics_limit l)
{
	if (r != NULL && r->metrics != NULL)
		ADD(&r->metrics->limited[l], 1);
}

void
metrics_would_deny(const struct route *r, enum metrics_would_deny why)
{
	if (r != NULL && r->metrics != NULL)
		ADD(&r->metrics->would_deny[why], 1);
}

void
metrics_clients(struct metrics *m, int delta)
{
	if (m)
		ADD(&m->clients, delta);
}

void
metrics_tunnels(struct metrics *m, int delta)
{
	if (m)
		ADD(&m->tunnels, delta);
}

void
metrics_auth_verified(struct metrics *m, int ok)
{
	if (m)
		ADD(&m->auth_checks[ok ? 1 : 0], 1);
}

void
metrics_config_reload(struct metrics *m, int ok)
{
	if (m == NULL)
		return;
	ADD(&m->reloads[ok ? 1 : 0], 1);
	if (ok)
		SET(&m->reload_ok_time, (int64_t)time(NULL));
}

/*
 * A label value as the exposition format wants it: backslash, double
 * quote and newline escaped.  Route names and upstream labels are
 * config text, so they may hold any of them.
 */
static void
put_label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void
put_ms_as_seconds(FILE *out, uint64_t ms)
{
	fprintf(out, "%llu.%03llu", (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000));
}

static void
header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Has anything been counted for rm?  (Histograms count every request
 * and every attempt; limited ones are counted as requests too.) */
static int
route_active(const struct route_metrics *rm)
{
	const struct upstream_metrics *um;
	size_t i;

	for (i = 0; i < MAXBUCKETS; i++)
		if (GET(&rm->duration.buckets[i]) || GET(&rm->connect.buckets[i]))
			return 1;
	for (um = rm->upstreams; um != NULL; um = um->next)
		for (i = 0; i < METRICS_NFAILS; i++)
			if (GET(&um->failures[i]))
				return 1;
	return 0;
}

/* The route after rm ("-" first, then in binding order) that has seen
 * traffic: a config of 100,000 routes makes no giant scrape for the
 * few it uses.  The lock keeps the list still. */
static struct route_metrics *
next_active(const struct metrics *m, const struct route_metrics *rm)
{
	struct route_metrics *n = rm == NULL ? m->none :
	    rm == m->none ? m->routes : rm->next;

	while (n != NULL && !route_active(n))
		n = n == m->none ? m->routes : n->next;
	return n;
}

#define FOR_ROUTES(m, rm) \
	for ((rm) = next_active((m), NULL); (rm) != NULL; \
	    (rm) = next_active((m), (rm)))

static void
write_requests(struct metrics *m, FILE *out)
{
	struct route_metrics *rm;
	int k, c;

	header(out, "proxyd_requests_total", "counter",
	    "Requests and tunnels ended, by route, kind and status class.");
	FOR_ROUTES(m, rm)
		for (k = 0; k < METRICS_NKINDS; k++)
			for (c = 0; c < 5; c++) {
				fputs("proxyd_requests_total{route=\"", out);
				put_label(out, rm->name);
				fprintf(out, "\",kind=\"%s\",code=\"%dxx\"} "
				    "%llu\n", kind_names[k], c + 1,
				    (unsigned long long)GET(
				    &rm->requests[k][c]));
			}
	header(out, "proxyd_bytes_total", "counter",
	    "Bytes from clients (in) and to clients (out), by route.");
	FOR_ROUTES(m, rm)
		for (k = 0; k < 2; k++) {
			fputs("proxyd_bytes_total{route=\"", out);
			put_label(out, rm->name);
			fprintf(out, "\",direction=\"%s\"} %llu\n",
			    k ? "out" : "in",
			    (unsigned long long)GET(&rm->bytes[k]));
		}
}

static void
write_upstreams(struct metrics *m, FILE *out)
{
	struct route_metrics *rm;
	struct upstream_metrics *um;
	int f;

	header(out, "proxyd_upstream_attempts_total", "counter",
	    "Connection attempts to an upstream (a pooled connection "
	    "reused is none).");
	FOR_ROUTES(m, rm)
		for (um = rm->upstreams; um != NULL; um = um->next) {
			fputs("proxyd_upstream_attempts_total{route=\"", out);
			put_label(out, rm->name);
			fputs("\",upstream=\"", out);
			put_label(out, um->label);
			fprintf(out, "\"} %llu\n",
			    (unsigned long long)GET(&um->attempts));
		}
	header(out, "proxyd_upstream_failures_total", "counter",
	    "Upstream failures that count toward fail_threshold, by reason.");
	FOR_ROUTES(m, rm)
		for (um = rm->upstreams; um != NULL; um = um->next)
			for (f = 0; f < METRICS_NFAILS; f++) {
				fputs("proxyd_upstream_failures_total{route=\"",
				    out);
				put_label(out, rm->name);
				fputs("\",upstream=\"", out);
				put_label(out, um->label);
				fprintf(out, "\",reason=\"%s\"} %llu\n",
				    fail_names[f], (unsigned long long)GET(
				    &um->failures[f]));
			}
}

static void
write_histogram(FILE *out, const char *name, const char *route,
    const struct histogram *h, const int64_t *le, size_t n)
{
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= n; i++) {
		cum += GET(&h->buckets[i]);
		fprintf(out, "%s_bucket{route=\"", name);
		put_label(out, route);
		fputs("\",le=\"", out);
		if (i < n)
			fprintf(out, "%g", (double)le[i] / 1000);
		else
			fputs("+Inf", out);
		fprintf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(out, "%s_sum{route=\"", name);
	put_label(out, route);
	fputs("\"} ", out);
	put_ms_as_seconds(out, GET(&h->sum_ms));
	fprintf(out, "\n%s_count{route=\"", name);
	put_label(out, route);
	fprintf(out, "\"} %llu\n", (unsigned long long)cum);
}

static void
write_histograms(struct metrics *m, FILE *out)
{
	struct route_metrics *rm;

	header(out, "proxyd_request_duration_seconds", "histogram",
	    "From a request's head (or CONNECT) to its end, by route.");
	FOR_ROUTES(m, rm)
		write_histogram(out, "proxyd_request_duration_seconds",
		    rm->name, &rm->duration, duration_le, NDURATION);
	header(out, "proxyd_upstream_connect_duration_seconds", "histogram",
	    "Connection attempts to upstreams (DNS, TCP, parent, TLS).");
	FOR_ROUTES(m, rm)
		write_histogram(out, "proxyd_upstream_connect_duration_seconds",
		    rm->name, &rm->connect, connect_le, NCONNECT);
}

static void
write_limited(struct metrics *m, FILE *out)
{
	struct route_metrics *rm;
	int l;

	header(out, "proxyd_limited_total", "counter",
	    "Requests refused by a route's limits (429/503).");
	FOR_ROUTES(m, rm)
		for (l = 0; l < METRICS_NLIMITS; l++) {
			fputs("proxyd_limited_total{route=\"", out);
			put_label(out, rm->name);
			fprintf(out, "\",limit=\"%s\"} %llu\n",
			    limit_names[l],
			    (unsigned long long)GET(&rm->limited[l]));
		}
	header(out, "proxyd_would_deny_total", "counter",
	    "Requests served in audit mode that the policy would refuse.");
	FOR_ROUTES(m, rm)
		for (l = 0; l < METRICS_NWOULD_DENY; l++) {
			fputs("proxyd_would_deny_total{route=\"", out);
			put_label(out, rm->name);
			fprintf(out, "\",reason=\"%s\"} %llu\n",
			    would_deny_names[l],
			    (unsigned long long)GET(&rm->would_deny[l]));
		}
}

/* Open descriptors: the entries of /proc/self/fd, less the one reading. */
static long
open_fds(void)
{
	struct dirent *de;
	DIR *d;
	long n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* Resident set size: /proc/self/statm's second field, in pages. */
static long long
resident_bytes(void)
{
	unsigned long long size, rss;
	FILE *f;
	int n;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return -1;
	n = fscanf(f, "%llu %llu", &size, &rss);
	fclose(f);
	return n == 2 ? (long long)(rss * (unsigned long long)
	    sysconf(_SC_PAGESIZE)) : -1;
}

static void
write_process(struct metrics *m, FILE *out)
{
	long fds = open_fds();
	long long rss = resident_bytes();

	header(out, "proxyd_client_connections_open", "gauge",
	    "Client connections open on the proxy ports.");
	fprintf(out, "proxyd_client_connections_open %lld\n",
	    (long long)GET(&m->clients));
	header(out, "proxyd_tunnels_open", "gauge",
	    "CONNECT tunnels open (from the CONNECT to the end).");
	fprintf(out, "proxyd_tunnels_open %lld\n", (long long)GET(&m->tunnels));
	header(out, "proxyd_config_reloads_total", "counter",
	    "Configuration reloads, by result.");
	fprintf(out, "proxyd_config_reloads_total{result=\"ok\"} %llu\n"
	    "proxyd_config_reloads_total{result=\"error\"} %llu\n",
	    (unsigned long long)GET(&m->reloads[1]),
	    (unsigned long long)GET(&m->reloads[0]));
	header(out, "proxyd_config_last_reload_success_timestamp_seconds",
	    "gauge", "When the configuration in use was loaded (Unix time).");
	fprintf(out, "proxyd_config_last_reload_success_timestamp_seconds "
	    "%lld\n", (long long)GET(&m->reload_ok_time));
	header(out, "proxyd_auth_verifications_total", "counter",
	    "Password hash verifications performed, by result (cached "
	    "logins cost none).");
	fprintf(out, "proxyd_auth_verifications_total{result=\"ok\"} %llu\n"
	    "proxyd_auth_verifications_total{result=\"fail\"} %llu\n",
	    (unsigned long long)GET(&m->auth_checks[1]),
	    (unsigned long long)GET(&m->auth_checks[0]));
	if (fds >= 0) {
		header(out, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		fprintf(out, "process_open_fds %ld\n", fds);
	}
	if (rss >= 0) {
		header(out, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		fprintf(out, "process_resident_memory_bytes %lld\n", rss);
	}
}

int
metrics_write(struct metrics *m, FILE *out)
{
	pthread_mutex_lock(&m->lock);
	write_requests(m, out);
	write_upstreams(m, out);
	write_histograms(m, out);
	write_limited(m, out);
	pthread_mutex_unlock(&m->lock);
	write_process(m, out);
	return ferror(out) ? -1 : 0;
}
