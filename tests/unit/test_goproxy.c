/*
 * test_goproxy.c - GOPROXY request paths, module paths and versions.
 *
 * The first tables are Go's own: golang.org/x/mod module_test.go
 * (checkPathTests, escapeTests, badUnescape, escapeVersionTests,
 * splitPathVersionTests), semver_test.go (tests) and sumdb/tlog
 * tlog_test.go (tilePaths), so that a difference from Go shows up here
 * first.  The parser cases after them cover every endpoint.
 */
#include <stdio.h>
#include <string.h>

#include "goproxy.h"
#include "unit.h"

/* x/mod module_test.go checkPathTests: path and CheckPath's ok. */
static const struct {
	const char	*path;
	int		 ok;
} check_path_tests[] = {
	{ "x.y/z", 1 },
	{ "x.y", 1 },

	{ "", 0 },
	{ "x.y/\xFFz", 0 },
	{ "/x.y/z", 0 },
	{ "x./z", 0 },
	{ ".x/z", 0 },
	{ "-x/z", 0 },
	{ "x..y/z", 1 },
	{ "x.y/z/../../w", 0 },
	{ "x.y//z", 0 },
	{ "x.y/z//w", 0 },
	{ "x.y/z/", 0 },

	{ "x.y/z/v0", 0 },
	{ "x.y/z/v1", 0 },
	{ "x.y/z/v2", 1 },
	{ "x.y/z/v2.0", 0 },
	{ "X.y/z", 0 },

	{ "!x.y/z", 0 },
	{ "_x.y/z", 0 },
	{ "x.y!/z", 0 },
	{ "x.y\"/z", 0 },
	{ "x.y#/z", 0 },
	{ "x.y$/z", 0 },
	{ "x.y%/z", 0 },
	{ "x.y&/z", 0 },
	{ "x.y'/z", 0 },
	{ "x.y(/z", 0 },
	{ "x.y)/z", 0 },
	{ "x.y*/z", 0 },
	{ "x.y+/z", 0 },
	{ "x.y,/z", 0 },
	{ "x.y-/z", 1 },
	{ "x.y./zt", 0 },
	{ "x.y:/z", 0 },
	{ "x.y;/z", 0 },
	{ "x.y</z", 0 },
	{ "x.y=/z", 0 },
	{ "x.y>/z", 0 },
	{ "x.y?/z", 0 },
	{ "x.y@/z", 0 },
	{ "x.y[/z", 0 },
	{ "x.y\\/z", 0 },
	{ "x.y]/z", 0 },
	{ "x.y^/z", 0 },
	{ "x.y_/z", 0 },
	{ "x.y`/z", 0 },
	{ "x.y{/z", 0 },
	{ "x.y}/z", 0 },
	{ "x.y~/z", 0 },
	{ "x.y/z!", 0 },
	{ "x.y/z\"", 0 },
	{ "x.y/z#", 0 },
	{ "x.y/z$", 0 },
	{ "x.y/z%", 0 },
	{ "x.y/z&", 0 },
	{ "x.y/z'", 0 },
	{ "x.y/z(", 0 },
	{ "x.y/z)", 0 },
	{ "x.y/z*", 0 },
	{ "x.y/z+", 0 },
	{ "x.y/z,", 0 },
	{ "x.y/z-", 1 },
	{ "x.y/z.t", 1 },
	{ "x.y/z/t", 1 },
	{ "x.y/z:", 0 },
	{ "x.y/z;", 0 },
	{ "x.y/z<", 0 },
	{ "x.y/z=", 0 },
	{ "x.y/z>", 0 },
	{ "x.y/z?", 0 },
	{ "x.y/z@", 0 },
	{ "x.y/z[", 0 },
	{ "x.y/z\\", 0 },
	{ "x.y/z]", 0 },
	{ "x.y/z^", 0 },
	{ "x.y/z_", 1 },
	{ "x.y/z`", 0 },
	{ "x.y/z{", 0 },
	{ "x.y/z}", 0 },
	{ "x.y/z~", 1 },
	{ "x.y/x.foo", 1 },
	{ "x.y/aux.foo", 0 },
	{ "x.y/prn", 0 },
	{ "x.y/prn", 0 },
	{ "x.y/com", 1 },
	{ "x.y/com1", 0 },
	{ "x.y/com1.txt", 0 },
	{ "x.y/calm1", 1 },
	{ "x.y/z~", 1 },
	{ "x.y/z~0", 0 },
	{ "x.y/z~09", 0 },
	{ "x.y/z09", 1 },
	{ "x.y/z09~", 1 },
	{ "x.y/z09~09z", 1 },
	{ "x.y/z09~09z~09", 0 },
	{ "github.com/!123/logrus", 0 },

	/* Non-ASCII is refused in module paths. */
	{ "github.com/user/unicode/\xd0\xb8\xd1\x81\xd0\xbf\xd1\x8b\xd1\x82"
	    "\xd0\xb0\xd0\xbd\xd0\xb8\xd0\xb5", 0 },

	{ "../x", 0 },
	{ "./y", 0 },
	{ "x:y", 0 },
	{ "\\temp\\foo", 0 },
	{ ".gitignore", 0 },
	{ ".github/ISSUE_TEMPLATE", 0 },
	{ "x\xe2\x98\xbay", 0 },
};

/* x/mod module_test.go splitPathVersionTests: prefix + /vN, all valid. */
static const char *const split_path_version_ok[] = {
	"x.y/z", "x.y/z/v2", "x.y/z/v3", "x.y/v",
	"gopkg.in/yaml.v0", "gopkg.in/yaml.v1", "gopkg.in/yaml.v1-unstable",
	"gopkg.in/yaml.v2", "gopkg.in/yaml.v3",
};

