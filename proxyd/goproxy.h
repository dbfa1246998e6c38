/*
 * goproxy.h - the request paths of the GOPROXY protocol ("go help
 * goproxy") and of a proxied checksum database (golang.org/design/
 * 25530-sumdb#proxying-a-checksum-database), and the module path and
 * version rules behind them, ported from Go 1.19's golang.org/x/mod
 * (module/module.go, semver/semver.go, sumdb/tlog/tile.go,
 * sumdb/server.go) and cmd/go/internal/modfetch/proxy.go.
 *
 * Pure functions: no I/O, no allocation, no global state.
 */
#ifndef PROXYD_GOPROXY_H
#define PROXYD_GOPROXY_H

#include <stddef.h>

/* Buffer sizes, with the NUL; a longer path is refused with 414. */
#define GOPROXY_MODULE_MAX	1024	/* a decoded module path */
#define GOPROXY_VERSION_MAX	256	/* a decoded version */
#define GOPROXY_SUMDB_MAX	256	/* a checksum database name */
#define GOPROXY_PATH_MAX	4096	/* a request path, %-decoded */

/*
 * Limits of what a module request may ask for, whatever Go allows: a
 * request path (as received, without its query) over GOPROXY_REQUEST_MAX
 * bytes is 414, a path element (between slashes, %-decoded, still
 * !-escaped: what names a file in a cache) over GOPROXY_ELEM_MAX bytes
 * is 400.  NAME_MAX of every common file system is 255; no module in
 * the wild comes close to either.
 */
#define GOPROXY_REQUEST_MAX	1024
#define GOPROXY_ELEM_MAX	255

/* A reason buffer this large holds every message untruncated. */
#define GOPROXY_REASON_MAX	1024

enum goproxy_kind {
	GOPROXY_LIST,		/* /<module>/@v/list */
	GOPROXY_INFO,		/* /<module>/@v/<version>.info */
	GOPROXY_MOD,		/* /<module>/@v/<version>.mod */
	GOPROXY_ZIP,		/* /<module>/@v/<version>.zip */
	GOPROXY_LATEST,		/* /<module>/@latest */
	GOPROXY_SUMDB_SUPPORTED, /* /sumdb/<name>/supported */
	GOPROXY_SUMDB_LOOKUP,	/* /sumdb/<name>/lookup/<module>@<vers> */
	GOPROXY_SUMDB_TILE,	/* /sumdb/<name>/tile/<H>/<L>/<K>[.p/<W>] */
	GOPROXY_SUMDB_LATEST	/* /sumdb/<name>/latest (served by sumdb) */
};

struct goproxy_req {
	enum goproxy_kind	 kind;
	/*
	 * The decoded module path (e.g. "github.com/BurntSushi/toml"), for
	 * LIST to LATEST and for SUMDB_LOOKUP; "" otherwise.
	 */
	char			 module[GOPROXY_MODULE_MAX];
	/*
	 * The decoded version for INFO, MOD, ZIP and SUMDB_LOOKUP; ""
	 * otherwise.  For INFO it may be any query the proxy resolves (a
	 * branch name, a commit hash); for MOD and ZIP it is a canonical
	 * semantic version, possibly with "+incompatible".
	 */
	char			 version[GOPROXY_VERSION_MAX];
	/* The checksum database name, host[:port][/path], for SUMDB_*. */
	char			 sumdb[GOPROXY_SUMDB_MAX];
	/*
	 * For SUMDB_*: the path after /sumdb/<name>, as received (still
	 * %-encoded, no query), e.g. "/lookup/golang.org/x/text@v0.3.0":
	 * the path to ask the database itself for.  Points into the input.
	 */
	const char		*rest;
	size_t			 rest_len;
};

/*
 * Parse the origin-form request path path[0..len) of a GOPROXY request.
 * A query ("?...") is ignored.  The path is %-decoded first, as Go's
 * net/http does (the go command sends "!" as "%21"), except that "%2F"
 * and control characters are refused.
 *
 * Returns 0 with *req filled in (*status 0, *reason NULL), or -1 with
 * *status and *reason:
 *	400 a GOPROXY endpoint with a malformed module path, version,
 *	    sumdb name, lookup or tile;
 *	    or an element over GOPROXY_ELEM_MAX bytes;
 *	404 a path that is no GOPROXY endpoint ("/favicon.ico");
 *	414 a path over GOPROXY_REQUEST_MAX bytes, or a part too long
 *	    for struct goproxy_req.
 * *reason is a message such as "invalid escaped module path
 * \"github.com/Foo\": uppercase \"F\" must be escaped as \"!f\"",
 * written into rbuf[0..rbuflen) (truncated when it does not fit); with
 * no rbuf (rbuflen 0) it is a static text naming only the status.
 */
int	goproxy_parse(const char *path, size_t len, struct goproxy_req *req,
	    int *status, const char **reason, char *rbuf, size_t rbuflen);

/*
 * module.UnescapePath: "!x" becomes "X" (an uppercase letter, a "!"
 * not followed by a lowercase letter or a non-ASCII byte is an error),
 * and the result must pass goproxy_check_path().  0, or -1 when esc is
 * invalid or out[0..outlen) is too small.
 */
int	goproxy_unescape_path(const char *esc, size_t len, char *out,
	    size_t outlen);

/* module.EscapePath: "X" becomes "!x" in a path that passes the check. */
int	goproxy_escape_path(const char *path, char *out, size_t outlen);

/*
 * module.UnescapeVersion / EscapeVersion: as above, for a version,
 * which need not be a semantic version but must be a valid file name
 * element (module.CheckFilePath's characters, ASCII only) without "!".
 */
int	goproxy_unescape_version(const char *esc, size_t len, char *out,
	    size_t outlen);
int	goproxy_escape_version(const char *version, char *out,
	    size_t outlen);

/*
 * module.CheckPath: is the NUL-terminated path a valid module path?
 * 0, or -1 with Go's reason ("missing dot in first path element") in
 * why[0..whylen) when why is not NULL.
 */
int	goproxy_check_path(const char *path, char *why, size_t whylen);

/* semver.IsValid: is v[0..len) a semantic version ("v1", "v1.2.3-pre")? */
int	goproxy_semver_valid(const char *v, size_t len);

/*
 * semver.Canonical: the canonical form of v[0..len) ("v1.2" gives
 * "v1.2.0", build metadata is dropped) into out.  0, or -1 with out ""
 * when v is invalid or out is too small.
 */
int	goproxy_semver_canonical(const char *v, size_t len, char *out,
	    size_t outlen);

#endif /* PROXYD_GOPROXY_H */
