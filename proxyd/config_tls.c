/*
 * config_tls.c - the TLS listeners' keys of [proxyd] (tls_cert, tls_key,
 * tls_client_ca) checked against the listen list, and the server-side
 * SSL_CTX a snapshot carries for them (cfg->tls_ctx).
 *
 * The context is built at load time, not at the first connection, so
 * that `proxyd -t` and a reload see a missing, unreadable or mismatched
 * file and say "file:line:" like any other bad value; a reload that
 * fails keeps the old snapshot and with it the old certificate.  An
 * SSL_CTX is reference counted by OpenSSL and every connection's SSL
 * holds its own reference, so freeing the snapshot leaves connections
 * made from it untouched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config_parse.h"

/* Who asked for a client certificate: the session cache's namespace. */
#define SESSION_ID_CONTEXT	"proxyd"

/*
 * The first OpenSSL error of this thread (the cause; later ones wrap it)
 * as text, and the queue emptied.
 */
static void
ssl_error_text(char *buf, size_t len)
{
	unsigned long	e = ERR_peek_error();
	const char	*r = ERR_reason_error_string(e);

	if (e == 0 || r == NULL)
		snprintf(buf, len, "not PEM or unusable");
	else
		snprintf(buf, len, "%s", r);
	ERR_clear_error();
}

/*
 * Can path be opened for reading?  Said on key k's line if not, so the
 * message names the file's own problem (ENOENT, EACCES) rather than
 * OpenSSL's "system lib".  0 or -1.
 */
static int
check_readable(struct parse_state *st, enum key_id k, const char *path)
{
	FILE	*fp;

	if ((fp = fopen(path, "r")) == NULL) {
		cfg_error(st, st->seen[k], "%s: cannot read %s: %s",
		    cfg_keys[k].name, path, strerror(errno));
		return -1;
	}
	fclose(fp);
	return 0;
}

/* The key is another certificate's: -1, reported. */
static int
key_mismatch(struct parse_state *st)
{
	ERR_clear_error();
	cfg_error(st, st->seen[K_TLS_KEY], "tls_key: %s does not match the "
	    "certificate in %s", st->cfg->tls_key, st->cfg->tls_cert);
	return -1;
}

/* Certificate chain and key into ctx; -1 (reported) on any problem. */
static int
load_pair(struct parse_state *st, SSL_CTX *ctx)
{
	const struct config	*c = st->cfg;
	char			 why[160];

	if (check_readable(st, K_TLS_CERT, c->tls_cert) == -1 ||
	    check_readable(st, K_TLS_KEY, c->tls_key) == -1)
		return -1;
	/* The chain file whole: leaf first, then the intermediates. */
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		ssl_error_text(why, sizeof(why));
		cfg_error(st, st->seen[K_TLS_CERT], "tls_cert: expected PEM "
		    "certificates (leaf first) in %s: %s", c->tls_cert, why);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key,
	    SSL_FILETYPE_PEM) != 1) {
		/* A key of another certificate fails here already. */
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			return key_mismatch(st);
		ssl_error_text(why, sizeof(why));
		cfg_error(st, st->seen[K_TLS_KEY], "tls_key: expected a PEM "
		    "private key in %s: %s", c->tls_key, why);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		return key_mismatch(st);
	return 0;
}

/*
 * Ask for client certificates signed by tls_client_ca.  Without
 * auth_file a certificate is the only way in, so the handshake fails
 * without one; with it, a client without one may still use a password.
 * A certificate presented but not verified always fails the handshake
 * (the TLS alert, as the issue wants).
 */
static int
load_client_ca(struct parse_state *st, SSL_CTX *ctx)
{
	const struct config		*c = st->cfg;
	STACK_OF(X509_NAME)		*names;
	char				 why[160];
	int				 mode = SSL_VERIFY_PEER;

	if (check_readable(st, K_TLS_CLIENT_CA, c->tls_client_ca) == -1)
		return -1;
	if (SSL_CTX_load_verify_locations(ctx, c->tls_client_ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(c->tls_client_ca)) == NULL) {
		ssl_error_text(why, sizeof(why));
		cfg_error(st, st->seen[K_TLS_CLIENT_CA], "tls_client_ca: "
		    "expected PEM CA certificates in %s: %s",
		    c->tls_client_ca, why);
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	if (c->auth_file == NULL)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)SESSION_ID_CONTEXT,
	    sizeof(SESSION_ID_CONTEXT) - 1);
	return 0;
}

/* The server context for the snapshot in st, or NULL (reported). */
static SSL_CTX *
server_ctx(struct parse_state *st)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		cfg_nomem(st);
		return NULL;
	}
	/* TLS 1.0 and 1.1 are deprecated (RFC 8996). */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (load_pair(st, ctx) == -1 ||
	    (st->cfg->tls_client_ca != NULL && load_client_ca(st, ctx) == -1))
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The first tls listener, or NULL. */
static const struct listen_addr *
tls_listener(const struct config *c)
{
	size_t	i;

	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls)
			return &c->listen[i];
	return NULL;
}

void
cfg_check_tls(struct parse_state *st)
{
	struct config			*c = st->cfg;
	const struct listen_addr	*la = tls_listener(c);

	if (la != NULL && (c->tls_cert == NULL || c->tls_key == NULL)) {
		cfg_error(st, st->seen[K_LISTEN], "listen: tls %s needs "
		    "tls_cert and tls_key in [proxyd]", la->text);
		return;
	}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		cfg_error(st, st->seen[c->tls_cert ? K_TLS_CERT : K_TLS_KEY],
		    "%s: expected tls_cert and tls_key together",
		    c->tls_cert ? "tls_cert" : "tls_key");
		return;
	}
	if (c->tls_client_ca != NULL && c->tls_cert == NULL) {
		cfg_error(st, st->seen[K_TLS_CLIENT_CA], "tls_client_ca: "
		    "expected a tls listener with tls_cert and tls_key");
		return;
	}
	if (c->tls_cert != NULL)
		c->tls_ctx = server_ctx(st);
}

void
cfg_tls_free(struct config *c)
{
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_client_ca);
	SSL_CTX_free(c->tls_ctx);
}