/* ... and paths SplitPathVersion refuses, so CheckPath does too. */
static const char *const split_path_version_bad[] = {
	"x.y/z/v0", "x.y/z/v1", "x.y/z/v2.0", "x.y/z/v2.0.0", "x.y/z/v01",
	"gopkg.in/yaml", "gopkg.in/yaml.v", "gopkg.in/yaml.v01",
	"gopkg.in/yaml.v0-unstable", "gopkg.in/yaml/v2",
};

/* x/mod module_test.go escapeTests: esc NULL means the same as path. */
static const struct {
	const char	*path;
	const char	*esc;
} escape_tests[] = {
	{ "ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789", NULL },
	{ "github.com/GoogleCloudPlatform/omega",
	    "github.com/!google!cloud!platform/omega" },
};

/* x/mod module_test.go badUnescape. */
static const char *const bad_unescape[] = {
	"github.com/GoogleCloudPlatform/omega",
	"github.com/!google!cloud!platform!/omega",
	"github.com/!0google!cloud!platform/omega",
	"github.com/!_google!cloud!platform/omega",
	"github.com/!!google!cloud!platform/omega",
	"",
};

/* x/mod module_test.go escapeVersionTests. */
static const struct {
	const char	*v;
	const char	*esc;
} escape_version_tests[] = {
	{ "v1.2.3-alpha", NULL },
	{ "v3", NULL },
	{ "v2.3.1-ABcD", "v2.3.1-!a!bc!d" },
};

/* x/mod semver_test.go tests: "" means invalid, else Canonical(in). */
static const struct {
	const char	*in;
	const char	*out;
} semver_tests[] = {
	{ "bad", "" },
	{ "v1-alpha.beta.gamma", "" },
	{ "v1-pre", "" },
	{ "v1+meta", "" },
	{ "v1-pre+meta", "" },
	{ "v1.2-pre", "" },
	{ "v1.2+meta", "" },
	{ "v1.2-pre+meta", "" },
	{ "v1.0.0-alpha", "v1.0.0-alpha" },
	{ "v1.0.0-alpha.1", "v1.0.0-alpha.1" },
	{ "v1.0.0-alpha.beta", "v1.0.0-alpha.beta" },
	{ "v1.0.0-beta", "v1.0.0-beta" },
	{ "v1.0.0-beta.2", "v1.0.0-beta.2" },
	{ "v1.0.0-beta.11", "v1.0.0-beta.11" },
	{ "v1.0.0-rc.1", "v1.0.0-rc.1" },
	{ "v1", "v1.0.0" },
	{ "v1.0", "v1.0.0" },
	{ "v1.0.0", "v1.0.0" },
	{ "v1.2", "v1.2.0" },
	{ "v1.2.0", "v1.2.0" },
	{ "v1.2.3-456", "v1.2.3-456" },
	{ "v1.2.3-456.789", "v1.2.3-456.789" },
	{ "v1.2.3-456-789", "v1.2.3-456-789" },
	{ "v1.2.3-456a", "v1.2.3-456a" },
	{ "v1.2.3-pre", "v1.2.3-pre" },
	{ "v1.2.3-pre+meta", "v1.2.3-pre" },
	{ "v1.2.3-pre.1", "v1.2.3-pre.1" },
	{ "v1.2.3-zzz", "v1.2.3-zzz" },
	{ "v1.2.3", "v1.2.3" },
	{ "v1.2.3+meta", "v1.2.3" },
	{ "v1.2.3+meta-pre", "v1.2.3" },
	{ "v1.2.3+meta-pre.sha.256a", "v1.2.3" },
	/* Not Go's rows: the corners of parse. */
	{ "", "" },
	{ "v", "" },
	{ "1.2.3", "" },
	{ "v01.2.3", "" },
	{ "v1.02.3", "" },
	{ "v1.2.03", "" },
	{ "v1.2.3-01", "" },
	{ "v1.2.3-0", "v1.2.3-0" },
	{ "v1.2.3-0a", "v1.2.3-0a" },
	{ "v1.2.3-", "" },
	{ "v1.2.3+", "" },
	{ "v1.2.3-a..b", "" },
	{ "v1.2.3+a..b", "" },
	{ "v1.2.3+01", "v1.2.3" },
	{ "v1.2.3-a_b", "" },
	{ "v1.2.3.4", "" },
	{ "v1..2", "" },
	{ "v1.2.3+incompatible", "v1.2.3" },
};

static void
test_check_path(void)
{
	char	why[256];
	size_t	i;
	int	got;

	for (i = 0; i < sizeof(check_path_tests) /
	    sizeof(check_path_tests[0]); i++) {
		why[0] = '\0';
		got = goproxy_check_path(check_path_tests[i].path, why,
		    sizeof(why)) == 0;
		CHECK(got == check_path_tests[i].ok, "CheckPath(\"%s\") = %d "
		    "(%s)", check_path_tests[i].path, got, why);
		CHECK(got || why[0] != '\0', "CheckPath(\"%s\"): no reason",
		    check_path_tests[i].path);
	}
	for (i = 0; i < sizeof(split_path_version_ok) /
	    sizeof(split_path_version_ok[0]); i++)
		CHECK(goproxy_check_path(split_path_version_ok[i], NULL,
		    0) == 0, "CheckPath(\"%s\") failed",
		    split_path_version_ok[i]);
	for (i = 0; i < sizeof(split_path_version_bad) /
	    sizeof(split_path_version_bad[0]); i++)
		CHECK(goproxy_check_path(split_path_version_bad[i], why,
		    sizeof(why)) == -1 && strcmp(why, "invalid version") == 0,
		    "CheckPath(\"%s\") accepted or not for its version",
		    split_path_version_bad[i]);
}

