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

/* Append p[0..n). */
void	headbuf_add(struct headbuf *hb, const void *p, size_t n);

/* Append the NUL-terminated s. */
void	headbuf_str(struct headbuf *hb, const char *s);

/* Append v in decimal. */
void	headbuf_uint(struct headbuf *hb, unsigned long long v);

/* Hand what is gathered to out: 0, or -1 if any add failed. */
int	headbuf_flush(struct headbuf *hb);

#endif /* PROXYD_HEADBUF_H */
