/*
 * cache_fill.c - proxyd --cache-fill FILE: warm the module cache for an
 * air-gapped build from a go.sum (or "module@version" lines).
 *
 * The modules are fetched the way a client would fetch them, through
 * the configured routes: one worker of this process listens on an
 * ephemeral loopback port, and this thread asks it for every file in
 * turn (GOPROXY requests, Connection: close), so the worker's normal
 * miss path stores each answer (mirrors, failover, single flight, store
 * thread).  A file already cached is skipped without a request.  The
 * worker is stopped at the end, which waits for its store thread to
 * finish writing.  Owns nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "cache.h"
#include "cache_fill.h"
#include "config.h"
#include "goproxy.h"
#include "log.h"
#include "proxyd.h"
#include "worker.h"

#define FILL_TIMEOUT_S	300	/* per file: a big zip on a slow mirror */

/* One module@version and the files wanted of it. */
struct want {
	char	module[GOPROXY_MODULE_MAX];
	char	version[GOPROXY_VERSION_MAX];
	int	files;
};

struct fill_run {
	const struct config	*cfg;
	FILE			*out;
	uint16_t		 port;
	int			 tty;
	size_t			 fetched, skipped, failed;
	struct want		*v;
	size_t			 n, cap;
};

/* Add (or merge) module@version with files. */
static int
want_add(struct fill_run *f, const char *mod, size_t mlen, const char *ver,
    size_t vlen, int files)
{
	struct want *w;
	size_t i;

	if (mlen >= GOPROXY_MODULE_MAX || vlen >= GOPROXY_VERSION_MAX)
		return -1;
	for (i = 0; i < f->n; i++)
		if (strlen(f->v[i].module) == mlen && strlen(f->v[i].version) ==
		    vlen && memcmp(f->v[i].module, mod, mlen) == 0 &&
		    memcmp(f->v[i].version, ver, vlen) == 0) {
			f->v[i].files |= files;
			return 0;
		}
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		if ((w = reallocarray(f->v, f->cap, sizeof(*w))) == NULL)
			return -1;
		f->v = w;
	}
	w = &f->v[f->n++];
	memset(w, 0, sizeof(*w));
	memcpy(w->module, mod, mlen);
	memcpy(w->version, ver, vlen);
	w->files = files;
	return 0;
}

/* One line of the list into f: 0, or -1 when it is no module line. */
static int
parse_line(struct fill_run *f, const char *line)
{
	struct cache_sum_line l;
	int r;

	if ((r = cache_sum_line(line, &l)) <= 0)
		return r;
	return want_add(f, l.mod, l.mod_len, l.ver, l.ver_len, l.files);
}

/* Read the list file into f; -1 when it cannot be read or has bad lines. */
static int
read_list(struct fill_run *f, const char *path)
{
	char *line = NULL;
	size_t size = 0;
	int lineno = 0, rc = 0;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "proxyd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &size, fp) != -1) {
		lineno++;
		if (parse_line(f, line) == -1) {
			fprintf(stderr, "%s:%d: expected \"module version "
			    "hash\" (go.sum) or module@version\n", path,
			    lineno);
			rc = -1;
		}
	}
	free(line);
	fclose(fp);
	return rc;
}

/* The response's Content-Length (head NUL-terminated), or -1. */
static long long
content_length(const char *head)
{
	const char *p;

	for (p = head; (p = strchr(p, '\n')) != NULL; p++)
		if (strncasecmp(p + 1, "Content-Length:", 15) == 0)
			return strtoll(p + 16, NULL, 10);
	return -1;
}