/* Go's reasons, word for word, for one path of each kind of error. */
static void
test_check_path_reasons(void)
{
	static const struct {
		const char	*path;
		const char	*why;
	} t[] = {
		{ "", "empty string" },
		{ "x.y/\xff", "invalid UTF-8" },
		{ "-x.y", "leading dash" },
		{ "x.y//z", "double slash" },
		{ "x.y/z/", "trailing slash" },
		{ "x.y/..", "invalid path element \"..\"" },
		{ "x.y/.z", "leading dot in path element" },
		{ "x.y/z.", "trailing dot in path element" },
		{ "x.y/z@1", "invalid char '@'" },
		{ "x.y/con.d", "\"con\" disallowed as path element component "
		    "on Windows" },
		{ "x.y/z~1", "trailing tilde and digits in path element" },
		{ "localhost/z", "missing dot in first path element" },
		{ "X.y/z", "invalid char 'X' in first path element" },
		{ "x_y.z/w", "invalid char '_' in first path element" },
		{ "x.y/z/v1", "invalid version" },
	};
	char	why[256];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why[0] = '\0';
		CHECK(goproxy_check_path(t[i].path, why, sizeof(why)) == -1 &&
		    strcmp(why, t[i].why) == 0, "CheckPath(\"%s\"): \"%s\", "
		    "want \"%s\"", t[i].path, why, t[i].why);
	}
}

/* Go's TestEscapePath / TestUnescapePath over checkPathTests. */
static void
test_escape_check_rows(void)
{
	char		 esc[256], back[256];
	const char	*p;
	size_t		 i;
	int		 ok;

	for (i = 0; i < sizeof(check_path_tests) /
	    sizeof(check_path_tests[0]); i++) {
		p = check_path_tests[i].path;
		ok = goproxy_escape_path(p, esc, sizeof(esc)) == 0;
		CHECK(ok == check_path_tests[i].ok, "EscapePath(\"%s\") = %d",
		    p, ok);
		if (!ok)
			continue;
		CHECK(goproxy_unescape_path(esc, strlen(esc), back,
		    sizeof(back)) == 0 && strcmp(back, p) == 0,
		    "UnescapePath(EscapePath(\"%s\")) = \"%s\"", p, back);
	}
}

static void
test_escape(void)
{
	char		 out[256];
	const char	*want;
	size_t		 i;

	for (i = 0; i < sizeof(escape_tests) / sizeof(escape_tests[0]); i++) {
		want = escape_tests[i].esc ? escape_tests[i].esc :
		    escape_tests[i].path;
		CHECK(goproxy_escape_path(escape_tests[i].path, out,
		    sizeof(out)) == 0 && strcmp(out, want) == 0,
		    "EscapePath(\"%s\") = \"%s\"", escape_tests[i].path, out);
		CHECK(goproxy_unescape_path(want, strlen(want), out,
		    sizeof(out)) == 0 && strcmp(out, escape_tests[i].path) == 0,
		    "UnescapePath(\"%s\") = \"%s\"", want, out);
	}
	for (i = 0; i < sizeof(bad_unescape) / sizeof(bad_unescape[0]); i++)
		CHECK(goproxy_unescape_path(bad_unescape[i],
		    strlen(bad_unescape[i]), out, sizeof(out)) == -1,
		    "UnescapePath(\"%s\") accepted", bad_unescape[i]);
	/* No room: escaping grows, and the NUL needs its byte. */
	CHECK(goproxy_escape_path("x.y/A", out, 6) == -1, "escape fits in 6");
	CHECK(goproxy_escape_path("x.y/A", out, 7) == 0 &&
	    strcmp(out, "x.y/!a") == 0, "escape into 7: %s", out);
	CHECK(goproxy_escape_path("x.y/a", out, 5) == -1, "escape fits in 5");
	CHECK(goproxy_escape_path("x.y/a", out, 6) == 0 &&
	    strcmp(out, "x.y/a") == 0, "escape into 6: %s", out);
	CHECK(goproxy_unescape_path("x.y/!a", 6, out, 5) == -1,
	    "unescape fits in 5");
	CHECK(goproxy_unescape_path("x.y/!a", 6, out, 6) == 0 &&
	    strcmp(out, "x.y/A") == 0, "unescape into 6: %s", out);
}

static void
test_escape_version(void)
{
	static const char *const bad_escape[] = {
		"", "v1.0.0!", "v1/2", "..", "v1.", "con", "v1:2", "v1*",
		"v1\xc3\xa9",
	};
	static const char *const bad_unescape_version[] = {
		"", "V1.0.0", "v1.0.0-!", "v1.0.0-!A", "v1.0.0-!!a", "v1/2",
		"v1\xc3\xa9", "aux", ".", "x.",
	};
	char		 out[64];
	const char	*want;
	size_t		 i;

	for (i = 0; i < sizeof(escape_version_tests) /
	    sizeof(escape_version_tests[0]); i++) {
		want = escape_version_tests[i].esc ?
		    escape_version_tests[i].esc : escape_version_tests[i].v;
		CHECK(goproxy_escape_version(escape_version_tests[i].v, out,
		    sizeof(out)) == 0 && strcmp(out, want) == 0,
		    "EscapeVersion(\"%s\") = \"%s\"", escape_version_tests[i].v,
		    out);
		CHECK(goproxy_unescape_version(want, strlen(want), out,
		    sizeof(out)) == 0 &&
		    strcmp(out, escape_version_tests[i].v) == 0,
		    "UnescapeVersion(\"%s\") = \"%s\"", want, out);
	}
	/* Not semantic versions, but what Stat(rev) may escape. */
	CHECK(goproxy_escape_version("Feature/x", out, sizeof(out)) == -1,
	    "a version with a slash");
	CHECK(goproxy_escape_version("-Main #1 (x)", out, sizeof(out)) == 0 &&
	    strcmp(out, "-!main #1 (x)") == 0, "branch: %s", out);
	for (i = 0; i < sizeof(bad_escape) / sizeof(bad_escape[0]); i++)
		CHECK(goproxy_escape_version(bad_escape[i], out,
		    sizeof(out)) == -1, "EscapeVersion(\"%s\") accepted",
		    bad_escape[i]);
	for (i = 0; i < sizeof(bad_unescape_version) /
	    sizeof(bad_unescape_version[0]); i++)
		CHECK(goproxy_unescape_version(bad_unescape_version[i],
		    strlen(bad_unescape_version[i]), out, sizeof(out)) == -1,
		    "UnescapeVersion(\"%s\") accepted",
		    bad_unescape_version[i]);
}

