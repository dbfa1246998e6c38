/*
 * util.c - small helpers shared by the daemon's files: clocks, timevals,
 * buffer sizes, Basic credentials.  sockaddr_text(), declared in
 * proxyd.h, lives in addr.c with the other address text.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "proxyd.h"

int64_t
now_ms(struct event_base *base)
{
	struct timespec ts;

	(void)base;
	/* Coarse is enough for timeouts and logs, and costs no syscall. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timeval *
ms_to_tv(int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* ms as a common timeout of base when it can be one, else as tv. */
static const struct timeval *
common_tv(struct event_base *base, int ms, struct timeval *tv)
{
	const struct timeval *c;

	if (ms < 0)
		return NULL;
	ms_to_tv(ms, tv);
	c = event_base_init_common_timeout(base, tv);
	return c != NULL ? c : tv;
}

void
bev_timeouts(struct bufferevent *bev, int rd_ms, int wr_ms)
{
	struct event_base *base = bufferevent_get_base(bev);
	struct timeval rt, wt;

	bufferevent_set_timeouts(bev, common_tv(base, rd_ms, &rt),
	    common_tv(base, wr_ms, &wt));
}

int
bev_is_plain(struct bufferevent *bev)
{
	return bufferevent_get_underlying(bev) == NULL &&
	    bufferevent_openssl_get_ssl(bev) == NULL &&
	    bufferevent_getfd(bev) >= 0;
}

void
bev_write_direct(struct bufferevent *bev)
{
	if ((bufferevent_get_enabled(bev) & EV_WRITE) && bev_is_plain(bev) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
}

void
bev_write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	if (evbuffer_get_length(out) == 0 ||
	    (bufferevent_get_enabled(bev) & EV_WRITE))
		return;		/* nothing to do, or libevent's to do */
	if (bev_is_plain(bev)) {
		/* The output's front is frozen for everyone but the
		 * bufferevent's own write: thawed for this one.  An error
		 * leaves the bytes, and libevent's retry reports it. */
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, bufferevent_getfd(bev));
		evbuffer_freeze(out, 1);
		if (evbuffer_get_length(out) == 0)
			return;
	}
	bufferevent_enable(bev, EV_WRITE);
}

void
bev_set_io_sizes(struct bufferevent *bev)
{
	bufferevent_set_max_single_read(bev, READ_CHUNK);
	bufferevent_set_max_single_write(bev, WRITE_CHUNK);
}

int
basic_credentials(const char *user, const char *pass, char *out, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char plain[512];
	size_t n, i, o = 6;
	unsigned v;
	int m;

	m = snprintf(plain, sizeof(plain), "%s:%s", user, pass ? pass : "");
	if (m < 0 || (size_t)m >= sizeof(plain) ||
	    len < 6 + ((size_t)m + 2) / 3 * 4 + 1)
		return -1;
	n = (size_t)m;
	memcpy(out, "Basic ", 6);
	for (i = 0; i < n; i += 3) {
		v = (unsigned char)plain[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)plain[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)plain[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}
