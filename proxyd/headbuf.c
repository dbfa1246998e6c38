/*
 * headbuf.c - gathering a head before one evbuffer_add (see headbuf.h).
 */
#include <string.h>

#include "headbuf.h"

void
headbuf_init(struct headbuf *hb, struct evbuffer *out)
{
	hb->out = out;
	hb->len = 0;
	hb->failed = 0;
}

static void
headbuf_spill(struct headbuf *hb)
{
	if (hb->len > 0 && evbuffer_add(hb->out, hb->buf, hb->len) == -1)
		hb->failed = 1;
	hb->len = 0;
}

void
headbuf_add_spill(struct headbuf *hb, const void *p, size_t n)
{
	headbuf_spill(hb);
	if (n > sizeof(hb->buf)) {	/* a huge value: as it is */
		if (evbuffer_add(hb->out, p, n) == -1)
			hb->failed = 1;
		return;
	}
	memcpy(hb->buf, p, n);
	hb->len = n;
}

void
headbuf_uint(struct headbuf *hb, unsigned long long v)
{
	char	 d[20], *p = d + sizeof(d);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	headbuf_add(hb, p, (size_t)(d + sizeof(d) - p));
}

int
headbuf_flush(struct headbuf *hb)
{
	headbuf_spill(hb);
	return hb->failed ? -1 : 0;
}
