/*
 * test_log.c - the logger's file handling (issue 8, bug 4).
 *
 * log_reopen() must keep the fd numbers: a rotated log gets the new
 * file under the old number, stdout and stderr are never written over,
 * and threads that log while it happens lose no line and write none
 * anywhere but to a log file.  The fd checks read /proc/self/fd.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

#define WRITERS		4
#define ROTATIONS	300

static char	dir[] = "/tmp/proxyd-test-log.XXXXXX";

/* dir/name in buf. */
static const char *
path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

/*
 * How many of our fds are open on path (by the name the kernel shows,
 * which follows renames); *first is the lowest such fd.
 */
static int
fds_on(const char *path, int *first)
{
	DIR		*d;
	struct dirent	*e;
	char		 link[64], target[PATH_MAX];
	ssize_t		 n;
	int		 count = 0, fd;

	*first = -1;
	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((n = readlink(link, target, sizeof(target) - 1)) == -1)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) != 0)
			continue;
		if (count++ == 0 || fd < *first)
			*first = fd;
	}
	closedir(d);
	return count;
}

/* The whole of path, NUL-terminated ("" if missing); free() it. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 size;

	if ((f = fopen(path, "r")) == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if ((buf = malloc((size_t)size + 1)) == NULL)
		abort();
	size = (long)fread(buf, 1, (size_t)size, f);
	buf[size] = '\0';
	fclose(f);
	return buf;
}

static size_t
count_lines(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void
access_line(struct logger *l, const char *target)
{
	struct access_entry	e;

	memset(&e, 0, sizeof(e));
	e.client = "192.0.2.1:1234";
	e.method = "GET";
	e.target = target;
	e.status = 200;
	log_access(l, &e);
}

/* After rename + reopen, new lines go to the new file, same fd number. */
static void
test_rotate(void)
{
	char		 a[PATH_MAX], a1[PATH_MAX], e[PATH_MAX], e1[PATH_MAX];
	char		*s;
	struct logger	*l;
	int		 fa, fe, fa2, fe2, n;

	path_in(a, sizeof(a), "access.log");
	path_in(a1, sizeof(a1), "access.log.1");
	path_in(e, sizeof(e), "error.log");
	path_in(e1, sizeof(e1), "error.log.1");
	if ((l = log_open(a, e)) == NULL) {
		CHECK(0, "log_open %s %s", a, e);
		return;
	}
	access_line(l, "/before");
	log_error(l, "error before");
	CHECK(fds_on(a, &fa) == 1 && fa > 2, "access log on fd %d", fa);
	CHECK(fds_on(e, &fe) == 1 && fe > 2, "error log on fd %d", fe);
	CHECK(rename(a, a1) == 0 && rename(e, e1) == 0, "rename");
	log_reopen(l);
	access_line(l, "/after");
	log_error(l, "error after");

	n = fds_on(a, &fa2);
	CHECK(n == 1 && fa2 == fa, "new access log on fd %d (%d), was %d",
	    fa2, n, fa);
	n = fds_on(e, &fe2);
	CHECK(n == 1 && fe2 == fe, "new error log on fd %d (%d), was %d",
	    fe2, n, fe);
	CHECK(fds_on(a1, &n) == 0 && fds_on(e1, &n) == 0,
	    "rotated files still open");
	CHECK((fcntl(fa, F_GETFD) & FD_CLOEXEC) &&
	    (fcntl(fe, F_GETFD) & FD_CLOEXEC), "reopened fds lost FD_CLOEXEC");

	s = slurp(a1);
	CHECK(count_lines(s) == 1 && strstr(s, " /before ") != NULL,
	    "rotated access log: %s", s);
	free(s);
	s = slurp(a);
	CHECK(count_lines(s) == 1 && strstr(s, " /after ") != NULL,
	    "new access log: %s", s);
	free(s);
	s = slurp(e1);
	CHECK(count_lines(s) == 1 && strstr(s, "]: error before\n") != NULL,
	    "rotated error log: %s", s);
	free(s);
	s = slurp(e);
	CHECK(count_lines(s) == 1 && strstr(s, "]: error after\n") != NULL,
	    "new error log: %s", s);
	free(s);

	/* A reopen that fails keeps the old file and says so. */
	CHECK(rename(a, a1) == 0 && mkdir(a, 0700) == 0, "rename, mkdir");
	log_reopen(l);
	access_line(l, "/kept");
	n = fds_on(a1, &fa2);
	CHECK(n == 1 && fa2 == fa, "failed reopen: fd %d (%d)", fa2, n);
	s = slurp(a1);
	CHECK(count_lines(s) == 2 && strstr(s, " /kept ") != NULL,
	    "failed reopen, access log: %s", s);
	free(s);
	s = slurp(e);
	CHECK(strstr(s, "]: reopen ") != NULL && strstr(s, a) != NULL,
	    "failed reopen not in the error log: %s", s);
	free(s);
	rmdir(a);

	log_close(l);
	CHECK(fds_on(a1, &n) == 0 && fds_on(e, &n) == 0,
	    "log_close left files open");
	unlink(a);
	unlink(a1);
	unlink(e);
	unlink(e1);
}

