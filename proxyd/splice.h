/*
 * splice.h - zero-copy relay of CONNECT tunnel bytes between two plain
 * TCP sockets through the worker's pipe (splice.c).
 */
#ifndef PROXYD_SPLICE_H
#define PROXYD_SPLICE_H

#include <sys/types.h>

#include <event2/bufferevent.h>

struct worker;

/*
 * Moves of at least this many bytes make a tunnel direction splice its
 * next move; smaller ones make it read(2)/write(2) (bench/, in the
 * README: splicing saves a fifth of the CPU of a bulk transfer, and is
 * no better, or a little worse, for messages of 16 KiB and less, where
 * the pipe's bookkeeping costs what the copy saves).
 */
#define SPLICE_MIN	(64 * 1024)

/* Both bufferevents carry plain sockets (no TLS): splice may move bytes. */
int	splice_usable(struct bufferevent *a, struct bufferevent *b);

ssize_t	splice_relay(struct worker *w, int from, int to, size_t max,
	    char *rest, size_t *sent, int *werr);

void	splice_worker_free(struct worker *w);

#endif
