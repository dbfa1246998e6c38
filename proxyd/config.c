/*
 * config.c - load, validate and reference-count configuration snapshots.
 *
 * The rules file is INI, cut into sections and keys by inih.  Debian's
 * inih does not pass line numbers to the handler, remembers only the
 * first bad line, truncates lines at 200 bytes and knows no inline '#'
 * comments, so the file goes through our own line reader (read_line):
 * it counts lines, removes comments, rejects what it cannot pass on
 * whole, works out what inih will make of each line and reports what
 * inih would merely count.  inih calls key_cb() for a key line before it
 * asks for the next one, so st->lineno is always the key's line.
 *
 * What is accepted:
 *	[proxyd]		the only section ([route NAME] is reserved)
 *	key = value		or "key: value"; each key at most once
 *	; or # comment		on a line of its own, or after whitespace
 *	  indented line		continues the list above it (listen, allow,
 *				connect_ports); an error for other keys
 * Keys a file leaves out keep their built-in defaults.  [proxyd] may
 * appear more than once; its keys still only once.
 *
 * The reader relies on inih's default settings (multi-line values on,
 * as Debian builds it); nothing in proxyd changes inih's globals.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* Never define INI_HANDLER_LINENO: the library is built without it. */
#include <ini.h>

#include "config.h"

enum key_id {
	K_LISTEN, K_ALLOW, K_CONNECT_PORTS, K_WORKERS, K_MAX_CLIENTS,
	K_HEADER_TIMEOUT, K_KEEPALIVE_TIMEOUT, K_CONNECT_TIMEOUT,
	K_RESPONSE_TIMEOUT, K_IDLE_TIMEOUT, K_TUNNEL_IDLE_TIMEOUT,
	K_SHUTDOWN_TIMEOUT, K_MAX_REQUEST_LINE, K_MAX_HEADER_SIZE,
	K_MAX_HEADERS, K_MAX_BODY_SIZE, K_ACCESS_LOG, K_ERROR_LOG, K_USER,
	K_RESOLV_CONF, K_HOSTS_FILE,
	NKEYS
};

enum section {
	SEC_NONE,		/* before the first header */
	SEC_PROXYD,
	SEC_OTHER		/* reported at its header; its keys are ignored */
};

enum line_kind {
	LINE_BLANK,		/* nothing left once comments are gone */
	LINE_SECTION,		/* "[name]", handled by the reader */
	LINE_KEY,		/* must reach key_cb, or it is a syntax error */
	LINE_CONT		/* indented: inih continues the previous key */
};

struct parse_state;
struct key;

typedef void	parse_fn(struct parse_state *, const struct key *,
		    const char *);

/* One row of the key table: how to parse a key and where it goes. */
struct key {
	const char	*name;
	parse_fn	*parse;
	size_t		 off;		/* field, for scalar parsers */
	uintmax_t	 min, max;	/* accepted range, for numbers */
	int		 list;		/* may go on on indented lines */
	const char	*def;		/* built-in default, as config text */
	const char	*expect;	/* for "expected ..., got ..." */
};

struct parse_state {
	const char	*path;		/* as named in messages */
	FILE		*errs;		/* NULL: count errors, print nothing */
	FILE		*fp;
	struct config	*cfg;		/* being filled in */
	int		 nerrors;

	/* The line inih is working on. */
	char		*buf;		/* getline() buffer */
	size_t		 bufsize;
	int		 lineno;
	int		 read_errno;
	enum line_kind	 kind;
	int		 consumed;	/* key_cb() has seen it */

	/* What inih will make of the next line. */
	enum section	 section;
	int		 after_key;	/* indented lines continue a key */
	const struct key *prev;		/* that key, NULL if it is ignored */
	int		 cont;		/* value is a continuation line */

	int		 seen[NKEYS];	/* line each key was set on, or 0 */
	size_t		 listen_items;	/* listen items seen, good or bad */
};

/* The parsers of the key table; each reports its own errors. */
static parse_fn	parse_listen, parse_allow, parse_ports, parse_int, parse_count,
		parse_msec, parse_bytes, parse_string, parse_path,
		parse_access_log, parse_error_log;