static void
test_semver(void)
{
	char	out[64];
	size_t	i;
	int	valid, rc;

	for (i = 0; i < sizeof(semver_tests) / sizeof(semver_tests[0]); i++) {
		valid = semver_tests[i].out[0] != '\0';
		CHECK(goproxy_semver_valid(semver_tests[i].in,
		    strlen(semver_tests[i].in)) == valid, "IsValid(\"%s\") "
		    "!= %d", semver_tests[i].in, valid);
		rc = goproxy_semver_canonical(semver_tests[i].in,
		    strlen(semver_tests[i].in), out, sizeof(out));
		CHECK(rc == (valid ? 0 : -1) &&
		    strcmp(out, semver_tests[i].out) == 0,
		    "Canonical(\"%s\") = \"%s\", want \"%s\"",
		    semver_tests[i].in, out, semver_tests[i].out);
	}
	CHECK(goproxy_semver_canonical("v1.2", 4, out, 6) == -1 &&
	    out[0] == '\0', "canonical fits in 6");
	CHECK(goproxy_semver_canonical("v1.2", 4, out, 7) == 0 &&
	    strcmp(out, "v1.2.0") == 0, "canonical into 7: %s", out);
}

struct parse_case {
	const char		*path;
	int			 status;	/* 0: parsed */
	enum goproxy_kind	 kind;
	const char		*module;
	const char		*version;
	const char		*sumdb;
	const char		*rest;
};

/* A path refused with status. */
struct bad_case {
	const char	*path;
	int		 status;
};

/* Check one case; on success, the fields; on failure, a reason. */
static void
check_parse(const struct parse_case *c)
{
	struct goproxy_req	 req;
	char			 rbuf[GOPROXY_REASON_MAX];
	const char		*reason = NULL;
	int			 status = -1, rc;

	rc = goproxy_parse(c->path, strlen(c->path), &req, &status, &reason,
	    rbuf, sizeof(rbuf));
	if (c->status != 0) {
		CHECK(rc == -1 && status == c->status && reason != NULL &&
		    *reason != '\0', "%s: rc %d status %d (%s), want %d",
		    c->path, rc, status, reason ? reason : "", c->status);
		return;
	}
	CHECK(rc == 0 && status == 0 && reason == NULL, "%s: rc %d status %d "
	    "(%s)", c->path, rc, status, reason ? reason : "");
	if (rc != 0)
		return;
	CHECK(req.kind == c->kind, "%s: kind %d, want %d", c->path,
	    (int)req.kind, (int)c->kind);
	CHECK(strcmp(req.module, c->module ? c->module : "") == 0,
	    "%s: module \"%s\"", c->path, req.module);
	CHECK(strcmp(req.version, c->version ? c->version : "") == 0,
	    "%s: version \"%s\"", c->path, req.version);
	CHECK(strcmp(req.sumdb, c->sumdb ? c->sumdb : "") == 0,
	    "%s: sumdb \"%s\"", c->path, req.sumdb);
	if (c->rest == NULL) {
		CHECK(req.rest == NULL && req.rest_len == 0, "%s: rest set",
		    c->path);
		return;
	}
	CHECK(req.rest != NULL && req.rest >= c->path &&
	    req.rest + req.rest_len <= c->path + strlen(c->path) &&
	    req.rest_len == strlen(c->rest) &&
	    memcmp(req.rest, c->rest, req.rest_len) == 0,
	    "%s: rest \"%.*s\"", c->path, (int)req.rest_len,
	    req.rest ? req.rest : "");
}

