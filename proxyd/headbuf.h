/*
 * headbuf.h - a message head written in pieces and handed to an evbuffer
 * whole.  Every evbuffer_add() to a bufferevent's output runs its
 * callbacks (and may touch the event's registration): a head of a dozen
 * pieces paid that a dozen times.  The pieces gather in the caller's
 * struct; a head larger than it goes out in several adds, never lost.
 * No formatting through printf either: names, values and numbers are
 * copied as they are.
 */
#ifndef PROXYD_HEADBUF_H
#define PROXYD_HEADBUF_H

#include <stddef.h>
#include <string.h>

#include <event2/buffer.h>

#define HEADBUF_SIZE	4096

struct headbuf {
	struct evbuffer	*out;
	size_t		 len;
	int		 failed;	/* an add to out failed */
	char		 buf[HEADBUF_SIZE];
};

/* Start a head for out. */
void	headbuf_init(struct headbuf *hb, struct evbuffer *out);

/* Append p[0..n) when it does not fit in what is left of hb->buf. */
void	headbuf_add_spill(struct headbuf *hb, const void *p, size_t n);

/*
 * Append p[0..n).  Inline, since a head is a few dozen short pieces and
 * the call cost as much as the copy: what fits is copied here.
 */
static inline void
headbuf_add(struct headbuf *hb, const void *p, size_t n)
{
	if (n > sizeof(hb->buf) - hb->len) {
		headbuf_add_spill(hb, p, n);
		return;
	}
	memcpy(hb->buf + hb->len, p, n);
	hb->len += n;
}

/* Append the NUL-terminated s (a literal's length is a constant). */
static inline void
headbuf_str(struct headbuf *hb, const char *s)
{
	headbuf_add(hb, s, strlen(s));
}

/* Append v in decimal. */
void	headbuf_uint(struct headbuf *hb, unsigned long long v);

/* Hand what is gathered to out: 0, or -1 if any add failed. */
int	headbuf_flush(struct headbuf *hb);

#endif /* PROXYD_HEADBUF_H */