/* Read the answer on fd: its status, or -1 (the reason in why). */
static int
read_answer(int fd, const char **why)
{
	char head[8192], buf[65536], *end = NULL;
	long long want, body;
	size_t got = 0;
	ssize_t r = 0;
	int status;

	*why = "no answer";
	while (end == NULL && got < sizeof(head) - 1 &&
	    (r = read(fd, head + got, sizeof(head) - 1 - got)) > 0) {
		got += (size_t)r;
		head[got] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	if (end == NULL || sscanf(head, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	/* Then the body to the close: the worker sends (and stores) it
	 * whole, and a cut one is a failure here too. */
	body = (long long)(got - (size_t)(end + 4 - head));
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		body += r;
	want = content_length(head);
	*why = r < 0 ? "timeout" : want >= 0 && body != want ?
	    "cut short" : NULL;
	return status;
}

/* GET path from the worker: the status, or -1 (the reason in why). */
static int
fetch(struct fill_run *f, const char *path, const char **why)
{
	struct timeval tv = { FILL_TIMEOUT_S, 0 };
	struct sockaddr_in sin;
	char req[4200];
	int fd, status = -1, n;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(f->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*why = "cannot reach the fill worker";
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: proxyd\r\n"
	    "Connection: close\r\n\r\n", path);
	if (n > 0 && (size_t)n < sizeof(req) &&
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    write(fd, req, (size_t)n) == n)
		status = read_answer(fd, why);
	close(fd);
	return status;
}

/* One file of w (kind: "info", "mod" or "zip"). */
static void
fill_file(struct fill_run *f, const struct want *w, const char *kind)
{
	char mod[GOPROXY_MODULE_MAX * 2], ver[GOPROXY_VERSION_MAX * 2];
	char path[4096], key[CACHE_KEY_MAX];
	struct goproxy_req g;
	struct cache_meta m;
	const char *why, *reason;
	int status, fd;

	if (goproxy_escape_path(w->module, mod, sizeof(mod)) == -1 ||
	    goproxy_escape_version(w->version, ver, sizeof(ver)) == -1) {
		fprintf(f->out, "failed %s@%s: not a valid module path and "
		    "version\n", w->module, w->version);
		f->failed++;
		return;
	}
	snprintf(path, sizeof(path), "/%s/@v/%s.%s", mod, ver, kind);
	if (goproxy_parse(path, strlen(path), &g, &status, &reason, NULL, 0)
	    == 0 && cache_key(&g, key, sizeof(key)) == 0 &&
	    cache_open(f->cfg->cache_dir, key, &m, &fd) == 0) {
		close(fd);
		if (m.status == 200) {
			fprintf(f->out, "skipped %s (cached)\n", path);
			f->skipped++;
			return;
		}
	}
	status = fetch(f, path, &why);
	if (status == 200 && why == NULL) {
		fprintf(f->out, "fetched %s\n", path);
		f->fetched++;
		return;
	}
	if (status > 0)
		fprintf(f->out, "failed %s: %d\n", path, status);
	else
		fprintf(f->out, "failed %s: %s\n", path, why);
	f->failed++;
}

/* Every wanted file, in order, with a progress line on a terminal. */
static void
fill_all(struct fill_run *f)
{
	static const char *const kinds[] = { "info", "mod", "zip" };
	size_t i;
	int k;

	for (i = 0; i < f->n; i++) {
		if (f->tty)
			fprintf(stderr, "\r[%zu/%zu] %s@%s\033[K", i + 1, f->n,
			    f->v[i].module, f->v[i].version);
		for (k = 0; k < 3; k++)
			if (f->v[i].files & (1 << k))
				fill_file(f, &f->v[i], kinds[k]);
	}
	if (f->tty)
		fprintf(stderr, "\r\033[K");
}

/* A worker of cfg listening on 127.0.0.1, an ephemeral port: its port. */
static int
fill_worker(struct worker *w, struct config *cfg, struct logger *log,
    uint16_t *port)
{
	struct listen_addr la;
	struct sockaddr_in *sin = (struct sockaddr_in *)&la.ss;
	socklen_t len = sizeof(la.ss);

	memset(&la, 0, sizeof(la));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	la.len = sizeof(*sin);
	snprintf(la.text, sizeof(la.text), "127.0.0.1:0");
	memset(w, 0, sizeof(*w));
	w->stop_pipe[0] = w->stop_pipe[1] = -1;
	w->swap_pipe[0] = w->swap_pipe[1] = -1;
	if ((w->listen_fds[0] = worker_listen_socket(&la)) == -1 ||
	    getsockname(w->listen_fds[0], (struct sockaddr *)&la.ss, &len) ==
	    -1)
		return -1;
	w->nlisteners = 1;
	*port = ntohs(sin->sin_port);
	return worker_init(w, 0, cfg, log, cfg->max_clients) == -1 ||
	    worker_start(w) == -1 ? -1 : 0;
}

int
cache_fill_main(struct config *cfg, const char *list, FILE *out)
{
	struct fill_run f;
	struct logger *log;
	struct worker w;
	int rc = 1;

	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.out = out;
	f.tty = isatty(STDERR_FILENO);
	if (cfg->cache_dir == NULL) {
		fprintf(stderr, "proxyd: --cache-fill: no cache_dir in the "
		    "configuration\n");
		return 2;
	}
	if (read_list(&f, list) == -1)
		goto out;
	if ((log = log_open(NULL, cfg->error_log)) == NULL)
		goto out;
	if (fill_worker(&w, cfg, log, &f.port) == -1) {
		fprintf(stderr, "proxyd: --cache-fill: cannot start a worker\n");
		worker_free(&w);
		log_close(log);
		goto out;
	}
	fill_all(&f);
	worker_stop(&w);
	worker_join(&w);
	worker_free(&w);	/* waits for the store thread */
	log_close(log);
	fprintf(out, "%zu fetched, %zu skipped (cached), %zu failed\n",
	    f.fetched, f.skipped, f.failed);
	rc = f.failed ? 1 : 0;
out:
	free(f.v);
	return rc;
}
