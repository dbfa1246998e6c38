/*
 * tls.c - verified TLS client connections over any upstream kind.
 *
 * The handshake runs on libevent's OpenSSL bufferevent.  A plain socket
 * bufferevent gives its descriptor to a socket-based TLS bufferevent
 * (OpenSSL reads the socket itself: no second buffer, no extra copy);
 * anything else (a filter, TLS already, unflushed output) is wrapped by a
 * TLS filter on top of it instead.  One timer bounds the handshake, as
 * the other kinds bound their connect: the deadline, parked failures and
 * the hand-over are the staged connect's (upstream.h).
 *
 * Verification is never optional: the chain must lead to the trust store
 * and the leaf must name the host (or its IP address).  Reasons come from
 * the verify result first, because OpenSSL's own error for any chain
 * problem is just "certificate verify failed".
 *
 * Sessions are cached per worker by host name, so that a new connection
 * to a mirror resumes instead of redoing the full handshake.  Keying by
 * name is safe: a session is only ever made by a handshake that verified
 * that very name, and another server of that name cannot decrypt it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "tls.h"

/* Sessions kept per worker; a proxy talks to a handful of mirrors. */
#define SESSION_CACHE_SIZE	64

/* DNS names are at most 253 characters without the trailing dot. */
#define TLS_HOST_MAX		253

struct tls_session {
	char		 host[TLS_HOST_MAX + 1];	/* "" when free */
	SSL_SESSION	*sess;
	uint64_t	 used;				/* LRU stamp */
};

struct tls_client {
	SSL_CTX			*ctx;
	uint64_t		 clock;		/* LRU stamps */
	struct tls_session	 sessions[SESSION_CACHE_SIZE];
};

struct tls_conn {
	struct staged_conn	 s;		/* first: cast target */
	struct tls_client	*tc;
	BIO			*sockbio;	/* socket variant: its BIO */
	int			 io_errno;	/* last socket error seen */
	char			 name[TLS_HOST_MAX + 1]; /* SNI, verified */
	char			 hostport[280];	/* for reasons */
};

/* The first OpenSSL error of this thread as text, and the queue emptied. */
static void
openssl_error_text(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();

	if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
}

/* --- the session cache --- */

/* The slot holding host's session, or NULL. */
static struct tls_session *
session_find(struct tls_client *tc, const char *host)
{
	size_t i;

	for (i = 0; i < SESSION_CACHE_SIZE; i++)
		if (tc->sessions[i].sess != NULL &&
		    strcmp(tc->sessions[i].host, host) == 0)
			return &tc->sessions[i];
	return NULL;
}

static void
session_clear(struct tls_session *s)
{
	if (s->sess != NULL)
		SSL_SESSION_free(s->sess);
	s->sess = NULL;
	s->host[0] = '\0';
}

/* Drop host's session: the last handshake with it failed. */
static void
session_forget(struct tls_client *tc, const char *host)
{
	struct tls_session *s;

	if ((s = session_find(tc, host)) != NULL)
		session_clear(s);
}

/* The slot for host's session: its own, a free one, or the LRU one. */
static struct tls_session *
session_slot(struct tls_client *tc, const char *host)
{
	struct tls_session *s, *lru = &tc->sessions[0];
	size_t i;

	if ((s = session_find(tc, host)) != NULL)
		return s;
	for (i = 0; i < SESSION_CACHE_SIZE; i++) {
		s = &tc->sessions[i];
		if (s->sess == NULL)
			return s;
		if (s->used < lru->used)
			lru = s;
	}
	return lru;
}

/*
 * OpenSSL made a new session (TLS 1.3: a ticket arrived, possibly long
 * after the handshake).  Keep a copy for its host name, replacing the
 * older one or the least recently used.  A copy, because OpenSSL marks a
 * connection's session unusable when the connection is freed without
 * sending close_notify, which is how pooled connections end.  Returns 0:
 * the reference passed stays OpenSSL's.
 */
