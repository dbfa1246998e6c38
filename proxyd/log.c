/*
 * log.c - access and error logs.
 *
 * Both are plain files opened O_APPEND; a line is built on the stack and
 * written with a single write(2), which keeps lines from several worker
 * threads whole.  The access line is text or JSON (log_json.c); the
 * error log may instead go to syslog(3) (error_log = syslog), whose
 * lines are whole by construction.
 *
 * The descriptor numbers never change once log_open() has returned, so
 * writers read them without locks or atomics: log_open() runs before
 * the worker threads exist and log_close() after they have been joined
 * (pthread_create and pthread_join order the accesses).  log_reopen()
 * does not swap numbers; it opens the file anew and dup3()s the new
 * description onto the old number, which replaces it atomically
 * (POSIX dup2: closing and reusing the number are one step).  A writer
 * that is between reading the number and write(2) lands either in the
 * rotated file or in the new one, never on a number closed or handed to
 * an accepted socket meanwhile, which closing the old number did.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "log_json.h"
#include "throttle.h"

struct logger {
	char	*access_path;	/* NULL: no access log; "-": stdout */
	char	*error_path;	/* NULL: stderr; "-": stdout */
	int	 access_fd;	/* -1 = off; fixed from log_open() on */
	int	 error_fd;	/* fixed from log_open() on */
	int	 debug;		/* set before the workers start */
	int	 json;		/* access lines as JSON; idem */
	int	 syslog;	/* error lines to syslog(3), not error_fd */

	/* The access log failing to write (disk full): its error lines are
	 * throttled.  failing is read without the lock on every line, the
	 * rest is only touched under it, on the failure path. */
	int		 failing;	/* atomic */
	pthread_mutex_t	 lock;
	struct throttle	 write_fail;
};

/* The error_log value that means syslog(3), LOG_DAEMON. */
#define ERROR_LOG_SYSLOG	"syslog"


/* Is path a file of ours, as opposed to off, stdout or stderr? */
static int
log_is_file(const char *path)
{
	return path != NULL && strcmp(path, "-") != 0 &&
	    strcmp(path, ERROR_LOG_SYSLOG) != 0;
}

/*
 * The logger writes to stdout and stderr by number.  If one of 0, 1, 2
 * is closed when we start, the next open() or accept() would get it:
 * then a log file could sit on fd 1 and, worse, an error line meant for
 * stderr could go to a client socket.  Put /dev/null there first, so the
 * log files we open are always above 2 and stdio numbers stay stdio.
 */
static int
log_guard_stdio(void)
{
	int fd;

	for (;;) {
		if (fcntl(STDIN_FILENO, F_GETFD) != -1 &&
		    fcntl(STDOUT_FILENO, F_GETFD) != -1 &&
		    fcntl(STDERR_FILENO, F_GETFD) != -1)
			return 0;
		/* The lowest free number: one of the closed ones. */
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			return -1;
		if (fd > STDERR_FILENO) {
			close(fd);
			return 0;
		}
	}
}

/* Open a log file of ours.  Returns the fd or -1 with errno. */
static int
log_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static int
log_open_path(const char *path, int fallback)
{
	int fd;

	if (path == NULL)
		return fallback;
	if (strcmp(path, "-") == 0)
		return STDOUT_FILENO;
	if ((fd = log_open_file(path)) == -1)
		fprintf(stderr, "proxyd: %s: %s\n", path, strerror(errno));
	return fd;
}