static void
test_parse_module(void)
{
	static const struct parse_case t[] = {
		{ "/github.com/!burnt!sushi/toml/@v/list", 0, GOPROXY_LIST,
		    "github.com/BurntSushi/toml", NULL, NULL, NULL },
		/* The go command sends "!" as "%21". */
		{ "/github.com/%21burnt%21sushi/toml/@v/list", 0, GOPROXY_LIST,
		    "github.com/BurntSushi/toml", NULL, NULL, NULL },
		{ "/golang.org/x/text/@v/list?go-get=1", 0, GOPROXY_LIST,
		    "golang.org/x/text", NULL, NULL, NULL },
		{ "/golang.org/x/text/@latest", 0, GOPROXY_LATEST,
		    "golang.org/x/text", NULL, NULL, NULL },
		{ "/golang.org/x/text/@v/v0.3.0.info", 0, GOPROXY_INFO,
		    "golang.org/x/text", "v0.3.0", NULL, NULL },
		{ "/golang.org/x/text/@v/v0.3.0.mod", 0, GOPROXY_MOD,
		    "golang.org/x/text", "v0.3.0", NULL, NULL },
		{ "/golang.org/x/text/@v/v0.3.0.zip", 0, GOPROXY_ZIP,
		    "golang.org/x/text", "v0.3.0", NULL, NULL },
		/* .info takes any query: a branch, a short version, a hash. */
		{ "/golang.org/x/text/@v/master.info", 0, GOPROXY_INFO,
		    "golang.org/x/text", "master", NULL, NULL },
		{ "/golang.org/x/text/@v/v0.3.info", 0, GOPROXY_INFO,
		    "golang.org/x/text", "v0.3", NULL, NULL },
		{ "/golang.org/x/text/@v/!feature%20%231.info", 0,
		    GOPROXY_INFO, "golang.org/x/text", "Feature #1", NULL,
		    NULL },
		{ "/golang.org/x/text/@v/daa7c04131f5.info", 0, GOPROXY_INFO,
		    "golang.org/x/text", "daa7c04131f5", NULL, NULL },
		{ "/github.com/!azure/go-autorest/@v/v14.2.0+incompatible.zip",
		    0, GOPROXY_ZIP, "github.com/Azure/go-autorest",
		    "v14.2.0+incompatible", NULL, NULL },
		{ "/example.com/m/@v/v1.0.0-!r!c1.mod", 0, GOPROXY_MOD,
		    "example.com/m", "v1.0.0-RC1", NULL, NULL },
		{ "/example.com/m/@v/v0.0.0-20191109021931-daa7c04131f5.zip",
		    0, GOPROXY_ZIP, "example.com/m",
		    "v0.0.0-20191109021931-daa7c04131f5", NULL, NULL },
		{ "/example.com/m/v2/@v/v2.0.0.info", 0, GOPROXY_INFO,
		    "example.com/m/v2", "v2.0.0", NULL, NULL },
		/* Path/major disagreement is the upstream's 404, not ours. */
		{ "/example.com/m/@v/v2.0.0.mod", 0, GOPROXY_MOD,
		    "example.com/m", "v2.0.0", NULL, NULL },
		{ "/gopkg.in/yaml.v2/@v/list", 0, GOPROXY_LIST,
		    "gopkg.in/yaml.v2", NULL, NULL, NULL },
		{ "/example.com/@v/list", 0, GOPROXY_LIST, "example.com",
		    NULL, NULL, NULL },
		{ "/example.com/list.info/@v/list.info", 0, GOPROXY_INFO,
		    "example.com/list.info", "list", NULL, NULL },
		{ "/exa%6Dple.com/m/@v/list", 0, GOPROXY_LIST,
		    "example.com/m", NULL, NULL, NULL },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_parse(&t[i]);
}

/* Check that each of t[0..n) is refused with its status. */
static void
check_parse_bad(const struct bad_case *t, size_t n)
{
	struct parse_case	c;
	size_t			i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < n; i++) {
		c.path = t[i].path;
		c.status = t[i].status;
		check_parse(&c);
	}
}

static void
test_parse_module_bad(void)
{
	static const struct bad_case t[] = {
		/* Malformed module paths and versions: 400. */
		{ "/github.com/BurntSushi/toml/@v/list", 400 },
		{ "/github.com/!Burnt!sushi/toml/@v/list", 400 },
		{ "/github.com/!1/toml/@v/list", 400 },
		{ "/github.com/x!/@v/list", 400 },
		{ "/github.com/x/%C3%A9/@v/list", 400 },
		{ "/@v/list", 400 },
		{ "//@v/list", 400 },
		{ "/x/@v/list", 400 },
		{ "/example.com//m/@v/list", 400 },
		{ "/example.com/m//@v/list", 400 },
		{ "/example.com/m/v1/@v/list", 400 },
		{ "/example.com/m/v0/@latest", 400 },
		{ "/example.com/con/@latest", 400 },
		{ "/example.com/m@v1/@v/list", 400 },
		{ "/../etc/passwd/@v/list", 400 },
		{ "/example.com/../../etc/@v/list", 400 },
		{ "/example.com/%2e%2e/x/@v/list", 400 },
		{ "/example.com/./x/@v/list", 400 },
		{ "/example.com/m%2Fx/@v/list", 400 },
		{ "/example.com/m%2fx/@v/list", 400 },
		{ "/example.com/m/@v/v1.2.zip", 400 },
		{ "/example.com/m/@v/v1.2.3+meta.mod", 400 },
		{ "/example.com/m/@v/master.zip", 400 },
		{ "/example.com/m/@v/v1.2.3-01.zip", 400 },
		{ "/example.com/m/@v/.info", 400 },
		{ "/example.com/m/@v/..info", 400 },
		{ "/example.com/m/@v/Master.info", 400 },
		{ "/example.com/m/@v/!M.info", 400 },
		{ "/example.com/m/@v/v1!.info", 400 },
		{ "/example.com/m/@v/con.info", 400 },
		{ "/example.com/m/@v/a:b.info", 400 },
		{ "/example.com/m/@v/v1.0.0%00.info", 400 },
		{ "/example.com/m/@v/v1.0.0\t.info", 400 },
		{ "/example.com/m/@v/v1.0.0%zz.info", 400 },
		{ "/example.com/m/@v/v1.0.0%2.info", 400 },
		{ "/example.com/m/@v/v1.0.0.info%", 400 },
		/* Not GOPROXY endpoints: 404. */
		{ "/favicon.ico", 404 },
		{ "/robots.txt?x=1", 404 },
		{ "/", 404 },
		{ "", 404 },
		{ "?x", 404 },
		{ "favicon.ico", 404 },
		{ "*", 404 },
		{ "/../etc/passwd", 404 },
		{ "/example.com/m", 404 },
		{ "/example.com/m/", 404 },
		{ "/example.com/m/@", 404 },
		{ "/example.com/m/@v", 404 },
		{ "/example.com/m/@v/", 404 },
		{ "/example.com/m/@v/list/", 404 },
		{ "/example.com/m/@v/list/x", 404 },
		{ "/example.com/m/@v/lis", 404 },
		{ "/example.com/m/@v/v1.0.0", 404 },
		{ "/example.com/m/@v/v1.0.0.tar.gz", 404 },
		{ "/example.com/m/@v/v1.0.0.ZIP", 404 },
		{ "/example.com/m/@v/x/v1.0.0.zip", 404 },
		{ "/example.com/m/@w/list", 404 },
		{ "/example.com/m/@latest/", 404 },
		{ "/example.com/m/@latest/x", 404 },
		{ "/example.com/m/@latestx", 404 },
		{ "/sumdb", 404 },
	};

	check_parse_bad(t, sizeof(t) / sizeof(t[0]));
}

