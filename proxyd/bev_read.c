/*
 * bev_read.c - the reads of a plain socket bufferevent, done by proxyd.
 *
 * libevent 2.1's socket bufferevent asks the kernel how much is readable
 * (an ioctl FIONREAD) before every read and then reads at most 4 KiB
 * (EVBUFFER_MAX_READ; settable only from 2.2, whatever max_single_read
 * says): a 1 KiB request cost an ioctl per side, a 64 KiB body 16 loop
 * turns of ioctl, readv, callback and writev.  bev_own_reads() points the
 * bufferevent's read event at bev_read_cb(), which reads up to READ_CHUNK
 * (and the read high watermark) in one readv and then does what
 * libevent's own read callback does, through public calls: the user's
 * read callback by bufferevent_trigger() (which honours the low
 * watermark), a timeout, EOF or error by disabling reading and
 * bufferevent_trigger_event().  Everything else stays libevent's:
 * enabling and disabling (they add and delete this same struct event,
 * with the bufferevent's read timeout) and freeing.  The input is
 * bounded at BUF_HIGH here, not by libevent's read high watermark, whose
 * callback re-adds the read event (an event_add, timeout and all) at
 * every change of the input, seven times per forwarded request: reading
 * pauses at the bound and resumes below BUF_LOW (bev_read_pause()).
 * libevent's rate limiting, which proxyd does not use, is not applied.
 *
 * struct bufferevent is public (event2/bufferevent_struct.h) and its
 * ev_read has been there since 2.0; bufferevent_setfd() (and
 * bufferevent_socket_connect(), which calls it) gives the event back to
 * libevent, so bev_own_reads() is called after them.
 */
#include <errno.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "proxyd.h"

/*
 * One read's size: a chain of exactly READ_CHUNK with libevent's chain
 * header (it rounds a chain up to a power of two: READ_CHUNK bytes of
 * room would be a 128 KiB allocation), or less near the input's bound.
 */
#define READ_ROOM	(READ_CHUNK - 128)

static void	bev_read_cb(evutil_socket_t, short, void *);

static int
bev_owns_reads(struct bufferevent *bev)
{
	return event_get_callback(&bev->ev_read) == bev_read_cb;
}

/* The input's bound: ours (BUF_HIGH), or libevent's high watermark. */
static size_t
bev_read_room(struct bufferevent *bev)
{
	size_t len = evbuffer_get_length(bufferevent_get_input(bev));
	size_t low, high = BUF_HIGH;

	if (!bev_owns_reads(bev) && (bufferevent_getwatermark(bev, EV_READ,
	    &low, &high) == -1 || high == 0))
		return READ_ROOM;
	if (high >= len + READ_ROOM)
		return READ_ROOM;
	return high > len ? high - len : 0;
}

/* The input's callback while reading is paused: resume below BUF_LOW. */
static void
bev_read_drained(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct bufferevent *bev = arg;

	if (info->n_deleted == 0 || evbuffer_get_length(in) >= BUF_LOW)
		return;
	evbuffer_remove_cb(in, bev_read_drained, bev);
	/* Not if the socket was taken out meanwhile (bufferevent_setfd()
	 * gave the event back to libevent). */
	if (bev_owns_reads(bev) && (bufferevent_get_enabled(bev) & EV_READ))
		event_add(&bev->ev_read, evutil_timerisset(&bev->timeout_read) ?
		    &bev->timeout_read : NULL);
}

/*
 * The input is at its bound: its read event leaves epoll (its timeout
 * with it, as libevent's suspension does) until bev_read_drained().
 * Enabling reading meanwhile only brings the event back here.
 */
static void
bev_read_pause(struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	event_del(&bev->ev_read);
	(void)evbuffer_remove_cb(in, bev_read_drained, bev);
	if (evbuffer_add_cb(in, bev_read_drained, bev) == NULL)
		event_add(&bev->ev_read, NULL);	/* no memory: read on */
}

void
bev_read_bound(struct bufferevent *bev)
{
	if (bev_owns_reads(bev))
		bufferevent_setwatermark(bev, EV_READ, 0, 0);
	else
		bufferevent_setwatermark(bev, EV_READ, 0, BUF_HIGH);
}

ssize_t
bev_read_into(struct bufferevent *bev, int fd)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t want = bev_read_room(bev), got;
	struct evbuffer_iovec v[2];
	ssize_t n;
	int nv, i, err;

	if (want == 0) {
		errno = EAGAIN;
		return -1;
	}
	/* The input's end is frozen for all but the bufferevent's own read:
	 * thawed for this one. */
	evbuffer_unfreeze(in, 0);
	if ((nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2)) <= 0) {
		evbuffer_freeze(in, 0);
		errno = ENOMEM;
		return -1;
	}
	if (v[0].iov_len > want)
		v[0].iov_len = want;
	if (nv == 2 && v[0].iov_len + v[1].iov_len > want)
		v[1].iov_len = want - v[0].iov_len;
	n = readv(fd, (struct iovec *)v, nv);
	err = errno;
	got = n > 0 ? (size_t)n : 0;
	for (i = 0; i < nv && got > 0; i++) {	/* commit what was filled */
		if (v[i].iov_len > got)
			v[i].iov_len = got;
		got -= v[i].iov_len;
	}
	evbuffer_commit_space(in, v, i);
	evbuffer_freeze(in, 0);
	errno = err;
	return n;
}

/* The read event's callback: libevent's bufferevent_readcb, minus ioctl
 * and 4 KiB cap. */
static void
bev_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent *bev = arg;
	short ev = BEV_EVENT_READING;
	ssize_t n;
	int err;

	bufferevent_incref(bev);	/* a callback may free it */
	if (what == EV_TIMEOUT) {	/* with EV_READ too: it read */
		ev |= BEV_EVENT_TIMEOUT;
		goto error;
	}
	if (bev_read_room(bev) == 0) {
		bev_read_pause(bev);
		goto done;
	}
	n = bev_read_into(bev, fd);
	if (n > 0) {
		bufferevent_trigger(bev, EV_READ, 0);
		goto done;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		goto done;
	if (n < 0 && errno == ECONNREFUSED)
		goto done;	/* a connect's failure: its write event says */
	ev |= n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR;
error:
	err = errno;	/* the callback reads the error from errno */
	bufferevent_disable(bev, EV_READ);
	errno = err;
	bufferevent_trigger_event(bev, ev, 0);
done:
	bufferevent_decref(bev);
}

void
bev_own_reads(struct bufferevent *bev)
{
	int fd = bufferevent_getfd(bev), reading;

	if (fd < 0 || !bev_is_plain(bev) || bev_owns_reads(bev))
		return;
	reading = bufferevent_get_enabled(bev) & EV_READ;
	if (reading)
		bufferevent_disable(bev, EV_READ);	/* not pending now */
	event_assign(&bev->ev_read, bufferevent_get_base(bev), fd,
	    EV_READ | EV_PERSIST | EV_FINALIZE, bev_read_cb, bev);
	/* Bounded by bev_read_cb() from now on: libevent's watermark
	 * re-adds the read event at every change of the input. */
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	if (reading)
		bufferevent_enable(bev, EV_READ);
}
