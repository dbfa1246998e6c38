/*
 * log.c - access and error logs.
 *
 * Both are plain files opened O_APPEND; a line is built on the stack and
 * written with a single write(2), which keeps lines from several worker
 * threads whole.  The fds are swapped atomically on reopen.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct logger {
	char	*access_path;	/* NULL: no access log; "-": stdout */
	char	*error_path;	/* NULL: stderr */
	int	 access_fd;	/* atomic; -1 = off */
	int	 error_fd;	/* atomic */
	int	 debug;		/* set before the workers start */
};

static int
log_open_path(const char *path, int fallback)
{
	int fd;

	if (path == NULL)
		return fallback;
	if (strcmp(path, "-") == 0)
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		fprintf(stderr, "proxyd: %s: %s\n", path, strerror(errno));
	return fd;
}

struct logger *
log_open(const char *access_path, const char *error_path)
{
	struct logger *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->access_fd = l->error_fd = -1;
	if (access_path && (l->access_path = strdup(access_path)) == NULL)
		goto fail;
	if (error_path && (l->error_path = strdup(error_path)) == NULL)
		goto fail;
	l->error_fd = log_open_path(l->error_path, STDERR_FILENO);
	if (l->error_fd == -1)
		goto fail;
	l->access_fd = log_open_path(l->access_path, -1);
	if (l->access_path && l->access_fd == -1)
		goto fail;
	return l;
fail:
	log_close(l);
	return NULL;
}

static void
log_close_fd(int fd)
{
	if (fd > STDERR_FILENO)
		close(fd);
}

void
log_close(struct logger *l)
{
	if (l == NULL)
		return;
	log_close_fd(l->access_fd);
	log_close_fd(l->error_fd);
	free(l->access_path);
	free(l->error_path);
	free(l);
}

/*
 * Reopen after rotation.  Old fds are closed only after the new ones are
 * in place; a writer racing with us may write one line to the old file.
 */
void
log_reopen(struct logger *l)
{
	int fd, old;

	if (l->access_path && strcmp(l->access_path, "-") != 0 &&
	    (fd = log_open_path(l->access_path, -1)) != -1) {
		old = __atomic_exchange_n(&l->access_fd, fd, __ATOMIC_SEQ_CST);
		log_close_fd(old);
	}
	if (l->error_path && strcmp(l->error_path, "-") != 0 &&
	    (fd = log_open_path(l->error_path, -1)) != -1) {
		old = __atomic_exchange_n(&l->error_fd, fd, __ATOMIC_SEQ_CST);
		log_close_fd(old);
	}
}

/* ISO 8601 UTC with milliseconds. */
static void
log_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Copy s into a log field: no spaces or control bytes, "-" if empty. */
static void
log_field(char *dst, size_t len, const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		s = "-";
	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		dst[i] = ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) ?
		    '_' : s[i];
	dst[i] = '\0';
}

static void
log_write(int fd, const char *line, int n, size_t size)
{
	if (n < 0)
		return;
	if ((size_t)n >= size)
		n = (int)size - 1;
	(void)!write(fd, line, (size_t)n);
}

void
log_access(struct logger *l, const struct access_entry *e)
{
	char line[2560], when[40], target[2048], wait[32] = "";
	int fd, n;

	fd = __atomic_load_n(&l->access_fd, __ATOMIC_RELAXED);
	if (fd == -1)
		return;
	log_time(when, sizeof(when));
	log_field(target, sizeof(target), e->target);
	if (e->wait_ms > 0)
		snprintf(wait, sizeof(wait), " wait_ms=%lld",
		    (long long)e->wait_ms);
	n = snprintf(line, sizeof(line),
	    "%s %s %s %s %d in=%llu out=%llu ms=%lld upstream=%s route=%s "
	    "via=\"%s\"%s%s%s%s%s%s%s%s%s\n",
	    when, e->client, e->method, target, e->status,
	    (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
	    (long long)e->ms, e->upstream ? e->upstream : "-",
	    e->route ? e->route : "-", e->via ? e->via : "-", wait,
	    e->module ? " " : "", e->module ? e->module : "",
	    e->tried ? " mirrors=\"" : "", e->tried ? e->tried : "",
	    e->tried ? "\"" : "",
	    e->note ? " note=\"" : "", e->note ? e->note : "",
	    e->note ? "\"" : "");
	if (n > 0 && (size_t)n >= sizeof(line))
		line[sizeof(line) - 2] = '\n';
	log_write(fd, line, n, sizeof(line));
}

static void
log_verror(struct logger *l, const char *fmt, va_list ap)
{
	char line[1024], when[40];
	int fd, n, m;

	fd = l ? __atomic_load_n(&l->error_fd, __ATOMIC_RELAXED) :
	    STDERR_FILENO;
	log_time(when, sizeof(when));
	n = snprintf(line, sizeof(line), "%s proxyd[%d]: ", when, (int)getpid());
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	log_write(fd, line, n, sizeof(line));
}

void
log_error(struct logger *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verror(l, fmt, ap);
	va_end(ap);
}

void
log_set_debug(struct logger *l, int on)
{
	if (l)
		l->debug = on;
}

void
log_debug(struct logger *l, const char *fmt, ...)
{
	va_list ap;

	if (l == NULL || !l->debug)
		return;
	va_start(ap, fmt);
	log_verror(l, fmt, ap);
	va_end(ap);
}