static void
test_parse_sumdb(void)
{
	static const struct parse_case t[] = {
		{ "/sumdb/sum.golang.org/supported", 0,
		    GOPROXY_SUMDB_SUPPORTED, NULL, NULL, "sum.golang.org",
		    "/supported" },
		{ "/sumdb/sum.golang.org/latest", 0, GOPROXY_SUMDB_LATEST,
		    NULL, NULL, "sum.golang.org", "/latest" },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.3.0", 0,
		    GOPROXY_SUMDB_LOOKUP, "golang.org/x/text", "v0.3.0",
		    "sum.golang.org", "/lookup/golang.org/x/text@v0.3.0" },
		/* rest is the path as received, still %-encoded. */
		{ "/sumdb/sum.golang.org/lookup/github.com/%21burnt%21sushi/"
		    "toml@v0.3.1?x", 0, GOPROXY_SUMDB_LOOKUP,
		    "github.com/BurntSushi/toml", "v0.3.1", "sum.golang.org",
		    "/lookup/github.com/%21burnt%21sushi/toml@v0.3.1" },
		{ "/sumdb/sum.golang.org/lookup/example.com/m@v2.0.0+"
		    "incompatible", 0, GOPROXY_SUMDB_LOOKUP, "example.com/m",
		    "v2.0.0+incompatible", "sum.golang.org",
		    "/lookup/example.com/m@v2.0.0+incompatible" },
		{ "/sumdb/sum.golang.org/lookup/example.com/m@v0.0.0-"
		    "20191109021931-daa7c04131f5", 0, GOPROXY_SUMDB_LOOKUP,
		    "example.com/m", "v0.0.0-20191109021931-daa7c04131f5",
		    "sum.golang.org", "/lookup/example.com/m@v0.0.0-"
		    "20191109021931-daa7c04131f5" },
		{ "/sumdb/sum.golang.org/tile/8/0/000", 0, GOPROXY_SUMDB_TILE,
		    NULL, NULL, "sum.golang.org", "/tile/8/0/000" },
		{ "/sumdb/sum.golang.org/tile/8/1/x001/234.p/5", 0,
		    GOPROXY_SUMDB_TILE, NULL, NULL, "sum.golang.org",
		    "/tile/8/1/x001/234.p/5" },
		{ "/sumdb/sum.golang.org/tile/8/data/x002/x345/678", 0,
		    GOPROXY_SUMDB_TILE, NULL, NULL, "sum.golang.org",
		    "/tile/8/data/x002/x345/678" },
		{ "/sumdb/sumdb.example.com:8443/supported", 0,
		    GOPROXY_SUMDB_SUPPORTED, NULL, NULL,
		    "sumdb.example.com:8443", "/supported" },
		{ "/sumdb/localhost/supported", 0, GOPROXY_SUMDB_SUPPORTED,
		    NULL, NULL, "localhost", "/supported" },
		/* A name may have a path (sumdb.go: "host[/path]"). */
		{ "/sumdb/example.com/go/sumdb/tile/8/0/000", 0,
		    GOPROXY_SUMDB_TILE, NULL, NULL, "example.com/go/sumdb",
		    "/tile/8/0/000" },
		{ "/sumdb/ex%61mple.com/x/lookup/example.com/m@v1.0.0", 0,
		    GOPROXY_SUMDB_LOOKUP, "example.com/m", "v1.0.0",
		    "example.com/x", "/lookup/example.com/m@v1.0.0" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_parse(&t[i]);
}

static void
test_parse_sumdb_bad(void)
{
	static const struct bad_case t[] = {
		{ "/sumdb/sum.golang.org/lookup/", 400 },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text", 400 },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text@", 400 },
		{ "/sumdb/sum.golang.org/lookup/@v1.0.0", 400 },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text@master",
		    400 },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text@v1.0", 400 },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text@v1.0.0+meta",
		    400 },
		{ "/sumdb/sum.golang.org/lookup/a.b/c@v1.0.0@v1.0.0", 400 },
		{ "/sumdb/sum.golang.org/lookup/golang.org/X/text@v1.0.0",
		    400 },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text@v1.0.0/"
		    "go.mod", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0", 400 },
		{ "/sumdb/sum.golang.org/tile/", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/", 400 },
		{ "/sumdb/sum.golang.org/tile/0/0/000", 400 },
		{ "/sumdb/sum.golang.org/tile/31/0/000", 400 },
		{ "/sumdb/sum.golang.org/tile/08/0/000", 400 },
		{ "/sumdb/sum.golang.org/tile/8/-1/000", 400 },
		{ "/sumdb/sum.golang.org/tile/8/00/000", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/00", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/0000", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/x000/001", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/001/002", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/x001/x002", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/000.p/256", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/000.p/0", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/000.p/05", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/000.p", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/000.p/5/6", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/x/000", 400 },
		{ "/sumdb/sum.golang.org/tile/8/0/x009/x223/x372/x036/x854/"
		    "x775/808", 400 },
		{ "/sumdb/sum_golang.org/supported", 400 },
		{ "/sumdb/sum.golang.org:0/supported", 400 },
		{ "/sumdb/sum.golang.org:65536/supported", 400 },
		{ "/sumdb/sum.golang.org:/supported", 400 },
		{ "/sumdb/.sum.golang.org/supported", 400 },
		{ "/sumdb/sum..golang.org/supported", 400 },
		{ "/sumdb/../supported", 400 },
		{ "/sumdb/sum.golang.org/../supported", 400 },
		{ "/sumdb/sum.golang.org//supported", 400 },
		{ "/sumdb/sum.golang.org/a:b/supported", 400 },
		{ "/sumdb/sum.golang.org%2Fx/supported", 400 },
		{ "/sumdb/", 404 },
		{ "/sumdb/sum.golang.org", 404 },
		{ "/sumdb/sum.golang.org/", 404 },
		{ "/sumdb/sum.golang.org/supported/", 404 },
		{ "/sumdb/sum.golang.org/supported/x", 404 },
		{ "/sumdb/sum.golang.org/latest/x", 404 },
		{ "/sumdb/sum.golang.org/lookup", 404 },
		{ "/sumdb/sum.golang.org/tile", 404 },
		{ "/sumdb/sum.golang.org/other", 404 },
		{ "/sumdb/supported", 404 },
	};

	check_parse_bad(t, sizeof(t) / sizeof(t[0]));
}

