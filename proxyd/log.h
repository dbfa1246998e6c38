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

struct access_entry {
	const char	*client;
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
};

/* Open the logs named by the config (NULL path = off / stderr). */
struct logger	*log_open(const char *access_path, const char *error_path);
void		 log_close(struct logger *l);

/* Reopen both files (SIGUSR1, after rotation). */
void		 log_reopen(struct logger *l);

void		 log_access(struct logger *l, const struct access_entry *e);

/* An error-log line, "TIME proxyd[pid]: message". */
void		 log_error(struct logger *l, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Debug lines (proxyd -d): to the error log, only when enabled. */
void		 log_set_debug(struct logger *l, int on);
void		 log_debug(struct logger *l, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif /* PROXYD_LOG_H */