/*
 * Point fd at a fresh file dir/name; returns a dup of the old fd to
 * restore it with.
 */
static int
redirect(int fd, const char *name)
{
	char	p[PATH_MAX];
	int	saved = dup(fd), tmp;

	tmp = open(path_in(p, sizeof(p), name),
	    O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (saved == -1 || tmp == -1 || dup2(tmp, fd) == -1)
		abort();
	close(tmp);
	return saved;
}

static void
restore(int fd, int saved)
{
	fflush(NULL);
	if (dup2(saved, fd) == -1)
		abort();
	close(saved);
}

static int
same_file(int fd, const struct stat *st)
{
	struct stat	now;

	return fstat(fd, &now) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino;
}

/* "-" is stdout and no error log is stderr: reopen leaves them be. */
static void
test_stdio(void)
{
	char		 p[PATH_MAX], *s;
	struct stat	 out, err;
	struct logger	*l;
	int		 so, se, ok_out, ok_err;

	so = redirect(STDOUT_FILENO, "stdout");
	se = redirect(STDERR_FILENO, "stderr");
	fstat(STDOUT_FILENO, &out);
	fstat(STDERR_FILENO, &err);
	l = log_open("-", NULL);
	if (l != NULL) {
		access_line(l, "/one");
		log_error(l, "one");
		log_reopen(l);
		access_line(l, "/two");
		log_error(l, "two");
		log_close(l);
	}
	ok_out = same_file(STDOUT_FILENO, &out);
	ok_err = same_file(STDERR_FILENO, &err);
	/* And an error log on stdout. */
	l = log_open(NULL, "-");
	if (l != NULL) {
		log_reopen(l);
		log_error(l, "three");
		log_close(l);
	}
	ok_out = ok_out && same_file(STDOUT_FILENO, &out);
	restore(STDOUT_FILENO, so);
	restore(STDERR_FILENO, se);

	CHECK(ok_out && ok_err, "reopen replaced stdout (%d) or stderr (%d)",
	    ok_out, ok_err);
	s = slurp(path_in(p, sizeof(p), "stdout"));
	CHECK(count_lines(s) == 3 && strstr(s, " /one ") != NULL &&
	    strstr(s, " /two ") != NULL && strstr(s, "]: three\n") != NULL,
	    "stdout got: %s", s);
	free(s);
	unlink(p);
	s = slurp(path_in(p, sizeof(p), "stderr"));
	CHECK(count_lines(s) == 2 && strstr(s, "]: one\n") != NULL &&
	    strstr(s, "]: two\n") != NULL, "stderr got: %s", s);
	free(s);
	unlink(p);
}

/* Started with stdin closed: the log file still does not get fd 0. */
static void
test_closed_stdin(void)
{
	char		 a[PATH_MAX];
	struct logger	*l;
	int		 saved = dup(STDIN_FILENO), fd = -1, n = -1, open0;

	path_in(a, sizeof(a), "access.log");
	close(STDIN_FILENO);
	l = log_open(a, NULL);
	open0 = fcntl(STDIN_FILENO, F_GETFD) != -1;
	if (l != NULL) {
		n = fds_on(a, &fd);
		log_close(l);
	}
	if (saved != -1) {
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	CHECK(l != NULL && open0 && n == 1 && fd > 2,
	    "closed stdin: log on fd %d (%d), fd 0 open %d", fd, n, open0);
	unlink(a);
}

/*
 * Threads log while the files are rotated and reopened again and again,
 * and another thread opens and closes files all the while, so that a
 * number freed by a reopen would soon be reused.  Every line must then
 * be in a log file, whole and once, and the decoy must stay empty.
 */

static struct logger	*race_log;
static int		 race_stop;

struct writer {
	pthread_t	 tid;
	int		 id;
	long		 lines;		/* written */
};

static void *
race_writer(void *arg)
{
	struct writer	*w = arg;
	char		 buf[64];

	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
		snprintf(buf, sizeof(buf), "/w%d-%ld", w->id, w->lines);
		access_line(race_log, buf);
		log_error(race_log, "w%d-%ld", w->id, w->lines);
		w->lines++;
	}
	return NULL;
}

static void *
race_decoy(void *arg)
{
	const char	*path = arg;
	int		 fd;

	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
		if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600)) != -1)
			close(fd);
	}
	return NULL;
}