#define OFF(field)	offsetof(struct config, field)
#define DURATION	"a duration like 10s, 500ms, 2m or 1h, from 1ms to 596h"
#define SIZE		"a size like 512, 8k, 1m or 1g"

static const struct key keys[NKEYS] = {
	/* name, parser, field, min, max, list, default, expected */
	[K_LISTEN] = { "listen", parse_listen, 0, 0, 0, 1,
	    "127.0.0.1:3128",
	    "an address and port like 127.0.0.1:3128 or [::1]:3128" },
	[K_ALLOW] = { "allow", parse_allow, 0, 0, 0, 1,
	    "127.0.0.0/8, ::1",
	    "an address or CIDR like 10.0.0.0/8 or ::1" },
	[K_CONNECT_PORTS] = { "connect_ports", parse_ports, 0, 0, 0, 1,
	    "443",
	    "a port or range like 443 or 1024-65535" },
	[K_WORKERS] = { "workers", parse_int, OFF(workers), 1, 256, 0,
	    NULL,		/* online CPUs, see apply_defaults() */
	    "a number from 1 to 256" },
	[K_MAX_CLIENTS] = { "max_clients", parse_int, OFF(max_clients),
	    1, 1000000, 0, "4096",
	    "a number from 1 to 1000000" },
	[K_HEADER_TIMEOUT] = { "header_timeout", parse_msec,
	    OFF(header_timeout), 1, INT_MAX, 0, "10s", DURATION },
	[K_KEEPALIVE_TIMEOUT] = { "keepalive_timeout", parse_msec,
	    OFF(keepalive_timeout), 1, INT_MAX, 0, "60s", DURATION },
	[K_CONNECT_TIMEOUT] = { "connect_timeout", parse_msec,
	    OFF(connect_timeout), 1, INT_MAX, 0, "10s", DURATION },
	[K_RESPONSE_TIMEOUT] = { "response_timeout", parse_msec,
	    OFF(response_timeout), 1, INT_MAX, 0, "60s", DURATION },
	[K_IDLE_TIMEOUT] = { "idle_timeout", parse_msec,
	    OFF(idle_timeout), 1, INT_MAX, 0, "60s", DURATION },
	[K_TUNNEL_IDLE_TIMEOUT] = { "tunnel_idle_timeout", parse_msec,
	    OFF(tunnel_idle_timeout), 1, INT_MAX, 0, "10m", DURATION },
	[K_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", parse_msec,
	    OFF(shutdown_timeout), 1, INT_MAX, 0, "10s", DURATION },
	[K_MAX_REQUEST_LINE] = { "max_request_line", parse_bytes,
	    OFF(max_request_line), 1, SIZE_MAX, 0, "8k",
	    SIZE ", at least 1" },
	[K_MAX_HEADER_SIZE] = { "max_header_size", parse_bytes,
	    OFF(max_header_size), 1, SIZE_MAX, 0, "32k",
	    SIZE ", at least 1" },
	[K_MAX_HEADERS] = { "max_headers", parse_count, OFF(max_headers),
	    1, 10000, 0, "100",
	    "a number from 1 to 10000" },
	[K_MAX_BODY_SIZE] = { "max_body_size", parse_bytes,
	    OFF(max_body_size), 0, SIZE_MAX, 0, "0",
	    SIZE " (0 for unlimited)" },
	[K_ACCESS_LOG] = { "access_log", parse_access_log, OFF(access_log),
	    0, 0, 0, "off",
	    "an absolute path, - for stdout, or off" },
	[K_ERROR_LOG] = { "error_log", parse_error_log, OFF(error_log),
	    0, 0, 0, "stderr",
	    "an absolute path or stderr" },
	[K_USER] = { "user", parse_string, OFF(user), 0, 0, 0,
	    NULL,		/* stay who we are */
	    "a user name" },
	[K_RESOLV_CONF] = { "resolv_conf", parse_path, OFF(resolv_conf),
	    0, 0, 0, "/etc/resolv.conf",
	    "an absolute path" },
	[K_HOSTS_FILE] = { "hosts_file", parse_path, OFF(hosts_file),
	    0, 0, 0, "/etc/hosts",
	    "an absolute path" },
};

