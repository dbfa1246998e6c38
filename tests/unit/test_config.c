/*
 * test_config.c - the configuration loader and the CIDR and port matchers.
 *
 * Config files are written to /tmp, loaded with their messages captured,
 * and the messages compared whole, with the temporary path shown as "F".
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "match.h"
#include "unit.h"

/* Write text[0..len) to a new temporary file; returns its malloc'd name. */
static char *
write_temp(const char *text, size_t len)
{
	char	*path;
	int	 fd;

	if ((path = strdup("/tmp/test_config.XXXXXX")) == NULL)
		return NULL;
	if ((fd = mkstemp(path)) == -1) {
		free(path);
		return NULL;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

/* Replace every "old" in s (malloc'd) by "new"; returns the new string. */
static char *
replace_all(char *s, const char *old, const char *new)
{
	char	*out, *p;
	size_t	 oldlen = strlen(old), n = 0;
	FILE	*f;

	if ((f = open_memstream(&out, &n)) == NULL)
		return s;
	for (p = s; *p != '\0'; ) {
		if (strncmp(p, old, oldlen) == 0) {
			fputs(new, f);
			p += oldlen;
		} else
			fputc(*p++, f);
	}
	fclose(f);
	free(s);
	return out;
}

/*
 * Load path, returning the config and, in *msgs (malloc'd), everything
 * config_load() said, with path replaced by "F".
 */
static struct config *
load_path(const char *path, char **msgs)
{
	struct config	*c;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*errs;

	if ((errs = open_memstream(&buf, &len)) == NULL)
		return NULL;
	c = config_load(path, errs);
	fclose(errs);
	*msgs = replace_all(buf, path, "F");
	return c;
}

/* Load text[0..len) as a config file; see load_path(). */
static struct config *
load_bytes(const char *text, size_t len, char **msgs)
{
	struct config	*c;
	char		*path;

	*msgs = NULL;
	if ((path = write_temp(text, len)) == NULL) {
		CHECK(0, "cannot write a temporary file");
		return NULL;
	}
	c = load_path(path, msgs);
	unlink(path);
	free(path);
	return c;
}

static struct config *
load_text(const char *text, char **msgs)
{
	return load_bytes(text, strlen(text), msgs);
}

/* text must load without a word; the caller unrefs the result. */
static struct config *
load_ok(const char *name, const char *text)
{
	struct config	*c;
	char		*msgs;

	c = load_text(text, &msgs);
	CHECK(c != NULL, "%s: not loaded", name);
	CHECK(msgs != NULL && msgs[0] == '\0', "%s: unexpected errors:\n%s",
	    name, msgs != NULL ? msgs : "");
	free(msgs);
	return c;
}

/* text must fail to load, saying exactly want. */
static void
load_bad(const char *name, const char *text, const char *want)
{
	struct config	*c;
	char		*msgs;

	c = load_text(text, &msgs);
	CHECK(c == NULL, "%s: loaded anyway", name);
	CHECK(msgs != NULL && strcmp(msgs, want) == 0,
	    "%s: errors differ\n--- got:\n%s--- want:\n%s", name,
	    msgs != NULL ? msgs : "(none)\n", want);
	free(msgs);
	config_unref(c);
}

static struct sockaddr_storage
sa_from(const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	return ss;
}

/* Does CIDR text c match address text a? -1 if c does not parse. */
static int
matches(const char *c, const char *a)
{
	struct cidr		cidr;
	struct sockaddr_storage	ss = sa_from(a);

	if (cidr_parse(c, strlen(c), &cidr) == -1)
		return -1;
	return cidr_match(&cidr, (struct sockaddr *)&ss);
}

static void
test_cidr_parse(void)
{
	static const char *bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x",
		"10.0.0.0/+8", "10.0.0.0/-1", "1.2.3", "1.2.3.4.5", "abc",
		"256.0.0.0", "10.0.0.0 /8", " 10.0.0.0", "fe80::1%eth0",
		"10.0.0.0/8/8", "[::1]", "::1/", "1:2:3:4:5:6:7:8:9",
	};
	struct cidr	c;
	size_t		i;

	CHECK(cidr_parse("10.1.2.3/8", 10, &c) == 0 && c.family == AF_INET &&
	    c.prefix == 8 && c.addr[0] == 10 && c.addr[1] == 0 &&
	    c.addr[3] == 0, "10.1.2.3/8: host bits cleared");
	CHECK(cidr_parse("1.2.3.4", 7, &c) == 0 && c.prefix == 32 &&
	    c.addr[3] == 4, "bare IPv4 is a /32");
	CHECK(cidr_parse("::1", 3, &c) == 0 && c.family == AF_INET6 &&
	    c.prefix == 128 && c.addr[15] == 1, "bare IPv6 is a /128");
	CHECK(cidr_parse("2001:db8:ffff::/33", 18, &c) == 0 &&
	    c.prefix == 33 && c.addr[4] == 0x80 && c.addr[5] == 0,
	    "2001:db8:ffff::/33: bits past 33 cleared");
	CHECK(cidr_parse("0.0.0.0/0", 9, &c) == 0 && c.prefix == 0,
	    "0.0.0.0/0");
	CHECK(cidr_parse("::ffff:10.9.0.0/104", 19, &c) == 0 &&
	    c.family == AF_INET && c.prefix == 8 && c.addr[0] == 10 &&
	    c.addr[1] == 0, "IPv4-mapped CIDR becomes IPv4");
	CHECK(cidr_parse("::ffff:0:0/95", 13, &c) == 0 &&
	    c.family == AF_INET6 && c.prefix == 95,
	    "a /95 around the mapped range stays IPv6");
	CHECK(cidr_parse("10.0.0.0/8xyz", 10, &c) == 0 && c.prefix == 8,
	    "only len bytes are read");
	CHECK(cidr_parse("1.2.3.4\0/8", 10, &c) == -1, "embedded NUL");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(cidr_parse(bad[i], strlen(bad[i]), &c) == -1,
		    "cidr_parse(\"%s\") accepted", bad[i]);
}

static void
test_cidr_match(void)
{
	struct cidr		cs[2];
	struct sockaddr_storage	ss;
	struct sockaddr_un {
		sa_family_t	family;
	}			un = { AF_UNIX };

	CHECK(matches("10.0.0.0/8", "10.255.1.2") == 1, "v4 in");
	CHECK(matches("10.0.0.0/8", "11.0.0.0") == 0, "v4 out");
	CHECK(matches("172.16.0.0/12", "172.31.255.255") == 1, "/12 top");
	CHECK(matches("172.16.0.0/12", "172.32.0.0") == 0, "/12 past top");
	CHECK(matches("192.168.1.2/31", "192.168.1.3") == 1, "/31 pair");
	CHECK(matches("192.168.1.2/31", "192.168.1.4") == 0, "/31 out");
	CHECK(matches("1.2.3.4", "1.2.3.4") == 1, "host");
	CHECK(matches("1.2.3.4", "1.2.3.5") == 0, "host, other");
	CHECK(matches("0.0.0.0/0", "255.255.255.255") == 1, "v4 /0");
	CHECK(matches("0.0.0.0/0", "::1") == 0, "v4 /0 vs v6");
	CHECK(matches("::/0", "1.2.3.4") == 0, "v6 /0 vs v4");
	CHECK(matches("2001:db8::/32", "2001:db8:1::1") == 1, "v6 in");
	CHECK(matches("2001:db8::/32", "2001:db9::1") == 0, "v6 out");
	CHECK(matches("::1", "::1") == 1, "::1");
	CHECK(matches("::1", "::2") == 0, "::1 vs ::2");
	CHECK(matches("127.0.0.0/8", "::ffff:127.0.0.1") == 1,
	    "mapped client vs v4 CIDR");
	CHECK(matches("127.0.0.0/8", "::ffff:128.0.0.1") == 0,
	    "mapped client outside v4 CIDR");
	CHECK(matches("::ffff:127.0.0.0/104", "127.1.1.1") == 1,
	    "v4 client vs mapped CIDR");
	CHECK(matches("::ffff:127.0.0.0/104", "::ffff:127.1.1.1") == 1,
	    "mapped client vs mapped CIDR");
	CHECK(matches("::/0", "::ffff:1.2.3.4") == 0,
	    "mapped client is IPv4, not IPv6");

	cidr_parse("10.0.0.0/8", 10, &cs[0]);
	cidr_parse("::1", 3, &cs[1]);
	ss = sa_from("::1");
	CHECK(cidr_match_any(cs, 2, (struct sockaddr *)&ss), "any: ::1");
	ss = sa_from("10.1.1.1");
	CHECK(cidr_match_any(cs, 2, (struct sockaddr *)&ss), "any: 10/8");
	ss = sa_from("11.1.1.1");
	CHECK(!cidr_match_any(cs, 2, (struct sockaddr *)&ss), "any: none");
	CHECK(!cidr_match_any(cs, 0, (struct sockaddr *)&ss), "any: empty");
	CHECK(!cidr_match(&cs[0], (struct sockaddr *)(void *)&un),
	    "AF_UNIX never matches");
	CHECK(!cidr_match(&cs[0], NULL), "NULL never matches");
}

static void
test_ports(void)
{
	static const char *bad[] = {
		"", "0", "65536", "0-10", "10-5", "-5", "5-", "-", "a", "4a",
		" 443", "443 ", "1 - 2", "1-2-3", "+443", "99999999999999999999",
	};
	struct port_range	r, rs[2];
	size_t			i;

	CHECK(port_range_parse("443", 3, &r) == 0 && r.lo == 443 &&
	    r.hi == 443, "443");
	CHECK(port_range_parse("1024-65535", 10, &r) == 0 && r.lo == 1024 &&
	    r.hi == 65535, "1024-65535");
	CHECK(port_range_parse("1-1", 3, &r) == 0 && r.lo == 1 && r.hi == 1,
	    "1-1");
	CHECK(port_range_parse("80,443", 2, &r) == 0 && r.lo == 80,
	    "only len bytes are read");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(port_range_parse(bad[i], strlen(bad[i]), &r) == -1,
		    "port_range_parse(\"%s\") accepted", bad[i]);

	port_range_parse("443", 3, &rs[0]);
	port_range_parse("8000-8080", 9, &rs[1]);
	CHECK(port_range_match_any(rs, 2, 443), "443 allowed");
	CHECK(port_range_match_any(rs, 2, 8000), "8000 allowed");
	CHECK(port_range_match_any(rs, 2, 8080), "8080 allowed");
	CHECK(!port_range_match_any(rs, 2, 8081), "8081 refused");
	CHECK(!port_range_match_any(rs, 2, 80), "80 refused");
	CHECK(!port_range_match_any(rs, 0, 443), "empty list refuses");
}

static void
test_duration(void)
{
	static const struct {
		const char	*s;
		int		 ms;
	} good[] = {
		{ "10s", 10000 }, { "500ms", 500 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "7", 7000 }, { "0", 0 }, { "1ms", 1 },
		{ "596h", 596 * 3600000 }, { "2147483647ms", INT_MAX },
		{ "2147483s", 2147483000 }, { "007s", 7000 },
	};
	static const char *bad[] = {
		"", "s", "ms", "10x", "10S", "-1s", "+1s", "10 s", " 10s",
		"10s ", "1.5s", "597h", "2147483648ms", "2147484", "1d",
		"10sm", "99999999999999999999999s",
	};
	size_t	i;
	int	ms;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		CHECK(config_parse_duration(good[i].s, &ms) == 0 &&
		    ms == good[i].ms, "duration \"%s\" gave %d", good[i].s, ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(config_parse_duration(bad[i], &ms) == -1,
		    "duration \"%s\" accepted", bad[i]);
}

static void
test_size(void)
{
	static const struct {
		const char	*s;
		size_t		 n;
	} good[] = {
		{ "512", 512 }, { "8k", 8192 }, { "8K", 8192 },
		{ "1m", 1048576 }, { "1M", 1048576 }, { "1g", 1073741824 },
		{ "2G", 2147483648u }, { "0", 0 }, { "0k", 0 },
	};
	static const char *bad[] = {
		"", "k", "8kb", "8 k", "-1", "+1", "1.5k", "1t", " 1",
		"17179869184g", "99999999999999999999999",
	};
	size_t	i, n;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = 1;
		CHECK(config_parse_size(good[i].s, &n) == 0 && n == good[i].n,
		    "size \"%s\" gave %zu", good[i].s, n);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(config_parse_size(bad[i], &n) == -1,
		    "size \"%s\" accepted", bad[i]);
}

static int
online_cpus(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

/* Is c the built-in default configuration? */
static void
check_defaults(const char *name, const struct config *c)
{
	const struct sockaddr_in	*sin;
	struct sockaddr_storage		 ss;

	sin = (const struct sockaddr_in *)&c->listen[0].ss;
	CHECK(c->refcnt == 1, "%s: refcnt %d", name, c->refcnt);
	CHECK(c->nlisten == 1 && sin->sin_family == AF_INET &&
	    ntohs(sin->sin_port) == 3128 &&
	    ntohl(sin->sin_addr.s_addr) == 0x7f000001 &&
	    c->listen[0].len == sizeof(*sin) &&
	    strcmp(c->listen[0].text, "127.0.0.1:3128") == 0,
	    "%s: listen", name);
	CHECK(c->nallow == 2 && c->allow[0].family == AF_INET &&
	    c->allow[0].prefix == 8 && c->allow[0].addr[0] == 127 &&
	    c->allow[1].family == AF_INET6 && c->allow[1].prefix == 128,
	    "%s: allow", name);
	ss = sa_from("127.9.9.9");
	CHECK(cidr_match_any(c->allow, c->nallow, (struct sockaddr *)&ss),
	    "%s: 127.9.9.9 allowed", name);
	CHECK(c->nconnect_ports == 1 && c->connect_ports[0].lo == 443 &&
	    c->connect_ports[0].hi == 443, "%s: connect_ports", name);
	CHECK(c->workers == online_cpus(), "%s: workers %d", name,
	    c->workers);
	CHECK(c->max_clients == 4096, "%s: max_clients", name);
	CHECK(c->header_timeout == 10000 && c->keepalive_timeout == 60000 &&
	    c->connect_timeout == 10000 && c->response_timeout == 60000 &&
	    c->idle_timeout == 60000 && c->tunnel_idle_timeout == 600000 &&
	    c->shutdown_timeout == 10000, "%s: timeouts", name);
	CHECK(c->max_request_line == 8192 && c->max_header_size == 32768 &&
	    c->max_headers == 100 && c->max_body_size == 0,
	    "%s: sizes", name);
	CHECK(c->access_log == NULL && c->error_log == NULL &&
	    c->user == NULL, "%s: logs and user", name);
	CHECK(c->resolv_conf != NULL &&
	    strcmp(c->resolv_conf, "/etc/resolv.conf") == 0 &&
	    c->hosts_file != NULL && strcmp(c->hosts_file, "/etc/hosts") == 0,
	    "%s: resolver files", name);
}

static void
test_defaults(void)
{
	struct config	*c;

	if ((c = config_default()) == NULL) {
		CHECK(0, "config_default() failed");
		return;
	}
	CHECK(c->path == NULL, "defaults have no path");
	check_defaults("config_default", c);
	CHECK(config_ref(c) == c && c->refcnt == 2, "ref");
	config_unref(c);
	CHECK(c->refcnt == 1, "unref");
	config_unref(c);
	config_unref(NULL);
	CHECK(config_ref(NULL) == NULL, "ref NULL");

	c = load_ok("empty file", "");
	if (c != NULL) {
		CHECK(c->path != NULL && strncmp(c->path, "/tmp/", 5) == 0,
		    "path kept");
		check_defaults("empty file", c);
	}
	config_unref(c);
	c = load_ok("empty section", "[proxyd]\n");
	if (c != NULL)
		check_defaults("empty section", c);
	config_unref(c);
}

/* rules/default.conf, found from this file's own path, is the defaults. */
static void
test_shipped_default(void)
{
	const char	*me = __FILE__, *tail = "tests/unit/test_config.c";
	struct config	*c;
	char		 path[PATH_MAX], *msgs = NULL;
	size_t		 dirlen = strlen(me) - strlen(tail);

	if (strlen(me) < strlen(tail) || strcmp(me + dirlen, tail) != 0)
		dirlen = 0;
	snprintf(path, sizeof(path), "%.*srules/default.conf", (int)dirlen,
	    me);
	if (access(path, R_OK) == -1) {
		fprintf(stderr, "SKIP %s: not found\n", path);
		return;
	}
	c = load_path(path, &msgs);
	CHECK(c != NULL && msgs != NULL && msgs[0] == '\0',
	    "%s: errors:\n%s", path, msgs != NULL ? msgs : "");
	if (c != NULL)
		check_defaults(path, c);
	free(msgs);
	config_unref(c);
}

static void
test_full(void)
{
	struct config			*c;
	const struct sockaddr_in6	*sin6;
	struct sockaddr_storage		 ss;

	c = load_ok("every key",
	    "; a comment\n"
	    "# another\n"
	    "[proxyd]\n"
	    "listen = 0.0.0.0:8080, [::]:8080,[::1]:1\n"
	    "allow = 10.0.0.0/8 ,192.168.1.1, 2001:db8::/32\n"
	    "connect_ports = 443, 8443, 1024-65535\n"
	    "workers = 256\n"
	    "max_clients = 1000000\n"
	    "header_timeout = 500ms\n"
	    "keepalive_timeout = 2m\n"
	    "connect_timeout = 1h\n"
	    "response_timeout = 30\n"
	    "idle_timeout = 1ms\n"
	    "tunnel_idle_timeout = 596h\n"
	    "shutdown_timeout = 3s\n"
	    "max_request_line = 512\n"
	    "max_header_size = 1m\n"
	    "max_headers = 10000\n"
	    "max_body_size = 1g\n"
	    "access_log = -\n"
	    "error_log = /var/log/proxyd/error.log\n"
	    "user = proxy\n"
	    "resolv_conf = /tmp/resolv.conf\n"
	    "hosts_file = /tmp/hosts\n");
	if (c == NULL)
		return;
	sin6 = (const struct sockaddr_in6 *)&c->listen[2].ss;
	CHECK(c->nlisten == 3 && c->listen[1].ss.ss_family == AF_INET6 &&
	    c->listen[1].len == sizeof(*sin6) && ntohs(sin6->sin6_port) == 1 &&
	    sin6->sin6_addr.s6_addr[15] == 1 &&
	    strcmp(c->listen[1].text, "[::]:8080") == 0 &&
	    strcmp(c->listen[2].text, "[::1]:1") == 0, "listen list");
	CHECK(c->nallow == 3 && c->allow[1].prefix == 32 &&
	    c->allow[2].prefix == 32 && c->allow[2].family == AF_INET6,
	    "allow list");
	ss = sa_from("::ffff:10.1.2.3");
	CHECK(cidr_match_any(c->allow, c->nallow, (struct sockaddr *)&ss),
	    "mapped client allowed");
	ss = sa_from("127.0.0.1");
	CHECK(!cidr_match_any(c->allow, c->nallow, (struct sockaddr *)&ss),
	    "allow replaced the default");
	CHECK(c->nconnect_ports == 3 && c->connect_ports[1].lo == 8443 &&
	    c->connect_ports[2].lo == 1024 && c->connect_ports[2].hi == 65535,
	    "connect_ports list");
	CHECK(c->workers == 256 && c->max_clients == 1000000, "counts");
	CHECK(c->header_timeout == 500 && c->keepalive_timeout == 120000 &&
	    c->connect_timeout == 3600000 && c->response_timeout == 30000 &&
	    c->idle_timeout == 1 && c->tunnel_idle_timeout == 2145600000 &&
	    c->shutdown_timeout == 3000, "timeouts");
	CHECK(c->max_request_line == 512 && c->max_header_size == 1048576 &&
	    c->max_headers == 10000 && c->max_body_size == 1073741824,
	    "sizes");
	CHECK(strcmp(c->access_log, "-") == 0 &&
	    strcmp(c->error_log, "/var/log/proxyd/error.log") == 0 &&
	    strcmp(c->user, "proxy") == 0 &&
	    strcmp(c->resolv_conf, "/tmp/resolv.conf") == 0 &&
	    strcmp(c->hosts_file, "/tmp/hosts") == 0, "strings");
	config_unref(c);
}

static void
test_syntax_ok(void)
{
	struct config	*c;

	c = load_ok("comments, colon, CRLF, BOM, spacing",
	    "\xef\xbb\xbf[proxyd] ; the section\r\n"
	    "workers = 3 ; inline\r\n"
	    "max_clients=7\r\n");
	if (c != NULL)
		CHECK(c->workers == 3 && c->max_clients == 7, "CRLF values");
	config_unref(c);
	load_bad("'#' inside a value is no comment",
	    "[proxyd]\nmax_clients = 7# not a comment\n",
	    "F:2: max_clients: expected a number from 1 to 1000000, "
	    "got \"7# not a comment\"\n");

	c = load_ok("inline comments",
	    "\t[ proxyd ]\t# spaced header\n"
	    "  # indented comment\n"
	    "workers: 3 # colon separator\n"
	    "  ; indented comment after a key\n"
	    "access_log = /var/log/a;b#c   ; only the last is a comment\n"
	    "error_log = /off\n"
	    "\n"
	    "   \n"
	    "[proxyd]\n"
	    "  max_clients = 9\n");
	if (c != NULL) {
		CHECK(c->workers == 3 && c->max_clients == 9, "values");
		CHECK(strcmp(c->access_log, "/var/log/a;b#c") == 0,
		    "';' and '#' inside a value kept: %s", c->access_log);
		CHECK(strcmp(c->error_log, "/off") == 0, "error_log");
	}
	config_unref(c);

	c = load_ok("continuation lines",
	    "[proxyd]\n"
	    "allow = 10.0.0.0/8,\n"
	    "\t192.168.0.0/16, 172.16.0.0/12\n"
	    "  # a comment between\n"
	    "\n"
	    "    ::1\n"
	    "connect_ports =\n"
	    "  443\n"
	    "listen = 127.0.0.1:1 , ,\n"
	    "  127.0.0.1:2\n");
	if (c != NULL) {
		CHECK(c->nallow == 4 && c->allow[3].family == AF_INET6,
		    "allow over 4 lines: %zu", c->nallow);
		CHECK(c->nconnect_ports == 1, "connect_ports on the next line");
		CHECK(c->nlisten == 2, "listen with empty items");
	}
	config_unref(c);

	c = load_ok("empty lists", "[proxyd]\nallow =\nconnect_ports = ,\n");
	if (c != NULL)
		CHECK(c->nallow == 0 && c->nconnect_ports == 0,
		    "empty allow and connect_ports");
	config_unref(c);

	c = load_ok("16 listeners",
	    "[proxyd]\nlisten = 127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, "
	    "127.0.0.1:4, 127.0.0.1:5, 127.0.0.1:6, 127.0.0.1:7,\n"
	    "  127.0.0.1:8, 127.0.0.1:9, 127.0.0.1:10, 127.0.0.1:11, "
	    "127.0.0.1:12, 127.0.0.1:13, 127.0.0.1:14,\n"
	    "  127.0.0.1:15, [::1]:16\n");
	if (c != NULL)
		CHECK(c->nlisten == CONFIG_MAX_LISTEN, "16 listeners");
	config_unref(c);
}

static void
test_value_errors(void)
{
	load_bad("connect_ports",
	    "[proxyd]\n\n\n\n\n\nconnect_ports = 443, abc, 0, 70000, 9-8\n",
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"abc\"\n"
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"0\"\n"
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"70000\"\n"
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"9-8\"\n");
	load_bad("allow",
	    "[proxyd]\nallow = 10.0.0.0/33, localhost, ::1\n",
	    "F:2: allow: expected an address or CIDR like 10.0.0.0/8 or ::1, "
	    "got \"10.0.0.0/33\"\n"
	    "F:2: allow: expected an address or CIDR like 10.0.0.0/8 or ::1, "
	    "got \"localhost\"\n");
	load_bad("listen",
	    "[proxyd]\nlisten = 127.0.0.1, ::1:80, [::1]:0, localhost:80, "
	    "[::1]:80, 1.2.3.4:65536, [1.2.3.4]:80, 127.0.0.1:80\n",
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, got \"127.0.0.1\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, got \"::1:80\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, got \"[::1]:0\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, got \"localhost:80\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, got \"1.2.3.4:65536\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, got \"[1.2.3.4]:80\"\n");
	load_bad("listen twice",
	    "[proxyd]\nlisten = [::1]:80, [0::1]:80\n",
	    "F:2: listen: [0::1]:80 is listed twice\n");
	load_bad("listen empty", "[proxyd]\nlisten = ,\n",
	    "F:2: listen: expected at least one address and port\n");
	load_bad("17 listeners",
	    "[proxyd]\nlisten = 127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, "
	    "127.0.0.1:4, 127.0.0.1:5, 127.0.0.1:6, 127.0.0.1:7,\n"
	    "  127.0.0.1:8, 127.0.0.1:9, 127.0.0.1:10, 127.0.0.1:11, "
	    "127.0.0.1:12, 127.0.0.1:13, 127.0.0.1:14,\n"
	    "  127.0.0.1:15, 127.0.0.1:16, 127.0.0.1:17\n",
	    "F:4: listen: more than 16 addresses\n");
}

static void
test_scalar_errors(void)
{
	load_bad("numbers",
	    "[proxyd]\n"
	    "workers = 0\n"
	    "max_clients = 1000001\n"
	    "max_headers = 1k\n"
	    "header_timeout = 0s\n"
	    "keepalive_timeout = 597h\n"
	    "connect_timeout = 10 s\n"
	    "max_body_size = 1t\n"
	    "max_request_line = 0\n"
	    "user =\n"
	    "access_log =\n"
	    "error_log = off\n"
	    "resolv_conf = resolv.conf\n"
	    "hosts_file = ./hosts\n",
	    "F:2: workers: expected a number from 1 to 256, got \"0\"\n"
	    "F:3: max_clients: expected a number from 1 to 1000000, "
	    "got \"1000001\"\n"
	    "F:4: max_headers: expected a number from 1 to 10000, "
	    "got \"1k\"\n"
	    "F:5: header_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"0s\"\n"
	    "F:6: keepalive_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"597h\"\n"
	    "F:7: connect_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"10 s\"\n"
	    "F:8: max_body_size: expected a size like 512, 8k, 1m or 1g "
	    "(0 for unlimited), got \"1t\"\n"
	    "F:9: max_request_line: expected a size like 512, 8k, 1m or 1g, "
	    "at least 1, got \"0\"\n"
	    "F:10: user: expected a user name, got \"\"\n"
	    "F:11: access_log: expected an absolute path, - for stdout, "
	    "or off, got \"\"\n"
	    "F:12: error_log: expected an absolute path or stderr, "
	    "got \"off\"\n"
	    "F:13: resolv_conf: expected an absolute path, "
	    "got \"resolv.conf\"\n"
	    "F:14: hosts_file: expected an absolute path, got \"./hosts\"\n");
	load_bad("request line vs header size",
	    "[proxyd]\nmax_request_line = 32k\n",
	    "F:2: max_request_line (32768) must be smaller than "
	    "max_header_size (32768)\n");
	load_bad("header size vs request line",
	    "[proxyd]\nmax_request_line = 4k\n\nmax_header_size = 4095\n",
	    "F:4: max_request_line (4096) must be smaller than "
	    "max_header_size (4095)\n");
}

static void
test_structure_errors(void)
{
	load_bad("outside, unknown, duplicate",
	    "listen = 127.0.0.1:1\n"
	    "[proxyd]\n"
	    "listen = 127.0.0.1:2\n"
	    "lisen = 127.0.0.1:3\n"
	    "listen = 127.0.0.1:4\n"
	    "[proxyd]\n"
	    "listen = 127.0.0.1:5\n",
	    "F:1: key \"listen\" is outside any section; put it under "
	    "[proxyd]\n"
	    "F:4: unknown key \"lisen\"\n"
	    "F:5: duplicate key \"listen\" (first set at line 3)\n"
	    "F:7: duplicate key \"listen\" (first set at line 3)\n");
	load_bad("sections",
	    "[route foo]\n"
	    "match = whatever\n"
	    "[route]\n"
	    "[routes]\n"
	    "x = 1\n"
	    "[]\n"
	    "[proxyd\n"
	    "workers = 2\n"
	    "[proxyd] trailing\n"
	    "workers = 3\n",
	    "F:1: [route ...] sections are not supported yet\n"
	    "F:3: [route ...] sections are not supported yet\n"
	    "F:4: unknown section [routes]\n"
	    "F:6: unknown section []\n"
	    "F:7: syntax error: missing \"]\"\n"
	    "F:9: syntax error: text after \"]\"\n");
	load_bad("syntax errors",
	    "[proxyd]\n"
	    "workers\n"
	    "workers = 2\n"
	    "just some words\n",
	    "F:2: syntax error: expected key = value\n"
	    "F:4: syntax error: expected key = value\n");
	load_bad("continuations",
	    "[proxyd]\n"
	    "workers = 2\n"
	    "  3\n"
	    "allow = ::1\n"
	    "  max_clients = 5\n"
	    "  [route x]\n"
	    "  nonsense\n"
	    "lisen = 1\n"
	    "  ignored with the key\n"
	    "[other]\n"
	    "k = v\n"
	    "  ignored with the section\n",
	    "F:3: indented line continues \"workers\", which takes a single "
	    "value\n"
	    "F:5: indented line continues \"allow\"; remove the indentation "
	    "if it starts a new key or section\n"
	    "F:6: indented line continues \"allow\"; remove the indentation "
	    "if it starts a new key or section\n"
	    "F:7: allow: expected an address or CIDR like 10.0.0.0/8 or ::1, "
	    "got \"nonsense\"\n"
	    "F:8: unknown key \"lisen\"\n"
	    "F:10: unknown section [other]\n");
}

static void
test_line_errors(void)
{
	struct config	*c;
	static const char nul[] = "[proxyd]\nuser = a\0b\nworkers = x\n";
	char		 text[1200], *msgs;

	/* 198 characters, 200 and a long comment, which does not count. */
	snprintf(text, sizeof(text), "[proxyd]\nuser = %0191d\n"
	    "resolv_conf = %0186d\nhosts_file = /h ; %0300d\n"
	    "workers = 2\nworkers = 3\n", 0, 0, 0);
	load_bad("long lines", text,
	    "F:3: line is longer than 198 characters\n"
	    "F:6: duplicate key \"workers\" (first set at line 5)\n");
	snprintf(text, sizeof(text), "[proxyd]\nuser = %0191d\n"
	    "hosts_file = /h ; %0300d\n", 0, 0);
	c = load_ok("198 characters and a long comment", text);
	if (c != NULL)
		CHECK(strlen(c->user) == 191 &&
		    strcmp(c->hosts_file, "/h") == 0, "long values kept");
	config_unref(c);

	c = load_bytes(nul, sizeof(nul) - 1, &msgs);
	CHECK(c == NULL && msgs != NULL && strcmp(msgs,
	    "F:2: line contains a NUL byte\n"
	    "F:3: workers: expected a number from 1 to 256, got \"x\"\n") == 0,
	    "NUL byte: %s", msgs != NULL ? msgs : "");
	free(msgs);
}

static void
test_files(void)
{
	struct config	*c;
	char		*msgs = NULL;

	c = load_path("/nonexistent/proxyd.conf", &msgs);
	CHECK(c == NULL && msgs != NULL && strcmp(msgs,
	    "F: cannot open: No such file or directory\n") == 0,
	    "missing file: %s", msgs != NULL ? msgs : "");
	free(msgs);
	c = load_path("/tmp", &msgs);
	CHECK(c == NULL && msgs != NULL && strcmp(msgs,
	    "F: read error: Is a directory\n") == 0,
	    "directory: %s", msgs != NULL ? msgs : "");
	free(msgs);
	c = load_path("/dev/null", &msgs);
	CHECK(c != NULL && msgs != NULL && msgs[0] == '\0', "/dev/null");
	free(msgs);
	config_unref(c);
	c = config_load("/nonexistent", NULL);
	CHECK(c == NULL, "errs may be NULL");
}

int
main(void)
{
	test_cidr_parse();
	test_cidr_match();
	test_ports();
	test_duration();
	test_size();
	test_defaults();
	test_shipped_default();
	test_full();
	test_syntax_ok();
	test_value_errors();
	test_scalar_errors();
	test_structure_errors();
	test_line_errors();
	test_files();
	return unit_done("config");
}