static int
session_new_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_client *tc = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const char *host = SSL_SESSION_get0_hostname(sess);
	struct tls_session *s;
	SSL_SESSION *copy;

	/* No SNI (an IP literal) means no name to find it by again. */
	if (tc == NULL || host == NULL || strlen(host) > TLS_HOST_MAX ||
	    !SSL_SESSION_is_resumable(sess))
		return 0;
	if ((copy = SSL_SESSION_dup(sess)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	s = session_slot(tc, host);
	session_clear(s);
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->sess = copy;
	s->used = ++tc->clock;
	return 0;
}

/*
 * Offer host's cached session to ssl, if one is still usable: a copy,
 * which the connection may spoil (see session_new_cb) while the cached
 * one stays good for the next.  Any failure means a full handshake.
 */
static void
session_offer(struct tls_client *tc, SSL *ssl, const char *host)
{
	struct tls_session *s;
	SSL_SESSION *copy;

	if ((s = session_find(tc, host)) == NULL)
		return;
	if ((time_t)(SSL_SESSION_get_time(s->sess) +
	    SSL_SESSION_get_timeout(s->sess)) <= time(NULL)) {
		session_clear(s);
		return;
	}
	s->used = ++tc->clock;
	if ((copy = SSL_SESSION_dup(s->sess)) == NULL) {
		ERR_clear_error();
		return;
	}
	if (SSL_set_session(ssl, copy) != 1)
		ERR_clear_error();
	SSL_SESSION_free(copy);		/* ssl holds its own reference */
}

/* --- the client context --- */

/* Trust ca_file alone, or the system store when it is NULL. */
static int
tls_client_trust(SSL_CTX *ctx, const char *ca_file, char *err,
    size_t errlen)
{
	char ossl[256];
	FILE *f;

	if (ca_file == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			openssl_error_text(ossl, sizeof(ossl));
			snprintf(err, errlen, "system trust store: %s", ossl);
			return -1;
		}
		return 0;
	}
	/* OpenSSL's "system lib" error would hide the errno. */
	if ((f = fopen(ca_file, "r")) == NULL) {
		snprintf(err, errlen, "ca_file %s: %s", ca_file,
		    strerror(errno));
		return -1;
	}
	fclose(f);
	if (SSL_CTX_load_verify_file(ctx, ca_file) != 1) {
		openssl_error_text(ossl, sizeof(ossl));
		snprintf(err, errlen, "ca_file %s: no usable PEM certificate: "
		    "%s", ca_file, ossl);
		return -1;
	}
	return 0;
}

