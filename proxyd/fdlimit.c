/*
 * fdlimit.c - RLIMIT_NOFILE: raise the soft limit to the hard one at
 * start, and say when max_clients cannot be served within it.
 *
 * A systemd service starts with a soft limit of 1024, which a busy proxy
 * (two descriptors per client with an upstream) runs out of long before
 * max_clients; the hard limit (LimitNOFILE=, 524288 by default) is what
 * the administrator meant.  Running out shows as accept() failing with
 * EMFILE (worker.c pauses accepting), so the warning comes at start.
 */
#include <sys/resource.h>
#include <errno.h>
#include <string.h>

#include "fdlimit.h"
#include "log.h"

/* Descriptors besides the clients': per worker, and for the process. */
#define FD_PER_WORKER	16
#define FD_PROCESS	32

void
fdlimit_raise(struct logger *log)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_error(log, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_error(log, "setrlimit(RLIMIT_NOFILE, %llu): %s",
			    (unsigned long long)rl.rlim_max, strerror(errno));
			return;
		}
	}
	log_error(log, "open files limit (RLIMIT_NOFILE): %llu (was %llu)",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)was);
}

void
fdlimit_check(const struct config *cfg, struct logger *log)
{
	struct rlimit rl;
	unsigned long long need, fixed, allows;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return;
	fixed = (unsigned long long)cfg->workers *
	    (FD_PER_WORKER + cfg->nlisten) + FD_PROCESS;
	need = 2ULL * (unsigned long long)cfg->max_clients + fixed;
	if (need <= rl.rlim_cur)
		return;
	allows = rl.rlim_cur > fixed ? (rl.rlim_cur - fixed) / 2 : 0;
	log_error(log, "max_clients %d needs about %llu open files, but the "
	    "limit (RLIMIT_NOFILE) is %llu: it allows about %llu clients; "
	    "raise the limit (LimitNOFILE=, ulimit -n) or lower max_clients",
	    cfg->max_clients, need, (unsigned long long)rl.rlim_cur, allows);
}