/* A number suffix and what it multiplies by; "" is the bare number. */
struct unit {
	const char	*suffix;
	uintmax_t	 scale;
};

static const struct unit duration_units[] = {
	{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 }, { NULL, 0 }
};

static const struct unit size_units[] = {
	{ "", 1 }, { "k", 1024 }, { "K", 1024 },
	{ "m", 1024 * 1024 }, { "M", 1024 * 1024 },
	{ "g", 1024 * 1024 * 1024 }, { "G", 1024 * 1024 * 1024 },
	{ NULL, 0 }
};

static void	errorf(struct parse_state *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * Report one problem as "path:line: message" (or "path: message" for
 * line 0) and count it, so that config_load() can fail after the rest
 * of the file has been checked too.
 */
static void
errorf(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list	ap;

	st->nerrors++;
	if (st->errs == NULL)
		return;
	if (line > 0)
		fprintf(st->errs, "%s:%d: ", st->path, line);
	else
		fprintf(st->errs, "%s: ", st->path);
	va_start(ap, fmt);
	vfprintf(st->errs, fmt, ap);
	va_end(ap);
	fputc('\n', st->errs);
}

static void
nomem(struct parse_state *st)
{
	errorf(st, st->lineno, "out of memory");
}

static void
bad_value(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	errorf(st, st->lineno, "%s: expected %s, got \"%.*s\"", k->name,
	    k->expect, (int)len, s);
}

static void *
field(struct parse_state *st, const struct key *k)
{
	return (char *)st->cfg + k->off;
}

/*
 * Read the decimal digits at *sp into *v and move *sp past them.
 * -1 if there are none or the number does not fit in a uintmax_t;
 * no sign or whitespace is skipped, unlike strtoumax().
 */
static int
scan_number(const char **sp, uintmax_t *v)
{
	const char	*s = *sp;
	uintmax_t	 n = 0, d;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (uintmax_t)(*s - '0');
		if (n > (UINTMAX_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*sp = s;
	*v = n;
	return 0;
}

/*
 * Parse a number followed by one of the suffixes in units, scaled, into
 * *v.  -1 unless all of s is used and the result is at most max.
 */
static int
parse_scaled(const char *s, const struct unit *units, uintmax_t max,
    uintmax_t *v)
{
	const struct unit	*u;
	uintmax_t		 n;

	if (scan_number(&s, &n) == -1)
		return -1;
	for (u = units; u->suffix != NULL; u++)
		if (strcmp(s, u->suffix) == 0)
			break;
	if (u->suffix == NULL || n > max / u->scale)
		return -1;
	*v = n * u->scale;
	return 0;
}

/* 0 milliseconds is accepted here; the keys ask for more. */
int
config_parse_duration(const char *s, int *ms)
{
	uintmax_t	v;

	if (parse_scaled(s, duration_units, INT_MAX, &v) == -1)
		return -1;
	*ms = (int)v;
	return 0;
}

int
config_parse_size(const char *s, size_t *bytes)
{
	uintmax_t	v;

	if (parse_scaled(s, size_units, SIZE_MAX, &v) == -1)
		return -1;
	*bytes = (size_t)v;
	return 0;
}

/* A plain number in k's range into *n, or -1 once the error is reported. */
static int
key_number(struct parse_state *st, const struct key *k, const char *v,
    uintmax_t *n)
{
	const char	*s = v;

	if (scan_number(&s, n) == -1 || *s != '\0' || *n < k->min ||
	    *n > k->max) {
		bad_value(st, k, v, strlen(v));
		return -1;
	}
	return 0;
}

static void
parse_int(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(int *)field(st, k) = (int)n;
}

static void
parse_count(struct parse_state *st, const struct key *k, const char *v)
{
	uintmax_t	n;

	if (key_number(st, k, v, &n) == 0)
		*(size_t *)field(st, k) = (size_t)n;
}

static void
parse_msec(struct parse_state *st, const struct key *k, const char *v)
{
	int	ms;

	if (config_parse_duration(v, &ms) == -1 || (uintmax_t)ms < k->min) {
		bad_value(st, k, v, strlen(v));
		return;
	}
	*(int *)field(st, k) = ms;
}

static void
parse_bytes(struct parse_state *st, const struct key *k, const char *v)
{
	size_t	n;

	if (config_parse_size(v, &n) == -1 || n < k->min || n > k->max) {
		bad_value(st, k, v, strlen(v));
		return;
	}
	*(size_t *)field(st, k) = n;
}

/*
 * Set a string field to a copy of v, or to NULL when v is nullword, the
 * key's word for "none" if it has one.  A path must be absolute: the
 * daemon's working directory is no place to look for files, and this
 * also catches "error_log = off" meaning a file named "off".
 */
static void
set_string(struct parse_state *st, const struct key *k, const char *v,
    const char *nullword, int path)
{
	char	**fp = field(st, k);
	char	 *s = NULL;
	int	  none = nullword != NULL && strcmp(v, nullword) == 0;

	if (*v == '\0' || (path && !none && *v != '/')) {
		bad_value(st, k, v, strlen(v));
		return;
	}
	if (!none && (s = strdup(v)) == NULL) {
		nomem(st);
		return;
	}
	free(*fp);
	*fp = s;
}

static void
parse_string(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, NULL, 0);
}

static void
parse_path(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, NULL, 1);
}

static void
parse_access_log(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, "off", strcmp(v, "-") != 0);
}