/*
 * Tally the lines of one log file: seen[w][n] counts "w<w>-<n>" after
 * marker; a line without one is broken.  Returns the broken lines.
 */
static long
tally(const char *path, const char *marker, unsigned char **seen,
    const struct writer *ws)
{
	char	*s = slurp(path), *line, *next, *m;
	long	 broken = 0, n;
	int	 w;

	for (line = s; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL) {
			broken++;
			break;
		}
		*next++ = '\0';
		if ((m = strstr(line, marker)) == NULL ||
		    sscanf(m + strlen(marker), "%d-%ld", &w, &n) != 2 ||
		    w < 0 || w >= WRITERS || n < 0 || n >= ws[w].lines) {
			broken++;
			continue;
		}
		if (seen[w][n] < 255)
			seen[w][n]++;
	}
	free(s);
	return broken;
}

static void
test_race(void)
{
	char		 a[256], e[256], p[256 + 16], decoy[256];
	unsigned char	*acc[WRITERS], *err[WRITERS];
	struct writer	 ws[WRITERS];
	pthread_t	 dt;
	struct stat	 st;
	long		 broken = 0, missing = 0, twice = 0, total = 0, n;
	int		 i, w;

	memset(&st, 0, sizeof(st));
	path_in(a, sizeof(a), "race-access.log");
	path_in(e, sizeof(e), "race-error.log");
	path_in(decoy, sizeof(decoy), "decoy");
	if ((race_log = log_open(a, e)) == NULL) {
		CHECK(0, "log_open for the race");
		return;
	}
	race_stop = 0;
	pthread_create(&dt, NULL, race_decoy, decoy);
	for (w = 0; w < WRITERS; w++) {
		ws[w].id = w;
		ws[w].lines = 0;
		pthread_create(&ws[w].tid, NULL, race_writer, &ws[w]);
	}
	for (i = 0; i < ROTATIONS; i++) {
		snprintf(p, sizeof(p), "%s.%d", a, i);
		rename(a, p);
		snprintf(p, sizeof(p), "%s.%d", e, i);
		rename(e, p);
		log_reopen(race_log);
	}
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	for (w = 0; w < WRITERS; w++)
		pthread_join(ws[w].tid, NULL);
	pthread_join(dt, NULL);
	log_close(race_log);

	for (w = 0; w < WRITERS; w++) {
		acc[w] = calloc((size_t)ws[w].lines + 1, 1);
		err[w] = calloc((size_t)ws[w].lines + 1, 1);
		if (acc[w] == NULL || err[w] == NULL)
			abort();
		total += ws[w].lines;
	}
	for (i = 0; i <= ROTATIONS; i++) {
		if (i < ROTATIONS)
			snprintf(p, sizeof(p), "%s.%d", a, i);
		else
			snprintf(p, sizeof(p), "%s", a);
		broken += tally(p, " /w", acc, ws);
		unlink(p);
		if (i < ROTATIONS)
			snprintf(p, sizeof(p), "%s.%d", e, i);
		else
			snprintf(p, sizeof(p), "%s", e);
		broken += tally(p, "]: w", err, ws);
		unlink(p);
	}
	for (w = 0; w < WRITERS; w++) {
		for (n = 0; n < ws[w].lines; n++) {
			missing += (acc[w][n] == 0) + (err[w][n] == 0);
			twice += (acc[w][n] > 1) + (err[w][n] > 1);
		}
		free(acc[w]);
		free(err[w]);
	}
	CHECK(total > 0, "race: no line written");
	CHECK(missing == 0 && twice == 0 && broken == 0,
	    "race: of %ld lines, %ld missing, %ld twice, %ld broken",
	    2 * total, missing, twice, broken);
	CHECK(stat(decoy, &st) == 0 && st.st_size == 0,
	    "race: %lld bytes of log in the decoy file",
	    (long long)st.st_size);
	unlink(decoy);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_rotate();
	test_stdio();
	test_closed_stdin();
	test_race();
	rmdir(dir);
	return unit_done("log");
}
