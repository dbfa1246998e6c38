/*
 * reply.h - the answers proxyd writes itself: error responses with a
 * one-line text body, and the reason phrases of the statuses it uses.
 */
#ifndef PROXYD_REPLY_H
#define PROXYD_REPLY_H

#include <event2/buffer.h>

/* Reason phrase for status ("Bad Gateway"); "Unknown" if not known. */
const char	*reply_status_text(int status);

/*
 * Append a complete response to out: status line, Content-Type text/plain,
 * Content-Length, Connection: close, and the body "proxyd: reason\n".
 * 429 and 503 carry Retry-After: retry_after seconds (at least 1).
 */
void		 reply_error(struct evbuffer *out, int status,
		    const char *reason, int retry_after);

/*
 * reply_error() with the whole body given: body[0..len), text/plain in
 * UTF-8 (proxyd's bodies are ASCII).
 */
void		 reply_text(struct evbuffer *out, int status, const char *body,
		    size_t len, int retry_after);

/*
 * Append a 407 to out: reply_error()'s, with Proxy-Authenticate: Basic
 * realm="realm" (quotes and backslashes in realm are escaped).
 */
void		 reply_auth(struct evbuffer *out, const char *realm,
		    const char *reason);

#endif /* PROXYD_REPLY_H */