static void
parse_error_log(struct parse_state *st, const struct key *k, const char *v)
{
	set_string(st, k, v, "stderr", 1);
}

typedef void	item_fn(struct parse_state *, const struct key *,
		    const char *, size_t);

/*
 * Hand each comma-separated item of v, trimmed, to item().  Empty items
 * are skipped, so a line may end in a comma before a continuation line.
 * Returns how many items there were.
 */
static size_t
split_list(struct parse_state *st, const struct key *k, const char *v,
    item_fn *item)
{
	const char	*end;
	size_t		 len, n = 0;

	for (;;) {
		if ((end = strchr(v, ',')) == NULL)
			end = v + strlen(v);
		while (v < end && isspace((unsigned char)*v))
			v++;
		len = (size_t)(end - v);
		while (len > 0 && isspace((unsigned char)v[len - 1]))
			len--;
		if (len > 0) {
			item(st, k, v, len);
			n++;
		}
		if (*end == '\0')
			return n;
		v = end + 1;
	}
}

/*
 * Parse "a.b.c.d:port" or "[v6]:port" (numeric only, port 1..65535)
 * into *la.  -1 if s[0..len) is neither.
 */
static int
listen_parse(const char *s, size_t len, struct listen_addr *la)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&la->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&la->ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*colon, *h = la->text, *p;
	uintmax_t		 port;
	int			 v6 = s[0] == '[';

	memset(la, 0, sizeof(*la));
	if (len >= sizeof(la->text))
		return -1;
	memcpy(la->text, s, len);
	if ((colon = strrchr(la->text, ':')) == NULL)
		return -1;
	if (v6 && (colon - h < 2 || colon[-1] != ']'))
		return -1;
	h += v6;
	if ((size_t)(colon - h - v6) >= sizeof(host))
		return -1;
	memcpy(host, h, (size_t)(colon - h - v6));
	host[colon - h - v6] = '\0';
	p = colon + 1;
	if (scan_number(&p, &port) == -1 || *p != '\0' || port == 0 ||
	    port > 65535)
		return -1;

	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		la->len = sizeof(*sin6);
		return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	la->len = sizeof(*sin);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/*
 * Add one listen address.  The same address twice would not fail at
 * bind() time, since the workers share ports with SO_REUSEPORT, so it
 * is caught here.
 */
