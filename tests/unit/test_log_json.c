/*
 * test_log_json.c - the JSON access line (log_json.c): field names and
 * types, escaping of what clients send (control bytes, quotes,
 * backslashes, invalid UTF-8), and cut strings that stay valid JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "log_json.h"
#include "unit.h"

/* s as a JSON string with a budget of max bytes. */
static const char *
esc(const char *s, size_t max)
{
	static char	buf[256];
	size_t		len = 0;

	if (json_append_string(buf, &len, sizeof(buf) - 1, s, max) == -1)
		return "(no room)";
	buf[len] = '\0';
	return buf;
}

static void
esc_is(const char *s, const char *want)
{
	const char *got = esc(s, 200);

	CHECK(strcmp(got, want) == 0, "escape: got %s, want %s", got, want);
}

static void
test_escape(void)
{
	esc_is("plain/path?q=1", "\"plain/path?q=1\"");
	esc_is("a\"b\\c", "\"a\\\"b\\\\c\"");
	esc_is("\t\r\n\x01\x1f\x7f", "\"\\t\\r\\n\\u0001\\u001f\\u007f\"");
	esc_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	esc_is("\xff\xfe", "\"\\ufffd\\ufffd\"");
	esc_is("\xc3", "\"\\ufffd\"");			/* cut sequence */
	esc_is("\xc0\xaf", "\"\\ufffd\\ufffd\"");	/* overlong '/' */
	esc_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	esc_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CHECK(strcmp(esc("abcdefghij", 6), "\"abc...\"") == 0,
	    "a cut string ends in ...: %s", esc("abcdefghij", 6));
	CHECK(strcmp(esc("ab\x01\x02", 9), "\"ab...\"") == 0,
	    "an escape is never split: %s", esc("ab\x01\x02", 9));
}

static void
test_line(void)
{
	struct access_entry	e;
	static char		line[LOG_JSON_LINE_MAX];
	char			*big;
	size_t			n;

	memset(&e, 0, sizeof(e));
	e.client = "127.0.0.1:4000";
	e.method = "GET";
	e.target = "/github.com/a/b/@v/v1.0.0.zip";
	e.status = 200;
	e.bytes_in = 10;
	e.bytes_out = 20;
	e.ms = 3;
	e.upstream = "127.0.0.1:8080";
	e.route = "go";
	e.via = "mirror http://m/";
	e.module = "module=github.com/a/b version=v1.0.0 kind=zip";
	e.tried = "http://m/ 200";
	n = log_json_line(line, sizeof(line), &e, "2026-12-07T10:00:00.000Z");
	CHECK(n == strlen(line) && strcmp(line,
	    "{\"time\":\"2026-12-07T10:00:00.000Z\",\"client\":\"127.0.0.1:4000\","
	    "\"method\":\"GET\",\"target\":\"/github.com/a/b/@v/v1.0.0.zip\","
	    "\"status\":200,\"bytes_in\":10,\"bytes_out\":20,\"duration_ms\":3,"
	    "\"upstream\":\"127.0.0.1:8080\",\"route\":\"go\","
	    "\"via\":\"mirror http://m/\",\"module\":\"github.com/a/b\","
	    "\"version\":\"v1.0.0\",\"kind\":\"zip\","
	    "\"mirrors\":\"http://m/ 200\"}\n") == 0, "module line: %s", line);

	memset(&e, 0, sizeof(e));
	e.client = "127.0.0.1:4000";
	e.method = "GET";
	e.status = 400;
	e.upstream = "-";
	e.note = "bad \"target\"";
	n = log_json_line(line, sizeof(line), &e, "T");
	CHECK(strcmp(line, "{\"time\":\"T\",\"client\":\"127.0.0.1:4000\","
	    "\"method\":\"GET\",\"target\":null,\"status\":400,\"bytes_in\":0,"
	    "\"bytes_out\":0,\"duration_ms\":0,\"upstream\":null,"
	    "\"route\":null,\"via\":null,\"note\":\"bad \\\"target\\\"\"}\n")
	    == 0, "absent fields are null: %s", line);

	/* A huge target of control bytes is cut, the line stays whole. */
	big = malloc(100000);
	memset(big, 1, 99999);
	big[99999] = '\0';
	e.target = big;
	e.note = big;
	n = log_json_line(line, sizeof(line), &e, "T");
	CHECK(n < sizeof(line) && line[n - 1] == '\n' && line[n - 2] == '}',
	    "a line of hostile strings still ends the object (%zu bytes)", n);
	free(big);
}

int
main(void)
{
	test_escape();
	test_line();
	return unit_done("log_json");
}