struct logger *
log_open(const char *access_path, const char *error_path)
{
	struct logger *l;

	if (log_guard_stdio() == -1) {
		fprintf(stderr, "proxyd: /dev/null: %s\n", strerror(errno));
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->access_fd = l->error_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	throttle_init(&l->write_fail, THROTTLE_INTERVAL_MS, THROTTLE_SETTLE_MS);
	if (access_path && (l->access_path = strdup(access_path)) == NULL)
		goto fail;
	if (error_path && (l->error_path = strdup(error_path)) == NULL)
		goto fail;
	if (l->error_path && strcmp(l->error_path, ERROR_LOG_SYSLOG) == 0) {
		/* LOG_NDELAY: connect now, before a chroot or privilege
		 * drop could make /dev/log unreachable. */
		openlog("proxyd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		l->syslog = 1;
		/* syslog(3) drops lines silently when nothing listens. */
		if (access(_PATH_LOG, W_OK) == -1)
			fprintf(stderr, "proxyd: error_log = syslog: %s: %s; "
			    "error lines will be lost\n", _PATH_LOG,
			    strerror(errno));
		l->error_fd = STDERR_FILENO;	/* for what comes before */
	} else if ((l->error_fd = log_open_path(l->error_path,
	    STDERR_FILENO)) == -1)
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
	if (l->syslog)
		closelog();
	pthread_mutex_destroy(&l->lock);
	free(l->access_path);
	free(l->error_path);
	free(l);
}

/*
 * Point the number fd at a fresh open of path.  Only for files of ours:
 * stdout ("-") and the stderr fallback are the process's, there is
 * nothing to reopen, and they are never written over.  log_guard_stdio()
 * keeps our files above 2; the check is there all the same.  On failure
 * fd keeps its old file and the error log says why.
 */
static void
log_reopen_one(struct logger *l, const char *path, int fd)
{
	int nfd, r;

	if (!log_is_file(path) || fd <= STDERR_FILENO)
		return;
	if ((nfd = log_open_file(path)) == -1) {
		log_error(l, "reopen %s: %s", path, strerror(errno));
		return;
	}
	/* Linux dup2/dup3 may fail with EBUSY while racing an open(). */
	do
		r = dup3(nfd, fd, O_CLOEXEC);
	while (r == -1 && (errno == EINTR || errno == EBUSY));
	if (r == -1)
		log_error(l, "reopen %s: dup3: %s", path, strerror(errno));
	close(nfd);
}

/*
 * Reopen after rotation.  The fds keep their numbers (see the top of the
 * file); a line being written while we do it goes to the old file or to
 * the new one.  Not concurrently with itself, log_open or log_close.
 */
void
log_reopen(struct logger *l)
{
	log_reopen_one(l, l->access_path, l->access_fd);
	log_reopen_one(l, l->error_path, l->error_fd);
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

static int64_t
log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * An access line was written (err 0) or failed with errno err.  A disk
 * that is full fails every line: the error log hears of it when it
 * starts, once an interval with the count of lines lost, and when lines
 * are written again.  Only the failure path takes the lock.
 */
static void
log_access_outcome(struct logger *l, int err)
{
	enum throttle_say say;
	uint64_t n = 0;
	int64_t ms = 0;

	if (err == 0 && !__atomic_load_n(&l->failing, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&l->lock);
	if (err != 0)
		say = throttle_hit(&l->write_fail, log_now_ms(), &n);
	else
		say = throttle_clear(&l->write_fail, log_now_ms(), &n, &ms);
	__atomic_store_n(&l->failing, l->write_fail.active, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->lock);
	if (say == THROTTLE_START)
		log_error(l, "access log %s: %s; lines are lost",
		    l->access_path, strerror(err));
	else if (say == THROTTLE_REPEAT)
		log_error(l, "access log %s: %s; %llu lines lost since the "
		    "last report", l->access_path, strerror(err),
		    (unsigned long long)n);
	else if (say == THROTTLE_END)
		log_error(l, "access log %s: writing again, after %llu lines "
		    "lost in %lld ms", l->access_path, (unsigned long long)n,
		    (long long)ms);
}

/* Write a line; 0, or the errno of a failed or short write. */
static int
log_write(int fd, const char *line, int n, size_t size)
{
	ssize_t w;

	if (n < 0)
		return 0;
	if ((size_t)n >= size)
		n = (int)size - 1;
	w = write(fd, line, (size_t)n);
	if (w == -1)
		return errno ? errno : EIO;
	return w < n ? ENOSPC : 0;
}

/* The access line as JSON (access_log_format = json); 0 or errno. */
static int
log_access_json(int fd, const struct access_entry *e, const char *when)
{
	char line[LOG_JSON_LINE_MAX];
	size_t n;

	n = log_json_line(line, sizeof(line), e, when);
	return log_write(fd, line, (int)n, sizeof(line));
}

void
log_access(struct logger *l, const struct access_entry *e)
{
	char line[2560], when[40], target[2048], wait[32] = "",
	    user[256], client[64];
	struct access_entry named;
	int fd, n;

	fd = l->access_fd;
	if (fd == -1)
		return;
	if (e->client == NULL) {
		sockaddr_text(e->client_sa, client, sizeof(client));
		named = *e;
		named.client = client;
		e = &named;
	}
	log_time(when, sizeof(when));
	if (l->json) {
		log_access_outcome(l, log_access_json(fd, e, when));
		return;
	}
	log_field(target, sizeof(target), e->target);
	if (e->user)
		log_field(user, sizeof(user), e->user);
	if (e->wait_ms > 0)
		snprintf(wait, sizeof(wait), " wait_ms=%lld",
		    (long long)e->wait_ms);
	n = snprintf(line, sizeof(line),
	    "%s %s %s %s %d in=%llu out=%llu ms=%lld upstream=%s route=%s "
	    "via=\"%s\"%s%s%s%s%s%s%s%s%s%s%s%s%s%s\n",
	    when, e->client, e->method, target, e->status,
	    (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
	    (long long)e->ms, e->upstream ? e->upstream : "-",
	    e->route ? e->route : "-", e->via ? e->via : "-", wait,
	    e->user ? " user=" : "", e->user ? user : "",
	    e->module ? " " : "", e->module ? e->module : "",
	    e->tried ? " mirrors=\"" : "", e->tried ? e->tried : "",
	    e->tried ? "\"" : "",
	    e->would_deny ? " would_deny=\"" : "",
	    e->would_deny ? e->would_deny : "", e->would_deny ? "\"" : "",
	    e->note ? " note=\"" : "", e->note ? e->note : "",
	    e->note ? "\"" : "");
	if (n > 0 && (size_t)n >= sizeof(line))
		line[sizeof(line) - 2] = '\n';
	log_access_outcome(l, log_write(fd, line, n, sizeof(line)));
}

static void
log_verror(struct logger *l, int prio, const char *fmt, va_list ap)
{
	char line[1024], when[40];
	int fd, n, m;

	if (l && l->syslog) {
		/* syslog adds the time, the name and the pid itself. */
		vsyslog(prio, fmt, ap);
		return;
	}
	fd = l ? l->error_fd : STDERR_FILENO;
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
	log_verror(l, LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_set_json(struct logger *l, int on)
{
	if (l)
		l->json = on;
}

void
log_set_debug(struct logger *l, int on)
{
	if (l)
		l->debug = on;
}

int
log_debugging(struct logger *l)
{
	return l != NULL && l->debug;
}

void
log_debug(struct logger *l, const char *fmt, ...)
{
	va_list ap;

	if (l == NULL || !l->debug)
		return;
	va_start(ap, fmt);
	log_verror(l, LOG_DEBUG, fmt, ap);
	va_end(ap);
}