static void
listen_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct config		*c = st->cfg;
	struct listen_addr	 la;
	size_t			 i;

	st->listen_items++;
	if (listen_parse(s, len, &la) == -1) {
		bad_value(st, k, s, len);
		return;
	}
	if (c->nlisten == CONFIG_MAX_LISTEN) {
		errorf(st, st->lineno, "listen: more than %d addresses",
		    CONFIG_MAX_LISTEN);
		return;
	}
	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].len == la.len &&
		    memcmp(&c->listen[i].ss, &la.ss, la.len) == 0) {
			errorf(st, st->lineno, "listen: %s is listed twice",
			    la.text);
			return;
		}
	}
	c->listen[c->nlisten++] = la;
}

static void
allow_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct config	*c = st->cfg;
	struct cidr	 cidr, *na;

	if (cidr_parse(s, len, &cidr) == -1) {
		bad_value(st, k, s, len);
		return;
	}
	if ((na = reallocarray(c->allow, c->nallow + 1, sizeof(*na))) ==
	    NULL) {
		nomem(st);
		return;
	}
	na[c->nallow++] = cidr;
	c->allow = na;
}

static void
port_item(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	struct config		*c = st->cfg;
	struct port_range	 r, *nr;

	if (port_range_parse(s, len, &r) == -1) {
		bad_value(st, k, s, len);
		return;
	}
	if ((nr = reallocarray(c->connect_ports, c->nconnect_ports + 1,
	    sizeof(*nr))) == NULL) {
		nomem(st);
		return;
	}
	nr[c->nconnect_ports++] = r;
	c->connect_ports = nr;
}

/*
 * The list parsers: a key's first line replaces the default list,
 * continuation lines add to it.
 */
static void
parse_listen(struct parse_state *st, const struct key *k, const char *v)
{
	if (!st->cont) {
		st->cfg->nlisten = 0;
		st->listen_items = 0;
	}
	split_list(st, k, v, listen_item);
}

static void
parse_allow(struct parse_state *st, const struct key *k, const char *v)
{
	if (!st->cont) {
		free(st->cfg->allow);
		st->cfg->allow = NULL;
		st->cfg->nallow = 0;
	}
	split_list(st, k, v, allow_item);
}

static void
parse_ports(struct parse_state *st, const struct key *k, const char *v)
{
	if (!st->cont) {
		free(st->cfg->connect_ports);
		st->cfg->connect_ports = NULL;
		st->cfg->nconnect_ports = 0;
	}
	split_list(st, k, v, port_item);
}

static const struct key *
key_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/*
 * A "key = value" line.  Whatever happens, inih now has a key that
 * indented lines continue; st->prev says whether we care about them.
 */
static void
set_key(struct parse_state *st, const char *name, const char *value)
{
	const struct key	*k;
	int			 first;

	st->after_key = 1;
	st->prev = NULL;
	if (st->section == SEC_NONE) {
		errorf(st, st->lineno, "key \"%s\" is outside any section; "
		    "put it under [proxyd]", name);
		return;
	}
	if (st->section == SEC_OTHER)
		return;
	if ((k = key_find(name)) == NULL) {
		errorf(st, st->lineno, "unknown key \"%s\"", name);
		return;
	}
	if ((first = st->seen[k - keys]) != 0) {
		errorf(st, st->lineno, "duplicate key \"%s\" (first set at "
		    "line %d)", name, first);
		return;
	}
	st->seen[k - keys] = st->lineno;
	st->prev = k;
	st->cont = 0;
	k->parse(st, k, value);
}

/*
 * An indented line, which inih hands over as more of the previous key.
 * Only lists go on; an indented key or header is almost certainly
 * indentation by mistake, so say that rather than "bad value".
 */
static void
continue_key(struct parse_state *st, const char *value)
{
	const struct key	*k = st->prev;

	if (k == NULL)
		return;
	if (strchr(value, '=') != NULL || value[0] == '[') {
		errorf(st, st->lineno, "indented line continues \"%s\"; "
		    "remove the indentation if it starts a new key or section",
		    k->name);
		return;
	}
	if (!k->list) {
		errorf(st, st->lineno, "indented line continues \"%s\", "
		    "which takes a single value", k->name);
		return;
	}
	st->cont = 1;
	k->parse(st, k, value);
}

