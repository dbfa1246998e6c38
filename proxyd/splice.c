/*
 * splice.c - zero-copy relay of a CONNECT tunnel direction:
 * socket -> the worker's pipe -> socket, with splice(2), so tunnel bytes
 * never enter user space (tunnel.c decides when to use it).
 *
 * One pipe per worker serves every tunnel of that worker: it is empty
 * between calls, because whatever the receiving socket does not take at
 * once is read back out of the pipe and handed to the caller, who keeps
 * it as it keeps the rest of a read(2) (tunnel.c's pending buffer).  So
 * no tunnel holds a pipe (two descriptors and up to a MiB of kernel
 * memory) while idle or blocked, and a stalled peer costs what it costs
 * on the read/write path.
 *
 * The pipe is made on first use and sized to TUNNEL_CHUNK, the read/write
 * path's chunk, so one call moves as much as one read(2) there.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "proxyd.h"
#include "splice.h"

/*
 * The worker's pipe, made on first use.  Returns 0, or -1 when no pipe
 * can be had (the caller relays with read/write instead).
 */
static int
splice_pipe(struct worker *w)
{
	if (w->splice_state == 0) {
		w->splice_state = -1;
		if (pipe2(w->splice_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
			return -1;
		/* Best effort: the default (64 KiB) works, in more calls. */
		(void)fcntl(w->splice_pipe[1], F_SETPIPE_SZ, TUNNEL_CHUNK);
		w->splice_state = 1;
	}
	return w->splice_state == 1 ? 0 : -1;
}

/*
 * Both sides are plain sockets.  A TLS bufferevent (a TLS listener's
 * client, an upstream over TLS) has its bytes encrypted in user space:
 * those must go through read/write.
 */
int
splice_usable(struct bufferevent *a, struct bufferevent *b)
{
	return bev_is_plain(a) && bev_is_plain(b);
}

/* Move len bytes out of the pipe into `to`; returns what was moved. */
static size_t
splice_out(struct worker *w, int to, size_t len, int *werr)
{
	size_t sent = 0;
	ssize_t n;

	while (sent < len) {
		n = splice(w->splice_pipe[0], NULL, to, NULL, len - sent,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			*werr = 1;
		break;
	}
	return sent;
}

/* Empty the pipe into rest (at least len bytes of room). */
static void
splice_drain(struct worker *w, char *rest, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(w->splice_pipe[0], rest + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break;	/* cannot happen: the bytes are in the pipe */
	}
}

/*
 * Relay up to max (at most TUNNEL_CHUNK) bytes from socket `from` to
 * socket `to`.  Returns the bytes taken from `from`: 0 at EOF, -1 with
 * errno (EAGAIN: nothing waiting; ENOSYS: no pipe or splice cannot be
 * used on these sockets, nothing was taken: use read/write).  Of the
 * bytes taken, *sent went to `to`; the rest, which `to` did not take,
 * is in rest[0..n - *sent) for the caller to keep.  *werr is set when
 * writing to `to` failed.  The pipe is empty again on return.
 */
ssize_t
splice_relay(struct worker *w, int from, int to, size_t max, char *rest,
    size_t *sent, int *werr)
{
	ssize_t n;

	*sent = 0;
	*werr = 0;
	if (splice_pipe(w) == -1) {
		errno = ENOSYS;
		return -1;
	}
	do
		n = splice(from, NULL, w->splice_pipe[1], NULL, max,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EINVAL)
		errno = ENOSYS;		/* not a socket splice supports */
	if (n <= 0)
		return n;
	*sent = splice_out(w, to, (size_t)n, werr);
	if (*sent < (size_t)n)
		splice_drain(w, rest, (size_t)n - *sent);
	return n;
}

void
splice_worker_free(struct worker *w)
{
	if (w->splice_state == 1) {
		close(w->splice_pipe[0]);
		close(w->splice_pipe[1]);
	}
	w->splice_state = 0;
}