/* x/mod sumdb/tlog tlog_test.go tilePaths, behind /sumdb/<name>/. */
static void
test_parse_tile_go(void)
{
	static const struct {
		const char	*path;
		int		 ok;
	} t[] = {
		{ "tile/4/0/001", 1 },
		{ "tile/4/0/001.p/5", 1 },
		{ "tile/3/5/x123/x456/078", 1 },
		{ "tile/3/5/x123/x456/078.p/2", 1 },
		{ "tile/1/0/x003/x057/500", 1 },
		{ "tile/3/5/123/456/078", 0 },
		{ "tile/3/-1/123/456/078", 0 },
		{ "tile/1/data/x003/x057/500", 1 },
		/* The corners: H = 30, W = 2**H - 1, N = INT64_MAX. */
		{ "tile/30/0/000.p/1073741823", 1 },
		{ "tile/30/0/000.p/1073741824", 0 },
		{ "tile/1/0/x009/x223/x372/x036/x854/x775/807", 1 },
		{ "tile/1/9223372036854775807/000", 1 },
		{ "tile/1/9223372036854775808/000", 0 },
	};
	struct parse_case	c = { NULL, 0, GOPROXY_SUMDB_TILE, NULL, NULL,
				      "sum.golang.org", NULL };
	char			path[256], rest[256];
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "/sumdb/sum.golang.org/%s",
		    t[i].path);
		snprintf(rest, sizeof(rest), "/%s", t[i].path);
		c.path = path;
		c.status = t[i].ok ? 0 : 400;
		c.rest = rest;
		check_parse(&c);
	}
}

/* What a refusal says, and where it says it. */
static void
test_parse_reasons(void)
{
	static const struct {
		const char	*path;
		const char	*reason;
	} t[] = {
		{ "/github.com/Foo/bar/@v/list", "invalid escaped module path "
		    "\"github.com/Foo/bar\": uppercase \"F\" must be escaped "
		    "as \"!f\"" },
		{ "/github.com/!1/@latest", "invalid escaped module path "
		    "\"github.com/!1\": \"!\" must be followed by a lowercase "
		    "letter" },
		{ "/x.y/z/v1/@latest", "invalid module path \"x.y/z/v1\": "
		    "invalid version" },
		{ "/x.y/z/@v/v1.2.zip", "invalid version \"v1.2\": not "
		    "canonical (the go command asks for \"v1.2.0\")" },
		{ "/x.y/z/@v/master.mod", "invalid version \"master\": not a "
		    "semantic version" },
		{ "/x.y/z/@v/a%22b.info", "invalid version \"a\\\"b\": invalid "
		    "char '\"'" },
		{ "/x.y/z/@v/v1%0a.info", "control character in path "
		    "\"/x.y/z/@v/v1%0a.info\"" },
		{ "/favicon.ico", "not a GOPROXY endpoint" },
		{ "/sumdb/sum.golang.org/tile/8/0/x000/001", "malformed tile "
		    "path \"tile/8/0/x000/001\"" },
		{ "/sumdb/a_b/supported", "invalid sumdb name \"a_b\": "
		    "bad host" },
	};
	struct goproxy_req	 req;
	char			 rbuf[GOPROXY_REASON_MAX], small[16];
	const char		*reason;
	size_t			 i;
	int			 status;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		reason = NULL;
		goproxy_parse(t[i].path, strlen(t[i].path), &req, &status,
		    &reason, rbuf, sizeof(rbuf));
		CHECK(reason == rbuf && strcmp(reason, t[i].reason) == 0,
		    "%s: \"%s\"", t[i].path, reason ? reason : "(null)");
	}
	/* No buffer: a static text; a small one: cut, NUL-terminated. */
	CHECK(goproxy_parse("/x/@latest", 10, &req, &status, &reason, NULL,
	    0) == -1 && status == 400 && reason != NULL &&
	    strcmp(reason, "malformed GOPROXY request") == 0, "static 400");
	CHECK(goproxy_parse("/x", 2, &req, &status, &reason, NULL, 0) == -1 &&
	    status == 404 && strcmp(reason, "not found") == 0, "static 404");
	CHECK(goproxy_parse("/x/@latest", 10, &req, &status, &reason, small,
	    sizeof(small)) == -1 && reason == small &&
	    strlen(small) == sizeof(small) - 1, "cut reason \"%s\"", small);
}

