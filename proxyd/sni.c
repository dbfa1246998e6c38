/*
 * sni.c - reads the ClientHello of a TLS connection that a transparent
 * listener has peeked at (nothing is consumed: the bytes are relayed
 * untouched afterwards), and takes its server_name (RFC 6066 3).
 *
 * Every length field is checked against what encloses it, so a hostile
 * hello can make the reader refuse, never read past its bounds.
 */
#include <stdint.h>
#include <string.h>

#include "sni.h"

#define TLS_HANDSHAKE		0x16
#define TLS_CLIENT_HELLO	0x01
#define EXT_SERVER_NAME		0x0000
#define SNI_HOST_NAME		0x00

/* A bounded reader over [p, end). */
struct cur {
	const unsigned char	*p;
	const unsigned char	*end;
};

/* Take n bytes as a sub-reader; -1 when fewer are left. */
static int
cur_take(struct cur *c, size_t n, struct cur *sub)
{
	if ((size_t)(c->end - c->p) < n)
		return -1;
	sub->p = c->p;
	sub->end = c->p + n;
	c->p += n;
	return 0;
}

/* A big-endian integer of n (1..3) bytes; -1 when fewer are left. */
static long
cur_int(struct cur *c, size_t n)
{
	long v = 0;
	size_t i;

	if ((size_t)(c->end - c->p) < n)
		return -1;
	for (i = 0; i < n; i++)
		v = (v << 8) | *c->p++;
	return v;
}

/* A vector with an n-byte length prefix, at least min bytes long. */
static int
cur_vector(struct cur *c, size_t n, size_t min, struct cur *sub)
{
	long len = cur_int(c, n);

	if (len < (long)min)
		return -1;
	return cur_take(c, (size_t)len, sub);
}

/* A DNS name as SNI carries it: letters, digits, '-', '_' and dots,
 * no empty label, at most 253 bytes.  No IP literal (RFC 6066 3). */
static int
sni_host_ok(const unsigned char *h, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '-' ||
		    h[i] == '_') || ++label > 63)
			return 0;
	}
	return 1;
}

/* The server_name extension's body: the first host_name entry. */
static int
sni_server_name(struct cur ext, struct sni_hello *out)
{
	struct cur list, name;
	long type;

	if (cur_vector(&ext, 2, 1, &list) == -1 || ext.p != ext.end)
		return -1;
	while (list.p < list.end) {
		if ((type = cur_int(&list, 1)) == -1 ||
		    cur_vector(&list, 2, 1, &name) == -1)
			return -1;
		if (type != SNI_HOST_NAME || out->host != NULL)
			continue;
		if (!sni_host_ok(name.p, (size_t)(name.end - name.p)))
			return -1;
		out->host = (const char *)name.p;
		out->host_len = (size_t)(name.end - name.p);
	}
	return out->host != NULL ? 0 : -1;
}

/* The extensions block (may be absent: no SNI). */
static int
sni_extensions(struct cur *body, struct sni_hello *out)
{
	struct cur exts, data;
	long type;
	int seen = 0;

	if (body->p == body->end)
		return 0;
	if (cur_vector(body, 2, 0, &exts) == -1 || body->p != body->end)
		return -1;
	while (exts.p < exts.end) {
		if ((type = cur_int(&exts, 2)) == -1 ||
		    cur_vector(&exts, 2, 0, &data) == -1)
			return -1;
		if (type != EXT_SERVER_NAME)
			continue;
		if (seen++ || sni_server_name(data, out) == -1)
			return -1;
	}
	return 0;
}

/* The ClientHello body: version, random, session id, ciphers,
 * compression methods, extensions. */
static int
sni_hello_body(struct cur body, struct sni_hello *out)
{
	struct cur skip;
	long major;

	if ((major = cur_int(&body, 1)) != 3 || cur_int(&body, 1) == -1 ||
	    cur_take(&body, 32, &skip) == -1 ||
	    cur_vector(&body, 1, 0, &skip) == -1 ||
	    skip.end - skip.p > 32 ||
	    cur_vector(&body, 2, 2, &skip) == -1 ||
	    (skip.end - skip.p) % 2 != 0 ||
	    cur_vector(&body, 1, 1, &skip) == -1)
		return -1;
	return sni_extensions(&body, out);
}

/* The 5-byte record header, as far as it has arrived. */
static int
sni_record_head(const unsigned char *buf, size_t len, size_t *reclen)
{
	if (len >= 1 && buf[0] != TLS_HANDSHAKE)
		return SNI_INVALID;
	if (len >= 2 && buf[1] != 3)
		return SNI_INVALID;
	if (len >= 3 && buf[2] > 4)
		return SNI_INVALID;
	if (len < 5)
		return SNI_INCOMPLETE;
	*reclen = ((size_t)buf[3] << 8) | buf[4];
	if (*reclen < 4 || *reclen > SNI_MAX_RECORD)
		return SNI_INVALID;
	return 0;
}

int
sni_parse(const unsigned char *buf, size_t len, struct sni_hello *out)
{
	struct cur rec, body;
	size_t reclen = 0;
	long type;
	int n;

	out->host = NULL;
	out->host_len = 0;
	if ((n = sni_record_head(buf, len, &reclen)) != 0)
		return n;
	/* The handshake type is known before the whole record is. */
	if (len > 5 && buf[5] != TLS_CLIENT_HELLO)
		return SNI_INVALID;
	if (len < 5 + reclen)
		return SNI_INCOMPLETE;
	rec.p = buf + 5;
	rec.end = rec.p + reclen;
	if ((type = cur_int(&rec, 1)) != TLS_CLIENT_HELLO ||
	    cur_vector(&rec, 3, 0, &body) == -1 || rec.p != rec.end ||
	    sni_hello_body(body, out) == -1) {
		out->host = NULL;
		out->host_len = 0;
		return SNI_INVALID;
	}
	return (int)(5 + reclen);
}