/*
 * inih's handler.  It always returns 1: we report errors ourselves, and
 * a 0 would only make inih remember the line of the first one.
 */
static int
key_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state	*st = user;

	(void)section;		/* the reader tracks sections */
	st->consumed = 1;
	if (st->kind == LINE_CONT)
		continue_key(st, value);
	else
		set_key(st, name, value);
	return 1;
}

/*
 * A "[name]" line (p points at the '['): check it and make it the
 * current section.  Like inih, ignore a header without its ']'.
 */
static void
open_section(struct parse_state *st, const char *p)
{
	const char	*name = p + 1, *end;
	size_t		 len;

	if ((end = strchr(name, ']')) == NULL) {
		errorf(st, st->lineno, "syntax error: missing \"]\"");
		return;
	}
	if (end[1 + strspn(end + 1, " \t\r\v\f")] != '\0')
		errorf(st, st->lineno, "syntax error: text after \"]\"");
	while (name < end && isspace((unsigned char)*name))
		name++;
	len = (size_t)(end - name);
	while (len > 0 && isspace((unsigned char)name[len - 1]))
		len--;

	st->after_key = 0;
	st->prev = NULL;
	st->section = SEC_OTHER;
	if (len == 6 && strncmp(name, "proxyd", len) == 0)
		st->section = SEC_PROXYD;
	else if (len >= 5 && strncmp(name, "route", 5) == 0 &&
	    (len == 5 || isspace((unsigned char)name[5])))
		errorf(st, st->lineno, "[route ...] sections are not "
		    "supported yet");
	else
		errorf(st, st->lineno, "unknown section [%.*s]", (int)len,
		    name);
}

/*
 * Decide what inih will make of line, testing in inih's order: an
 * indented line after a key continues it even if it looks like a header.
 */
static void
classify_line(struct parse_state *st, const char *line)
{
	const char	*p = line;

	while (isspace((unsigned char)*p))
		p++;
	st->consumed = 0;
	if (*p == '\0')
		st->kind = LINE_BLANK;
	else if (p > line && st->after_key)
		st->kind = LINE_CONT;
	else if (*p == '[') {
		st->kind = LINE_SECTION;
		open_section(st, p);
	} else
		st->kind = LINE_KEY;
}

/* A key line inih did not pass on had no '=' or ':'. */
static void
check_consumed(struct parse_state *st)
{
	if (st->kind == LINE_KEY && !st->consumed)
		errorf(st, st->lineno, "syntax error: expected key = value");
	st->kind = LINE_BLANK;
}

/*
 * Cut line at the first ';' or '#' that starts it or follows whitespace
 * (inih's own rule, with '#' allowed inline too), then drop trailing
 * whitespace, which includes the newline.
 */
static void
strip_comment(char *line)
{
	char	*p;
	int	 after_space = 1;

	for (p = line; *p != '\0'; p++) {
		if (after_space && (*p == ';' || *p == '#'))
			break;
		after_space = isspace((unsigned char)*p);
	}
	while (p > line && isspace((unsigned char)p[-1]))
		p--;
	*p = '\0';
}

/*
 * inih's reader: put the next line of st->fp, comments removed, into
 * str[0..num).  A line inih cannot take whole (longer than its buffer,
 * or holding a NUL) is reported and passed on blank.  NULL at the end
 * of the file or on a read error, which st->read_errno keeps.
 */
