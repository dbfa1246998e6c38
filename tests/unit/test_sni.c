/*
 * test_sni.c - the ClientHello reader (proxyd/sni.c): a hello that
 * openssl s_client sent, every prefix of it, and hellos built here with
 * one thing wrong each.
 */
#include <stdio.h>
#include <string.h>

#include "sni.h"
#include "unit.h"

/* `openssl s_client -servername origin.test` (OpenSSL 3), as sent. */
static const unsigned char openssl_hello[] =
	"\x16\x03\x01\x01\x38\x01\x00\x01\x34\x03\x03\xcf\x01\x66\xad\xba\xb8\x02\x60\xd2\xe2\xaf\x9a\xeb\x29\x56\x7a\x50\xe1\xac\xb8\x07"
	"\x47\xb6\x9b\x8f\x0a\x9d\x62\xbf\xd9\x05\xbf\x20\xba\x3e\x35\x2f\x2e\x66\xe5\x63\x02\x5a\x2b\x7a\xfd\x77\x9a\x07\x59\xeb\xc8\xae"
	"\xbe\x3d\x0e\x44\xde\xb8\x92\xf3\xb9\x88\x19\x38\x00\x3e\x13\x02\x13\x03\x13\x01\xc0\x2c\xc0\x30\x00\x9f\xcc\xa9\xcc\xa8\xcc\xaa"
	"\xc0\x2b\xc0\x2f\x00\x9e\xc0\x24\xc0\x28\x00\x6b\xc0\x23\xc0\x27\x00\x67\xc0\x0a\xc0\x14\x00\x39\xc0\x09\xc0\x13\x00\x33\x00\x9d"
	"\x00\x9c\x00\x3d\x00\x3c\x00\x35\x00\x2f\x00\xff\x01\x00\x00\xad\x00\x00\x00\x10\x00\x0e\x00\x00\x0b\x6f\x72\x69\x67\x69\x6e\x2e"
	"\x74\x65\x73\x74\x00\x0b\x00\x04\x03\x00\x01\x02\x00\x0a\x00\x16\x00\x14\x00\x1d\x00\x17\x00\x1e\x00\x19\x00\x18\x01\x00\x01\x01"
	"\x01\x02\x01\x03\x01\x04\x00\x23\x00\x00\x00\x16\x00\x00\x00\x17\x00\x00\x00\x0d\x00\x2a\x00\x28\x04\x03\x05\x03\x06\x03\x08\x07"
	"\x08\x08\x08\x09\x08\x0a\x08\x0b\x08\x04\x08\x05\x08\x06\x04\x01\x05\x01\x06\x01\x03\x03\x03\x01\x03\x02\x04\x02\x05\x02\x06\x02"
	"\x00\x2b\x00\x09\x08\x03\x04\x03\x03\x03\x02\x03\x01\x00\x2d\x00\x02\x01\x01\x00\x33\x00\x26\x00\x24\x00\x1d\x00\x20\x64\xdc\x47"
	"\x40\xc3\xee\xba\xcc\xaa\xbb\xd0\xef\x48\x86\xc4\xd2\x03\x45\x6c\xa2\x1f\x6c\xe7\xb5\x4b\x4c\x3b\x8a\x43\x33\x47\x7f";

enum {
	B_NO_EXT = 1,		/* no extensions block at all */
	B_TWO_SNI = 2,		/* server_name twice */
	B_EXT_OVERRUN = 4,	/* an extension longer than its block */
	B_HS_SHORT = 8,		/* handshake length one less than the body */
	B_NO_SNI = 16,		/* extensions, none of them server_name */
	B_SESSION_33 = 32	/* a 33-byte session id */
};

static size_t
put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

/* A server_name extension for host at p; its length. */
static size_t
build_sni(unsigned char *p, const char *host)
{
	size_t hl = strlen(host), n = 0;

	n += put16(p + n, 0);			/* type server_name */
	n += put16(p + n, hl + 5);
	n += put16(p + n, hl + 3);		/* list */
	p[n++] = 0;				/* host_name */
	n += put16(p + n, hl);
	memcpy(p + n, host, hl);
	return n + hl;
}

/* The extensions block: a supported_versions one, then SNI. */
static size_t
build_exts(unsigned char *p, const char *host, int flags)
{
	size_t n = 2;

	n += put16(p + n, 0x002b);		/* supported_versions */
	n += put16(p + n, 3);
	p[n++] = 2;
	n += put16(p + n, 0x0304);
	if (!(flags & B_NO_SNI))
		n += build_sni(p + n, host);
	if (flags & B_TWO_SNI)
		n += build_sni(p + n, host);
	put16(p, n - 2 + (flags & B_EXT_OVERRUN ? 1 : 0));
	return n;
}

/* A whole record holding a ClientHello for host. */
static size_t
build(unsigned char *b, const char *host, int flags)
{
	size_t n = 9, sid = flags & B_SESSION_33 ? 33 : 32, body;

	b[n++] = 3;
	b[n++] = 3;
	memset(b + n, 0xab, 32);		/* random */
	n += 32;
	b[n++] = (unsigned char)sid;
	memset(b + n, 0xcd, sid);
	n += sid;
	n += put16(b + n, 2);
	n += put16(b + n, 0x1301);		/* TLS_AES_128_GCM_SHA256 */
	b[n++] = 1;
	b[n++] = 0;				/* null compression */
	if (!(flags & B_NO_EXT))
		n += build_exts(b + n, host, flags);
	body = n - 9 - (flags & B_HS_SHORT ? 1 : 0);
	b[0] = 0x16;
	b[1] = 3;
	b[2] = 1;
	put16(b + 3, n - 5);
	b[5] = 1;
	b[6] = (unsigned char)(body >> 16);
	put16(b + 7, body);
	return n;
}