struct tls_client *
tls_client_new(const char *ca_file, char *err, size_t errlen)
{
	/* The caller speaks HTTP/1.1: say so, no server picks h2 then. */
	static const unsigned char alpn[] = "\x08http/1.1";
	struct tls_client *tc;
	char ossl[256];

	if ((tc = calloc(1, sizeof(*tc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((tc->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		openssl_error_text(ossl, sizeof(ossl));
		snprintf(err, errlen, "cannot create a TLS context: %s", ossl);
		goto fail;
	}
	if (tls_client_trust(tc->ctx, ca_file, err, errlen) == -1)
		goto fail;
	if (SSL_CTX_set_min_proto_version(tc->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(tc->ctx, alpn, sizeof(alpn) - 1) != 0) {
		openssl_error_text(ossl, sizeof(ossl));
		snprintf(err, errlen, "cannot configure TLS: %s", ossl);
		goto fail;
	}
	SSL_CTX_set_verify(tc->ctx, SSL_VERIFY_PEER, NULL);
	/*
	 * Released buffers: idle pooled connections would hold 34 KiB each.
	 * A peer closing without close_notify makes an EOF, as with
	 * allow_dirty_shutdown (which OpenSSL 3 alone would turn into an
	 * error): HTTP framing, not TLS, tells a whole answer from a cut one.
	 */
	SSL_CTX_set_mode(tc->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(tc->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Our own cache: OpenSSL's client-side store would never be read. */
	SSL_CTX_set_session_cache_mode(tc->ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(tc->ctx, session_new_cb);
	SSL_CTX_set_app_data(tc->ctx, tc);
	return tc;
fail:
	tls_client_free(tc);
	return NULL;
}

void
tls_client_free(struct tls_client *tc)
{
	size_t i;

	if (tc == NULL)
		return;
	for (i = 0; i < SESSION_CACHE_SIZE; i++)
		session_clear(&tc->sessions[i]);
	if (tc->ctx != NULL) {
		/* Live connections keep the context: they must not find us. */
		SSL_CTX_set_app_data(tc->ctx, NULL);
		SSL_CTX_sess_set_new_cb(tc->ctx, NULL);
		SSL_CTX_free(tc->ctx);
	}
	free(tc);
}

/* --- one handshake --- */

/*
 * The handshake is over, just before the attempt is freed.  On success
 * the BIO outlives u and must stop reporting to it; on failure the
 * cached session, if any, is no good.
 */
static void
tc_finish(struct staged_conn *s, struct bufferevent *bev)
{
	struct tls_conn *u = (struct tls_conn *)s;

	if (bev != NULL) {
		if (u->sockbio) {
			BIO_set_callback_ex(u->sockbio, NULL);
			BIO_set_callback_arg(u->sockbio, NULL);
		}
	} else if (u->name[0] != '\0')
		session_forget(u->tc, u->name);
}

/*
 * Watch the socket BIO for errors.  The handshake's bufferevent callbacks
 * are deferred, and by the time they run errno belongs to someone else.
 */
static long
tc_bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi,
    long argl, int ret, size_t *processed)
{
	struct tls_conn *u = (struct tls_conn *)BIO_get_callback_arg(b);

	(void)argp;
	(void)len;
	(void)argi;
	(void)argl;
	(void)processed;
	if (u != NULL && ret < 0 && (oper == (BIO_CB_READ | BIO_CB_RETURN) ||
	    oper == (BIO_CB_WRITE | BIO_CB_RETURN)) && !BIO_should_retry(b) &&
	    errno != 0)
		u->io_errno = errno;
	return ret;
}

/*
 * The oldest OpenSSL error libevent kept for bev, or 0; the rest are
 * dropped.  libevent hands them out newest first, and slips in the
 * SSL_get_error() code (a small number, no library) among them.
 */
static unsigned long
first_openssl_error(struct bufferevent *bev)
{
	unsigned long e, first = 0;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(e) != 0)
			first = e;
	return first;
}

/*
 * Neither verification nor OpenSSL failed the handshake: the connection
 * did.  libevent reports a reset as an EOF when dirty shutdowns are
 * allowed, so the event says little; errno, from the socket BIO, says
 * more; below a filter there is none.
 */
static void
tc_connection_failed(struct tls_conn *u, short what)
{
	if (u->io_errno != 0)
		staged_fail(&u->s, 502, "TLS to %s: handshake failed: %s",
		    u->hostport, strerror(u->io_errno));
	else if (!(what & BEV_EVENT_EOF))
		staged_fail(&u->s, 502, "TLS to %s: handshake failed: "
		    "connection error", u->hostport);
	else
		staged_fail(&u->s, 502, "TLS to %s: connection closed during "
		    "handshake", u->hostport);
}

/*
 * The handshake failed: say why, from the most telling source.  The verify
 * result beats OpenSSL's errors, which only say "certificate verify failed"
 * for any chain problem; errors beat the connection's state.
 */
static void
tc_handshake_failed(struct tls_conn *u, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(u->s.bev);
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long first = first_openssl_error(u->s.bev);
	char ossl[256];

	/* OpenSSL 3 calls an EOF inside the handshake an error. */
	if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
	    ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		first = 0;
		what = BEV_EVENT_EOF;
	}
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
	    vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
		staged_fail(&u->s, 502, "TLS to %s: %s", u->hostport,
		    X509_verify_cert_error_string(vr));
	else if (vr != X509_V_OK)
		staged_fail(&u->s, 502, "TLS to %s: certificate verify "
		    "failed: %s", u->hostport,
		    X509_verify_cert_error_string(vr));
	else if (first != 0) {
		ERR_error_string_n(first, ossl, sizeof(ossl));
		staged_fail(&u->s, 502, "TLS to %s: handshake failed: %s",
		    u->hostport, ossl);
	} else
		tc_connection_failed(u, what);
}

/* The handshake is over, one way or the other. */
static void
tc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tls_conn *u = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		staged_deliver(&u->s);
		return;
	}
	tc_handshake_failed(u, what);
}

/* The deadline passed during the handshake. */
static void
tc_timeout(struct staged_conn *s)
{
	struct tls_conn *u = (struct tls_conn *)s;

	staged_fail(s, 504, "TLS handshake with %s timed out", u->hostport);
}

static const struct staged_ops tls_ops = {
	.timeout = tc_timeout,
	.finish = tc_finish,
};

/*
 * Copy host into u->name as certificates spell it: without the trailing
 * dot of an absolute name.  Returns 0, or -1 when it cannot be a name.
 */
static int
tc_set_name(struct tls_conn *u, const char *host)
{
	size_t i, n = strlen(host);
	unsigned char ch;

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0 || n > TLS_HOST_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)host[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return -1;
	}
	memcpy(u->name, host, n);
	u->name[n] = '\0';
	return 0;
}

/*
 * Tell ssl whom it must be talking to: SNI and the name to match, or the
 * IP address to match for a literal.  Returns 0 or -1.
 */
static int
tc_set_peer_identity(struct tls_conn *u, SSL *ssl)
{
	if (addr_ip_literal(u->name, strlen(u->name), NULL))
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    u->name) == 1 ? 0 : -1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(ssl, u->name) != 1 ||
	    SSL_set1_host(ssl, u->name) != 1)
		return -1;
	session_offer(u->tc, ssl, u->name);
	return 0;
}

/* The address plain is connected to, into the attempt's peer. */
static void
tc_set_peer(struct tls_conn *u, struct bufferevent *plain)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(plain);

	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_text((struct sockaddr *)&ss, u->s.peer,
		    sizeof(u->s.peer));
}

/*
 * Can plain give its socket away?  Only a socket bufferevent with nothing
 * left to write: a filter or TLS has no socket of its own to give.
 */
