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
	format_is("example.com", 65535, 0, "example.com:65535");
	/* Cut anywhere: in the host, in "]", in the port, at the end. */
	CHECK(addr_format(buf, sizeof(buf), "::1", 443, 0) == 9 &&
	    strcmp(buf, "[::1]:4") == 0, "truncated v6: %s", buf);
	CHECK(addr_format(buf, 6, "::1", 443, 0) == 9 &&
	    strcmp(buf, "[::1]") == 0, "truncated at ]: %s", buf);
	CHECK(addr_format(buf, 1, "a", 1, 0) == 3 && buf[0] == '\0',
	    "size 1: \"%s\"", buf);
	CHECK(addr_format(NULL, 0, "a", 1, 0) == 3, "size 0");
	CHECK(addr_copy(buf, sizeof(buf), "abc") == 3 &&
	    strcmp(buf, "abc") == 0, "copy: %s", buf);
	CHECK(addr_copy(buf, sizeof(buf), "abcdefghij") == 10 &&
	    strcmp(buf, "abcdefg") == 0, "copy cut: %s", buf);
	CHECK(addr_copy(buf, 0, "abc") == 3, "copy size 0");
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

/* The address classifier on a table: each range with the addresses
 * just inside and just outside both of its ends. */
static const struct {
	const char	*addr;
	unsigned	 classes;
} class_table[] = {
	{ "0.0.0.0", ADDR_UNSPEC },
	{ "0.255.255.255", ADDR_UNSPEC },
	{ "1.0.0.0", 0 },
	{ "9.255.255.255", 0 },
	{ "10.0.0.0", ADDR_PRIVATE },
	{ "10.255.255.255", ADDR_PRIVATE },
	{ "11.0.0.0", 0 },
	{ "100.63.255.255", 0 },
	{ "100.64.0.0", ADDR_CGNAT },
	{ "100.127.255.255", ADDR_CGNAT },
	{ "100.128.0.0", 0 },
	{ "126.255.255.255", 0 },
	{ "127.0.0.0", ADDR_LOOPBACK },
	{ "127.0.0.1", ADDR_LOOPBACK },
	{ "127.255.255.255", ADDR_LOOPBACK },
	{ "128.0.0.0", 0 },
	{ "169.253.255.255", 0 },
	{ "169.254.0.0", ADDR_LINKLOCAL },
	{ "169.254.169.253", ADDR_LINKLOCAL },
	{ "169.254.169.254", ADDR_LINKLOCAL | ADDR_METADATA },
	{ "169.254.169.255", ADDR_LINKLOCAL },
	{ "169.254.255.255", ADDR_LINKLOCAL },
	{ "169.255.0.0", 0 },
	{ "172.15.255.255", 0 },
	{ "172.16.0.0", ADDR_PRIVATE },
	{ "172.31.255.255", ADDR_PRIVATE },
	{ "172.32.0.0", 0 },
	{ "192.167.255.255", 0 },
	{ "192.168.0.0", ADDR_PRIVATE },
	{ "192.168.255.255", ADDR_PRIVATE },
	{ "192.169.0.0", 0 },
	{ "223.255.255.255", 0 },
	{ "224.0.0.0", ADDR_MULTICAST },
	{ "239.255.255.255", ADDR_MULTICAST },
	{ "240.0.0.0", 0 },
	{ "255.255.255.254", 0 },
	{ "255.255.255.255", ADDR_BROADCAST },
	{ "8.8.8.8", 0 },
	{ "::", ADDR_UNSPEC },
	{ "::1", ADDR_LOOPBACK },
	{ "::2", 0 },			/* v4-compatible 0.0.0.2 */
	{ "::127.0.0.1", ADDR_LOOPBACK },
	{ "::169.254.169.254", ADDR_LINKLOCAL | ADDR_METADATA },
	{ "::ffff:0.0.0.0", ADDR_UNSPEC },
	{ "::ffff:127.0.0.1", ADDR_LOOPBACK },
	{ "::ffff:169.254.169.254", ADDR_LINKLOCAL | ADDR_METADATA },
	{ "::ffff:10.1.2.3", ADDR_PRIVATE },
	{ "::ffff:8.8.8.8", 0 },
	{ "::fffe:169.254.169.254", 0 },	/* not mapped, not compatible */
	{ "2001:db8::1", 0 },
	{ "2002:a9fe:a9fe::", ADDR_LINKLOCAL | ADDR_METADATA },	/* 6to4 */
	{ "2002:7f00:1::1", ADDR_LOOPBACK },
	{ "2002:808:808::", 0 },
	{ "2003:a9fe:a9fe::", 0 },
	{ "64:ff9b::169.254.169.254", ADDR_LINKLOCAL | ADDR_METADATA },
	{ "64:ff9b::a00:1", ADDR_PRIVATE },
	{ "64:ff9b::8.8.8.8", 0 },
	{ "64:ff9b:1::169.254.169.254", 0 },	/* not the /96 */
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
	{ "fc00::", ADDR_PRIVATE },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_PRIVATE },
	{ "fd00:ec2::254", ADDR_PRIVATE | ADDR_METADATA },
	{ "fd00:ec2::253", ADDR_PRIVATE },
	{ "fe00::", 0 },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
	{ "fe80::", ADDR_LINKLOCAL },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_LINKLOCAL },
	{ "fec0::", 0 },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
	{ "ff00::", ADDR_MULTICAST },
	{ "ff02::1", ADDR_MULTICAST },
};

static void
test_classify(void)
{
	uint8_t	a[16], v4[4];
	size_t	i;
	int	af;

	for (i = 0; i < sizeof(class_table) / sizeof(class_table[0]); i++) {
		af = addr_ip_literal(class_table[i].addr,
		    strlen(class_table[i].addr), a);
		CHECK(af != 0 && addr_classify(af, a) ==
		    class_table[i].classes, "classify %s: got %#x, want %#x",
		    class_table[i].addr, af ? addr_classify(af, a) : 0,
		    class_table[i].classes);
	}
	CHECK(addr_classify(AF_UNIX, a) == 0, "no classes for AF_UNIX");
	CHECK(addr_ip_literal("::ffff:1.2.3.4", 14, a) == AF_INET6 &&
	    addr_embedded_v4(a, v4) && v4[0] == 1 && v4[3] == 4,
	    "mapped address embeds its IPv4 one");
	CHECK(addr_ip_literal("2001:db8::1", 11, a) == AF_INET6 &&
	    !addr_embedded_v4(a, v4), "2001:db8::1 embeds none");
	CHECK(strcmp(addr_class_name(ADDR_LINKLOCAL), "link-local") == 0 &&
	    strcmp(addr_class_name(ADDR_CGNAT), "cgnat") == 0 &&
	    strcmp(addr_class_name(3), "?") == 0, "class names");
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
	test_classify();
	return unit_done("test_addr");
}