static void
test_openssl(void)
{
	struct sni_hello h;
	size_t len = sizeof(openssl_hello) - 1, i;
	int n, bad = 0;

	n = sni_parse(openssl_hello, len, &h);
	CHECK(n == (int)len, "openssl hello: %d", n);
	CHECK(h.host && h.host_len == 11 &&
	    memcmp(h.host, "origin.test", 11) == 0, "openssl hello host");
	/* Byte by byte, as a hostile client may send it. */
	for (i = 0; i < len; i++)
		if (sni_parse(openssl_hello, i, &h) != SNI_INCOMPLETE)
			bad++;
	CHECK(bad == 0, "%d prefixes were not incomplete", bad);
}

static const struct {
	const char	*name;
	const char	*host;
	int		 flags;
	int		 ok;		/* 1: parses; 0: SNI_INVALID */
	int		 has_host;
} built[] = {
	{ "plain", "example.test", 0, 1, 1 },
	{ "no extensions", "x", B_NO_EXT, 1, 0 },
	{ "no server_name", "x", B_NO_SNI, 1, 0 },
	{ "ip literal", "192.0.2.1", 0, 1, 1 },
	{ "underscore", "a_b.example", 0, 1, 1 },
	{ "two server_name", "example.test", B_TWO_SNI, 0, 0 },
	{ "extension overrun", "example.test", B_EXT_OVERRUN, 0, 0 },
	{ "handshake length", "example.test", B_HS_SHORT, 0, 0 },
	{ "session id 33", "example.test", B_SESSION_33, 0, 0 },
	{ "space in name", "a b.test", 0, 0, 0 },
	{ "empty label", "a..test", 0, 0, 0 },
	{ "leading dot", ".a.test", 0, 0, 0 },
	{ "nul in name", "a\001b", 0, 0, 0 },
	{ "label of 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa.test", 0, 0, 0 },
};

static void
test_built(void)
{
	unsigned char b[1024];
	struct sni_hello h;
	size_t i, len;
	int n;

	for (i = 0; i < sizeof(built) / sizeof(built[0]); i++) {
		len = build(b, built[i].host, built[i].flags);
		n = sni_parse(b, len, &h);
		if (!built[i].ok) {
			CHECK(n == SNI_INVALID, "%s: %d", built[i].name, n);
			continue;
		}
		CHECK(n == (int)len, "%s: %d, not %zu", built[i].name, n, len);
		CHECK(built[i].has_host ? h.host && h.host_len ==
		    strlen(built[i].host) && memcmp(h.host, built[i].host,
		    h.host_len) == 0 : h.host == NULL, "%s: host",
		    built[i].name);
	}
	/* A second record behind the hello is not the hello's. */
	len = build(b, "example.test", 0);
	memcpy(b + len, "\x17\x03\x03\x00\x01x", 6);
	CHECK(sni_parse(b, len + 6, &h) == (int)len, "record length only");
}

static const struct {
	const char	*name;
	const char	*bytes;
	size_t		 len;
	int		 want;
} raw[] = {
	{ "empty", "", 0, SNI_INCOMPLETE },
	{ "one byte", "\x16", 1, SNI_INCOMPLETE },
	{ "not handshake", "\x17\x03\x03\x00\x10", 5, SNI_INVALID },
	{ "http", "GET / HTTP/1.1\r\n", 16, SNI_INVALID },
	{ "ssl2 major", "\x16\x02", 2, SNI_INVALID },
	{ "minor 5", "\x16\x03\x05", 3, SNI_INVALID },
	{ "record 0", "\x16\x03\x01\x00\x00", 5, SNI_INVALID },
	{ "record 3", "\x16\x03\x01\x00\x03\x01\x00\x00", 8, SNI_INVALID },
	{ "record too big", "\x16\x03\x01\x40\x01", 5, SNI_INVALID },
	{ "server hello", "\x16\x03\x03\x00\x30\x02", 6, SNI_INVALID },
	{ "header only", "\x16\x03\x01\x00\x30", 5, SNI_INCOMPLETE },
	{ "hello type", "\x16\x03\x01\x00\x30\x01\x00", 7, SNI_INCOMPLETE },
	{ "hs longer than record", "\x16\x03\x01\x00\x04\x01\x00\x00\x05",
	    9, SNI_INVALID },
	{ "empty hello", "\x16\x03\x01\x00\x04\x01\x00\x00\x00", 9,
	    SNI_INVALID },
};

static void
test_raw(void)
{
	struct sni_hello h;
	size_t i;
	int n;

	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		n = sni_parse((const unsigned char *)raw[i].bytes, raw[i].len,
		    &h);
		CHECK(n == raw[i].want, "%s: %d, not %d", raw[i].name, n,
		    raw[i].want);
		CHECK(h.host == NULL, "%s: a host", raw[i].name);
	}
}

int
main(void)
{
	test_openssl();
	test_built();
	test_raw();
	return unit_done("test_sni");
}
