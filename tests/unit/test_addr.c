/*
 * test_addr.c - host and address text (addr.c): HOST:PORT split and
 * formatted, IP literals, socket addresses as text, FNV-1a, hex digits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "unit.h"

/* Split s whole; 0 and the parts, or -1. */
static int
split(const char *s, uint16_t defport, struct addr_hostport *hp)
{
	return addr_split(s, strlen(s), defport, hp);
}

/* s must split into host (as text) and port. */
static void
split_ok(const char *s, uint16_t defport, const char *host, uint16_t port,
    int bracketed)
{
	struct addr_hostport	hp;

	memset(&hp, 0, sizeof(hp));
	CHECK(split(s, defport, &hp) == 0 && hp.hostlen == strlen(host) &&
	    memcmp(hp.host, host, hp.hostlen) == 0 && hp.port == port &&
	    hp.bracketed == bracketed,
	    "split \"%s\" (default %u): got %.*s port %u", s,
	    (unsigned)defport, (int)hp.hostlen, hp.host != NULL ? hp.host :
	    "", (unsigned)hp.port);
}

static void
test_split_good(void)
{
	struct addr_hostport	hp;

	split_ok("example.com:443", 0, "example.com", 443, 0);
	split_ok("1.2.3.4:80", 0, "1.2.3.4", 80, 0);
	split_ok("[::1]:443", 0, "::1", 443, 1);
	split_ok("[::ffff:1.2.3.4]:8080", 0, "::ffff:1.2.3.4", 8080, 1);
	split_ok("[2001:db8::1]", 443, "2001:db8::1", 443, 1);
	split_ok("example.com", 80, "example.com", 80, 0);
	split_ok("h:1", 0, "h", 1, 0);
	split_ok("h:65535", 0, "h", 65535, 0);
	split_ok("h:00080", 0, "h", 80, 0);
	split_ok("a.b_c-d:9", 0, "a.b_c-d", 9, 0);
	/* The host is the caller's to judge. */
	split_ok("-x y:9", 0, "-x y", 9, 0);
	CHECK(addr_split("host:80xyz", 7, 0, &hp) == 0 && hp.port == 80,
	    "only len bytes are read");
	CHECK(addr_split("[::1]:443]", 9, 0, &hp) == 0 && hp.port == 443,
	    "only len bytes are read, bracketed");
}

static void
test_split_bad(void)
{
	static const char *bad[] = {
		"", ":80", "host:", "host:0", "host:65536", "host:70000",
		"host:99999999999999999999", "host:18446744073709551696",
		"host:+80", "host:-1", "host: 80", "host:80 ", "host:8x",
		"host:0x50", "host:80:80", "::1:80", "::1", "[::1]:",
		"[::1", "::1]:80", "[::1]x", "[::1]x:80", "[::1]]:80",
		"[[::1]]:80", "[]:80", "[]", "[1.2.3.4]:80", "[example.com]:80",
		"a[b]:80", "a]:80", "[fe80::1%eth0]:80", "[fe80::1%25eth0]:80",
		"[ ::1]:80", "[::1 ]:80",
	};
	struct addr_hostport	hp;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(split(bad[i], 0, &hp) == -1, "\"%s\" split", bad[i]);
	/* With a default port, only the missing port is forgiven. */
	CHECK(split("host", 0, &hp) == -1, "missing port, no default");
	CHECK(split("[::1]", 0, &hp) == -1, "missing port after ]");
	CHECK(split("::1", 443, &hp) == -1, "bare IPv6 with a default");
	CHECK(split("host:", 80, &hp) == -1, "empty port with a default");
	CHECK(split("", 80, &hp) == -1, "empty with a default");
	CHECK(split("[::1]x", 80, &hp) == -1, "junk after ] with a default");
	CHECK(addr_split("h:80", 2, 0, &hp) == -1, "len cuts the port off");
	CHECK(addr_split("h\0:80", 5, 0, &hp) == 0 && hp.hostlen == 2,
	    "a NUL in a name is the caller's to refuse");
	CHECK(addr_split("[::1\0]:80", 9, 0, &hp) == -1,
	    "a NUL in brackets");
}

/* addr_format() must give want, and return its length. */
static void
format_is(const char *host, uint16_t port, uint16_t defport,
    const char *want)
{
	char	buf[64];
	int	n = addr_format(buf, sizeof(buf), host, port, defport);

	CHECK(strcmp(buf, want) == 0 && n == (int)strlen(want),
	    "format %s %u (default %u): \"%s\" (%d), want \"%s\"", host,
	    (unsigned)port, (unsigned)defport, buf, n, want);
}