static int
plain_is_bare_socket(struct bufferevent *plain)
{
	return bufferevent_get_underlying(plain) == NULL &&
	    bufferevent_openssl_get_ssl(plain) == NULL &&
	    bufferevent_getfd(plain) >= 0 &&
	    evbuffer_get_length(bufferevent_get_output(plain)) == 0;
}

/*
 * Put TLS on plain, consuming plain.  Callbacks are deferred: libevent's
 * TLS bufferevent otherwise runs them from inside bufferevent_write() and
 * bufferevent_enable(), which callers written for sockets do not expect.
 * Returns 0, or -1 when out of memory (ssl and plain are gone either way;
 * see below).
 */
static int
tc_wrap(struct tls_conn *u, struct event_base *base,
    struct bufferevent *plain, SSL *ssl)
{
	const int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	evutil_socket_t fd;

	if (!plain_is_bare_socket(plain)) {
		/*
		 * On failure libevent has freed ssl and, past its first
		 * allocation, plain: leaking plain in the rest of the cases
		 * beats freeing it twice.
		 */
		u->s.bev = bufferevent_openssl_filter_new(base, plain, ssl,
		    BUFFEREVENT_SSL_CONNECTING, opts);
		return u->s.bev ? 0 : -1;
	}
	/* plain keeps the socket until the TLS bufferevent has it. */
	fd = bufferevent_getfd(plain);
	u->s.bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, opts);
	if (u->s.bev == NULL) {
		bufferevent_free(plain);	/* ssl: freed by libevent */
		return -1;
	}
	bufferevent_setfd(plain, -1);
	bufferevent_free(plain);
	u->sockbio = SSL_get_rbio(ssl);
	BIO_set_callback_arg(u->sockbio, (char *)u);
	BIO_set_callback_ex(u->sockbio, tc_bio_cb);
	return 0;
}

/*
 * Make the SSL for u->name, put it on plain (consumed either way) and
 * start the handshake.  Returns 0, or -1 when out of memory: the name was
 * checked, so OpenSSL refusing it means nothing else.
 */
static int
tc_start(struct tls_conn *u, struct event_base *base,
    struct bufferevent *plain)
{
	struct bufferevent *under;
	SSL *ssl;

	if ((ssl = SSL_new(u->tc->ctx)) == NULL ||
	    tc_set_peer_identity(u, ssl) == -1) {
		SSL_free(ssl);
		bufferevent_free(plain);
		return -1;
	}
	if (tc_wrap(u, base, plain, ssl) == -1)
		return -1;
	bufferevent_openssl_set_allow_dirty_shutdown(u->s.bev, 1);
	bufferevent_setcb(u->s.bev, NULL, NULL, tc_event_cb, u);
	/*
	 * A TLS filter handshakes from its underlying's callbacks, and an
	 * idle connection calls none: start it, from the loop.
	 */
	if ((under = bufferevent_get_underlying(u->s.bev)) != NULL)
		bufferevent_trigger(under, EV_WRITE,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	return 0;
}

/*
 * A new attempt, failing (parked) until started, its deadline timeout_ms
 * from now; NULL when out of memory.
 */
static struct tls_conn *
tc_new(struct tls_client *tc, struct worker *w, const char *host,
    uint16_t port, int timeout_ms, upstream_cb *cb, void *arg)
{
	struct tls_conn *u;

	if ((u = staged_new(sizeof(*u), &tls_ops, w, timeout_ms, cb,
	    arg)) == NULL)
		return NULL;
	u->tc = tc;
	upstream_hostport(u->hostport, sizeof(u->hostport), host, port);
	return u;
}

struct upconn *
tls_connect(struct tls_client *tc, struct worker *w, struct bufferevent *plain,
    const char *host, uint16_t port, int timeout_ms, upstream_cb *cb,
    void *arg)
{
	struct tls_conn *u;
	size_t early;

	/* SSL_get_error() misreads a queue others left errors in. */
	ERR_clear_error();
	if ((u = tc_new(tc, w, host, port, timeout_ms, cb, arg)) == NULL) {
		bufferevent_free(plain);
		return NULL;
	}
	tc_set_peer(u, plain);
	if (tc_set_name(u, host) == -1) {
		staged_fail(&u->s, 502, "TLS to %s: invalid host name",
		    u->hostport);
		goto failed;
	}
	/* A TLS server speaks second: early bytes are not TLS. */
	if ((early = evbuffer_get_length(bufferevent_get_input(plain))) > 0) {
		staged_fail(&u->s, 502, "TLS to %s: handshake failed: %zu "
		    "bytes arrived before it began", u->hostport, early);
		goto failed;
	}
	if (tc_start(u, w->base, plain) == -1) {
		ERR_clear_error();
		staged_free(&u->s);
		return NULL;
	}
	staged_wait(&u->s);
	return &u->s.base;
failed:
	/* staged_fail() parked the failure for the zero timer. */
	bufferevent_free(plain);
	return &u->s.base;
}
