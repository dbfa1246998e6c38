/*
 * auth_client.h - proxy authentication of a client's requests: which
 * header carries the credentials, the per-connection and per-worker
 * caches, the check off the loop (auth_pool.c), the failure limit, and
 * the answers (407 with a Basic challenge, 429).
 *
 * Owns the client's authentication fields (struct client: auth_*,
 * user) and the worker's auth_pool and auth_cache.
 */
#ifndef PROXYD_AUTH_CLIENT_H
#define PROXYD_AUTH_CLIENT_H

#include "proxyd.h"

/*
 * The request head req of c, on a configuration with users: 1 when its
 * credentials are good (c->user is set), 0 when it was answered (407,
 * 429) or a check is pending: reads stop until it is done, and then
 * the head, still buffered, is dispatched again (client_auth_resume()).
 */
int	auth_client_check(struct client *c, const struct http_request *req);

/* c is being closed: a pending check's result is dropped. */
void	auth_client_closed(struct client *c);

/* Free what the worker holds for authentication (pool threads stop). */
void	auth_worker_free(struct worker *w);

/* Checks done by w's pool so far (a debug counter). */
unsigned long	auth_worker_checks(const struct worker *w);

#endif /* PROXYD_AUTH_CLIENT_H */