static void
test_format(void)
{
	char	buf[8];

	format_is("example.com", 443, 0, "example.com:443");
	format_is("1.2.3.4", 80, 0, "1.2.3.4:80");
	format_is("::1", 443, 0, "[::1]:443");
	format_is("::ffff:1.2.3.4", 80, 0, "[::ffff:1.2.3.4]:80");
	format_is("[::1]", 80, 0, "[::1]:80");
	format_is("example.com", 80, 80, "example.com");
	format_is("::1", 443, 443, "[::1]");
	format_is("example.com", 8080, 80, "example.com:8080");
	format_is("example.com", 0, 0, "example.com:0");
	CHECK(addr_format(buf, sizeof(buf), "example.com", 443, 0) == 15 &&
	    strcmp(buf, "example") == 0, "truncated: %s", buf);
}

static void
test_ip_literal(void)
{
	static const char *names[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4",
		"example.com", "[::1]", "fe80::1%eth0", "fe80::1%25eth0",
		"1:2:3:4:5:6:7:8:9", ":::", " 1.2.3.4", "1.2.3.4 ",
		"0x7f.0.0.1", "localhost",
	};
	unsigned char	out[16];
	char		long_name[100];
	size_t		i;

	memset(out, 0, sizeof(out));
	CHECK(addr_ip_literal("10.1.2.3", 8, out) == AF_INET &&
	    out[0] == 10 && out[3] == 3, "IPv4 and its bytes");
	CHECK(addr_ip_literal("::1", 3, out) == AF_INET6 && out[15] == 1 &&
	    out[0] == 0, "IPv6 and its bytes");
	CHECK(addr_ip_literal("::ffff:1.2.3.4", 14, out) == AF_INET6 &&
	    out[10] == 0xff && out[12] == 1, "v4-mapped stays IPv6");
	CHECK(addr_ip_literal("1.2.3.4", 7, NULL) == AF_INET, "out NULL");
	CHECK(addr_ip_literal("1.2.3.4xyz", 7, NULL) == AF_INET,
	    "only len bytes are read");
	CHECK(addr_ip_literal("1.2.3.4\0x", 9, NULL) == 0, "NUL inside");
	CHECK(addr_ip_literal("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    45, NULL) == AF_INET6, "the longest IPv6 text, 45 bytes");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(addr_ip_literal(names[i], strlen(names[i]), NULL) == 0,
		    "\"%s\" is no IP literal", names[i]);
	memset(long_name, '1', sizeof(long_name));
	CHECK(addr_ip_literal(long_name, sizeof(long_name), NULL) == 0,
	    "100 bytes");
}

static void
test_sockaddr_text(void)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	char			 buf[56];

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(3128);
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	sockaddr_text((struct sockaddr *)&ss, buf, sizeof(buf));
	CHECK(strcmp(buf, "127.0.0.1:3128") == 0, "IPv4: %s", buf);
	sockaddr_text((struct sockaddr *)&ss, buf, 6);
	CHECK(strcmp(buf, "127.0") == 0, "truncated: %s", buf);

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", &sin6->sin6_addr);
	sockaddr_text((struct sockaddr *)&ss, buf, sizeof(buf));
	CHECK(strcmp(buf, "[2001:db8::1]:443") == 0, "IPv6: %s", buf);
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6->sin6_addr);
	sockaddr_text((struct sockaddr *)&ss, buf, sizeof(buf));
	CHECK(strcmp(buf, "[::ffff:10.0.0.1]:443") == 0, "v4-mapped: %s",
	    buf);

	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	sockaddr_text((struct sockaddr *)&ss, buf, sizeof(buf));
	CHECK(strcmp(buf, "unix") == 0, "AF_UNIX: %s", buf);
}

static void
test_hash(void)
{
	/* The FNV-1a reference values (32-bit). */
	CHECK(addr_fnv1a("", 0) == 0x811c9dc5u, "FNV-1a of \"\"");
	CHECK(addr_fnv1a("a", 1) == 0xe40c292cu, "FNV-1a of \"a\"");
	CHECK(addr_fnv1a("foobar", 6) == 0xbf9cf968u, "FNV-1a of \"foobar\"");
	CHECK(addr_fnv1a("foobarbaz", 6) == 0xbf9cf968u, "only len bytes");
	CHECK(addr_fnv1a("\xff", 1) == ((0x811c9dc5u ^ 0xffu) * 16777619u),
	    "bytes are unsigned");
}

static void
test_hex(void)
{
	static const char	digits[] = "0123456789abcdef";
	int			i, bad = 0;

	for (i = 0; i < 16; i++) {
		CHECK(addr_hex_value(digits[i]) == i, "hex %c", digits[i]);
		if (i >= 10)
			CHECK(addr_hex_value(digits[i] - 'a' + 'A') == i,
			    "hex %c", digits[i] - 'a' + 'A');
	}
	for (i = -1; i < 256; i++)
		if (strchr("0123456789abcdefABCDEF", i) == NULL || i == 0)
			bad += addr_hex_value(i) != -1;
	CHECK(bad == 0, "%d non-digits have a value", bad);
}

int
main(void)
{
	test_split_good();
	test_split_bad();
	test_format();
	test_ip_literal();
	test_sockaddr_text();
	test_hash();
	test_hex();
	return unit_done("test_addr");
}