static char *
read_line(char *str, int num, void *arg)
{
	struct parse_state	*st = arg;
	char			*line;
	ssize_t			 n;

	check_consumed(st);
	if ((n = getline(&st->buf, &st->bufsize, st->fp)) == -1) {
		st->read_errno = errno;
		return NULL;
	}
	st->lineno++;
	line = st->buf;
	if (st->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	if (strlen(st->buf) != (size_t)n) {
		errorf(st, st->lineno, "line contains a NUL byte");
		*line = '\0';
	}
	strip_comment(line);
	if (strlen(line) + 2 > (size_t)num) {
		errorf(st, st->lineno, "line is longer than %d characters",
		    num - 2);
		*line = '\0';
	}
	classify_line(st, line);
	snprintf(str, (size_t)num, "%s\n", line);
	return str;
}

/* Feed st->fp through inih, reporting every problem on the way. */
static void
parse_file(struct parse_state *st)
{
	int	r;

	r = ini_parse_stream(read_line, st, key_cb, st);
	check_consumed(st);
	if (ferror(st->fp))
		errorf(st, 0, "read error: %s", strerror(st->read_errno));
	else if (r == -2)
		errorf(st, 0, "out of memory");
	else if (r > 0 && st->nerrors == 0)
		/* inih found something our reader did not foresee. */
		errorf(st, r, "syntax error");
}

/* Checks across keys, once all of them are known. */
static void
validate(struct parse_state *st)
{
	const struct config	*c = st->cfg;
	int			 line;

	if (st->seen[K_LISTEN] != 0 && st->listen_items == 0)
		errorf(st, st->seen[K_LISTEN], "listen: expected at least "
		    "one address and port");
	if (c->max_request_line >= c->max_header_size) {
		line = st->seen[K_MAX_REQUEST_LINE];
		if (st->seen[K_MAX_HEADER_SIZE] > line)
			line = st->seen[K_MAX_HEADER_SIZE];
		errorf(st, line, "max_request_line (%zu) must be smaller "
		    "than max_header_size (%zu)", c->max_request_line,
		    c->max_header_size);
	}
}

static int
online_cpus(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if ((uintmax_t)n > keys[K_WORKERS].max)
		return (int)keys[K_WORKERS].max;
	return (int)n;
}

/*
 * Fill st->cfg with the built-in defaults by running each key's default
 * text through the parser a file would use, so the two cannot disagree.
 */
static int
apply_defaults(struct parse_state *st)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL)
			keys[i].parse(st, &keys[i], keys[i].def);
	st->cfg->workers = online_cpus();
	return st->nerrors == 0 ? 0 : -1;
}

static void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->allow);
	free(c->connect_ports);
	free(c->access_log);
	free(c->error_log);
	free(c->user);
	free(c->resolv_conf);
	free(c->hosts_file);
	free(c);
}

/* A new snapshot with the defaults, or NULL (reported) on ENOMEM. */
static struct config *
config_new(struct parse_state *st)
{
	if ((st->cfg = calloc(1, sizeof(*st->cfg))) == NULL) {
		nomem(st);
		return NULL;
	}
	st->cfg->refcnt = 1;
	if (apply_defaults(st) == -1) {
		config_free(st->cfg);
		st->cfg = NULL;
	}
	return st->cfg;
}

struct config *
config_default(void)
{
	struct parse_state	st;

	memset(&st, 0, sizeof(st));
	st.path = "built-in defaults";
	return config_new(&st);
}

struct config *
config_load(const char *path, FILE *errs)
{
	struct parse_state	 st;
	struct config		*c = NULL;

	memset(&st, 0, sizeof(st));
	st.path = path;
	st.errs = errs;
	if ((st.fp = fopen(path, "r")) == NULL) {
		errorf(&st, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	if (config_new(&st) == NULL)
		goto done;
	if ((st.cfg->path = strdup(path)) == NULL) {
		nomem(&st);
		goto done;
	}
	parse_file(&st);
	validate(&st);
	if (st.nerrors == 0) {
		c = st.cfg;
		st.cfg = NULL;
	}
done:
	config_free(st.cfg);
	free(st.buf);
	if (st.fp != NULL)
		fclose(st.fp);
	return c;
}

struct config *
config_ref(struct config *c)
{
	if (c != NULL)
		__atomic_fetch_add(&c->refcnt, 1, __ATOMIC_RELAXED);
	return c;
}

/* The release/acquire pair makes every user's writes visible to free(). */
void
config_unref(struct config *c)
{
	if (c != NULL &&
	    __atomic_sub_fetch(&c->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}
