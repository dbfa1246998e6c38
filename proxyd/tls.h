/*
 * tls.h - verified TLS client connections (to module mirrors).
 *
 * A worker owns one struct tls_client: an SSL_CTX with the trust store
 * and the policy (TLS 1.2 at least, peer verification always on), plus a
 * small cache of sessions by host name so that a new connection to a
 * mirror can skip the full handshake.  tls_connect() layers TLS on a
 * connection any upstream kind produced (direct, or a tunnel through a
 * parent) and behaves like a kind itself: one deadline, one callback,
 * never from inside the call, cancellable with upstream_cancel().
 */
#ifndef PROXYD_TLS_H
#define PROXYD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "upstream.h"

struct tls_client;

/*
 * A client context trusting ca_file (PEM, replacing the system store) or,
 * when ca_file is NULL, the system store.  Returns NULL with a message in
 * err (e.g. "ca_file /x.pem: No such file or directory") on failure.
 * Not thread-safe: one per worker.
 */
struct tls_client	*tls_client_new(const char *ca_file, char *err,
			    size_t errlen);

/* Free tc; connections made with it may outlive it. */
void			 tls_client_free(struct tls_client *tc);

/*
 * Start a TLS handshake with host:port over plain, a connected
 * bufferevent with no callbacks (as an upstream_cb hands it over): a
 * socket bufferevent, or a filter with deferred callbacks
 * (BEV_OPT_DEFER_CALLBACKS; a bufferevent from tls_connect() is one);
 * libevent's TLS filter would otherwise run OpenSSL inside OpenSSL.  plain
 * belongs to tls_connect() from the call on, whatever the outcome.  host
 * is the destination's name: it goes into SNI and must match the
 * certificate; an IP literal (unbracketed) must match an IP address
 * entry instead and sends no SNI.
 *
 * cb is called exactly once, never from inside the call, at the latest
 * after timeout_ms.  On success bev speaks TLS to host (callbacks cleared,
 * reading disabled, freeing it frees the SSL and the connection; bytes
 * that came with the handshake may be in its input; callbacks are
 * deferred, so they never run inside a bufferevent call).  On failure
 * err is 502 with a reason such as
 *   "TLS to HOST:PORT: certificate verify failed: <X.509 reason>",
 *   "TLS to HOST:PORT: hostname mismatch",
 *   "TLS to HOST:PORT: handshake failed: <first OpenSSL error>",
 *   "TLS to HOST:PORT: connection closed during handshake",
 * or 504 "TLS handshake with HOST:PORT timed out".  peer is the address
 * plain is connected to ("-" when unknown).
 *
 * Returns a handle for upstream_cancel(), or NULL when out of memory (cb
 * is then never called).
 */
struct upconn		*tls_connect(struct tls_client *tc, struct worker *w,
			    struct bufferevent *plain, const char *host,
			    uint16_t port, int timeout_ms, upstream_cb *cb,
			    void *arg);

#endif /* PROXYD_TLS_H */
