/*
 * tls_server.c - the server side of TLS for clients of a tls listener:
 * their connection's bufferevent, what its handshake proved (the client
 * certificate's name) or why it failed, and the close_notify at the end.
 *
 * The context comes from the snapshot the connection was accepted on
 * (config_tls.c); the SSL takes its own reference to it, so a reload
 * with a new certificate changes new connections only.
 *
 * Everything else about the client (the header timeout that also bounds
 * the handshake, the requests) is client.c's: a TLS client is a client
 * whose bufferevent decrypts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_server.h"

struct bufferevent *
tls_server_accept(struct event_base *base, struct ssl_ctx_st *ctx, int fd)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/* Deferred callbacks: OpenSSL writes from inside bufferevent_write()
	 * and would otherwise call back into whoever is writing. */
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* A client that just closes the socket has closed, not failed. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int
tls_server_is_tls(struct bufferevent *bev)
{
	return bev != NULL && bufferevent_openssl_get_ssl(bev) != NULL;
}

void
tls_server_error(struct bufferevent *bev, char *buf, size_t len)
{
	unsigned long	e, first = 0;
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	long		 v;

	/* libevent keeps them newest first, with SSL_get_error() codes
	 * (no library) among them: the oldest real one is the cause. */
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(e) != 0)
			first = e;
	if (ssl != NULL && (v = SSL_get_verify_result(ssl)) != X509_V_OK)
		snprintf(buf, len, "TLS handshake failed: client certificate: "
		    "%s", X509_verify_cert_error_string(v));
	else if (first != 0 && ERR_reason_error_string(first) != NULL)
		snprintf(buf, len, "TLS handshake failed: %s",
		    ERR_reason_error_string(first));
	else
		snprintf(buf, len, "TLS connection failed");
}

char *
tls_server_peer_name(struct bufferevent *bev)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	X509		*cert;
	X509_NAME	*subj;
	char		 cn[256];
	int		 n;

	if (ssl == NULL || (cert = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK ||
	    (subj = X509_get_subject_name(cert)) == NULL)
		return NULL;
	n = X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn));
	/* A CN with a NUL inside would name someone else. */
	if (n <= 0 || (size_t)n != strlen(cn))
		return NULL;
	return strdup(cn);
}

void
tls_server_no_close_notify(struct bufferevent *bev)
{
	SSL	*ssl;

	if (bev != NULL && (ssl = bufferevent_openssl_get_ssl(bev)) != NULL)
		SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
}

void
tls_server_close_notify(struct bufferevent *bev)
{
	SSL	*ssl;

	if (bev == NULL || (ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return;
	/* One try, not waiting for the peer's: the socket closes next. */
	if (SSL_is_init_finished(ssl) && !(SSL_get_shutdown(ssl) &
	    SSL_SENT_SHUTDOWN))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}
