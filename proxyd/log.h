/*
 * log.h - the access log and the error log.
 *
 * The logger is shared by all workers; each access line is formatted on
 * the caller's stack and written with one write(2) on an O_APPEND fd, so
 * lines from different threads never interleave.
 */
#ifndef PROXYD_LOG_H
#define PROXYD_LOG_H

#include <stdint.h>

struct logger;

struct sockaddr;

struct access_entry {
	const char	*client;	/* NULL: client_sa, formatted only when
					   a line is written */
	const struct sockaddr *client_sa;
	const char	*method;
	const char	*target;
	int		 status;
	uint64_t	 bytes_in;	/* from the client */
	uint64_t	 bytes_out;	/* to the client */
	int64_t		 ms;
	const char	*upstream;	/* address, or "-" */
	const char	*route;		/* route name, or NULL */
	const char	*via;		/* upstream label ("direct"), or NULL */
	const char	*note;		/* why it failed, or NULL */
	int64_t		 wait_ms;	/* queued for limits */
	const char	*module;	/* "module=M version=V kind=K", or NULL */
	const char	*tried;		/* mirrors tried and outcomes, or NULL */
	const char	*would_deny;	/* audit mode: what a policy would
					   have refused, or NULL */
	const char	*user;		/* authenticated user, or NULL */
};

/*
 * Open the logs named by the config: a NULL access path is no access
 * log, a NULL error path is stderr, "-" is stdout, an error path of
 * "syslog" is syslog(3) with LOG_DAEMON.  Call before any
 * thread logs; it also opens /dev/null on any of fds 0-2 that is closed,
 * so that no file or socket of ours ever gets a stdio number.
 */
struct logger	*log_open(const char *access_path, const char *error_path);

/* Only once no other thread can log any more. */
void		 log_close(struct logger *l);

/*
 * Reopen the log files (SIGUSR1, after rotation) under the same fd
 * numbers, so threads may log meanwhile: each line lands whole in the
 * old file or in the new one.  stdout and stderr are left alone.  On
 * failure a log keeps its old file.  Not concurrently with itself.
 */
void		 log_reopen(struct logger *l);

void		 log_access(struct logger *l, const struct access_entry *e);

/* An error-log line, "TIME proxyd[pid]: message". */
void		 log_error(struct logger *l, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Access lines as JSON objects (access_log_format = json); before the
 * workers start. */
void		 log_set_json(struct logger *l, int on);

/* Debug lines (proxyd -d): to the error log, only when enabled. */
void		 log_set_debug(struct logger *l, int on);
/* Are debug lines on?  For callers whose arguments cost formatting. */
int		 log_debugging(struct logger *l);
void		 log_debug(struct logger *l, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif /* PROXYD_LOG_H */