/* path[0..len) ends up refused with want (0: parsed); a CHECK. */
static void
check_len_case(const char *what, const char *path, int want)
{
	struct goproxy_req	 req;
	const char		*reason;
	int			 status, rc;

	rc = goproxy_parse(path, strlen(path), &req, &status, &reason, NULL,
	    0);
	CHECK(want == 0 ? rc == 0 : rc == -1 && status == want,
	    "%s (%zu bytes): rc %d status %d, want %d", what, strlen(path),
	    rc, status, want);
}

/*
 * "/x.y/" + elements of elem bytes of 'a' + tail, padded with a last
 * element so that the whole is total bytes (0: no padding).
 */
static const char *
len_path(char *buf, size_t size, size_t elem, size_t total, const char *tail)
{
	size_t	n, left;

	n = (size_t)snprintf(buf, size, "/x.y");
	left = total ? total - n - strlen(tail) : elem + 1;
	while (left > 0) {
		size_t	k = left - 1 < elem ? left - 1 : elem;

		buf[n++] = '/';
		memset(buf + n, 'a', k);
		n += k;
		left -= k + 1;
	}
	snprintf(buf + n, size - n, "%s", tail);
	return buf;
}

/*
 * Lengths: a request path over GOPROXY_REQUEST_MAX bytes is 414, an
 * element over GOPROXY_ELEM_MAX bytes 400; the query does not count.
 */
static void
test_parse_lengths(void)
{
	static char	path[GOPROXY_PATH_MAX + 64], v[GOPROXY_ELEM_MAX + 8];

	check_len_case("longest path", len_path(path, sizeof(path), 200,
	    GOPROXY_REQUEST_MAX, "/@v/list"), 0);
	CHECK(strlen(path) == GOPROXY_REQUEST_MAX, "len_path: %zu",
	    strlen(path));
	check_len_case("path too long", len_path(path, sizeof(path), 200,
	    GOPROXY_REQUEST_MAX + 1, "/@v/list"), 414);
	check_len_case("way too long", len_path(path, sizeof(path), 200,
	    GOPROXY_PATH_MAX + 10, "/@v/list"), 414);
	check_len_case("longest element", len_path(path, sizeof(path),
	    GOPROXY_ELEM_MAX, 0, "/@latest"), 0);
	check_len_case("element too long", len_path(path, sizeof(path),
	    GOPROXY_ELEM_MAX + 1, 0, "/@latest"), 400);
	/* The version's element is "<version>.info". */
	memset(v, 'a', sizeof(v));
	memcpy(v, "v1.0.0-", 7);
	memcpy(v + GOPROXY_ELEM_MAX - 5, ".info", 6);
	snprintf(path, sizeof(path), "/x.y/z/@v/%s", v);
	check_len_case("longest version element", path, 0);
	memcpy(v + GOPROXY_ELEM_MAX - 4, ".info", 6);
	snprintf(path, sizeof(path), "/x.y/z/@v/%s", v);
	check_len_case("version element too long", path, 400);
	/* Elements count decoded: 100 "%61" are 100 bytes. */
	strcpy(path, "/x.y/");
	while (strlen(path) < 5 + 300)
		strcat(path, "%61");
	strcat(path, "/@v/list");
	check_len_case("escaped element", path, 0);
	/* A sumdb name's elements too. */
	snprintf(path, sizeof(path), "/sumdb/sum.test/%s/supported", v);
	check_len_case("sumdb name element too long", path, 400);
	/* The query does not count. */
	len_path(path, sizeof(path), 200, GOPROXY_REQUEST_MAX, "/@latest?");
	memset(path + strlen(path), 'q', 2000);
	path[GOPROXY_REQUEST_MAX + 2001] = '\0';
	check_len_case("long query", path, 0);
}

/* Nothing that climbs out of a directory or hides a byte gets through. */
static void
test_parse_traversal(void)
{
	static const struct bad_case t[] = {
		{ "/example.com/%2E%2E/x/@v/list", 400 },
		{ "/example.com/%2e./x/@v/list", 400 },
		{ "/example.com/..%2fx/@v/list", 400 },
		{ "/%2e%2e/%2e%2e/etc/x/@v/list", 400 },
		{ "//etc/passwd/@v/list", 400 },
		{ "///etc/x.y/@v/list", 400 },
		{ "/x.y/z/@v/..%2f..%2fx.info", 400 },
		{ "/x.y/z/@v/%2e%2e.info", 400 },
		{ "/x.y/z/@v/...info", 400 },
		{ "/x.y/z/@v/v1.0.0%00.zip", 400 },
		{ "/x.y/z%00/@v/list", 400 },
		{ "/x.y/z/@v/v1%5c..%5cx.info", 400 },
		{ "/x.y/z\\../@v/list", 400 },
		{ "/sumdb/../supported", 400 },
		{ "/sumdb/sum.test/../../x/supported", 400 },
		{ "/sumdb/sum.test/lookup/../../x@v1.0.0", 400 },
		{ "/sumdb/sum.test/tile/8/0/../../x", 400 },
		{ "/sumdb/%2e%2e/supported", 400 },
	};

	check_parse_bad(t, sizeof(t) / sizeof(t[0]));
}

int
main(void)
{
	test_check_path();
	test_check_path_reasons();
	test_escape_check_rows();
	test_escape();
	test_escape_version();
	test_semver();
	test_parse_module();
	test_parse_module_bad();
	test_parse_sumdb();
	test_parse_sumdb_bad();
	test_parse_tile_go();
	test_parse_reasons();
	test_parse_lengths();
	test_parse_traversal();
	return unit_done("goproxy");
}
