/*
 * config_read.c - reading a rules file: lines, sections and keys, "$VAR"
 * values, and every "file:line: what was expected" message.
 *
 * The file is INI, and inih splits its "key = value" lines.  Debian's
 * inih does not pass line numbers to the handler, remembers only the
 * first bad line, truncates lines at 200 bytes and knows no inline '#'
 * comments, so the file goes through our own line reader (read_line),
 * which owns every line: it counts lines, removes comments, rejects what
 * inih could not take whole, opens sections and hands indented lines to
 * the key they continue.  Only a key line is passed on to inih, which
 * splits it and calls key_cb() before it asks for the next line, so
 * st->lineno is always the key's line; every other line reaches inih
 * blank.  Each line is thus handled once, in one place.
 *
 * What is accepted:
 *	[proxyd]		the daemon's keys (cfg_keys[])
 *	[route NAME]		a route (cfg_route_keys[]); NAME is letters,
 *				digits, '-', '_' and '.', unique in the file
 *	key = value		or "key: value"; each key at most once
 *	; or # comment		on a line of its own, or after whitespace
 *	  indented line		continues the list above it (listen, allow,
 *				connect_ports; hosts, modules, methods, ports,
 *				clients, upstream, via); an error for other
 *				keys
 *	key = $NAME		in a route, or ${NAME}: the environment
 *				variable's value; unset means empty, with a
 *				warning that is not an error
 *	key = ${NAME:-DEF}	NAME's value, or DEF where NAME is unset or
 *				empty (DEF may be $OTHER): no warning
 * Keys a file leaves out keep their built-in defaults.  [proxyd] may
 * appear more than once; its keys still only once.
 *
 * The reader relies on inih's default settings (as Debian builds it);
 * nothing in proxyd changes inih's globals.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Never define INI_HANDLER_LINENO: the library is built without it. */
#include <ini.h>

#include "config_parse.h"

static void	vreport(struct parse_state *, int, const char *, const char *,
		    va_list) __attribute__((format(printf, 4, 0)));
static void	warnf(struct parse_state *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Print "path:line: " (or "path: " for line 0), prefix and the message. */
static void
vreport(struct parse_state *st, int line, const char *prefix,
    const char *fmt, va_list ap)
{
	if (st->errs == NULL)
		return;
	if (line > 0)
		fprintf(st->errs, "%s:%d: %s", st->path, line, prefix);
	else
		fprintf(st->errs, "%s: %s", st->path, prefix);
	vfprintf(st->errs, fmt, ap);
	fputc('\n', st->errs);
}

void
cfg_error(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list	ap;

	st->nerrors++;
	va_start(ap, fmt);
	vreport(st, line, "", fmt, ap);
	va_end(ap);
}

/* Report "path:line: warning: message", which does not fail the load. */
static void
warnf(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreport(st, line, "warning: ", fmt, ap);
	va_end(ap);
}

void
cfg_nomem(struct parse_state *st)
{
	cfg_error(st, st->lineno, "out of memory");
}

void
cfg_bad_value(struct parse_state *st, const struct key *k, const char *s,
    size_t len)
{
	cfg_error(st, st->lineno, "%s: expected %s, got \"%.*s\"", k->name,
	    k->expect, (int)len, s);
}

/* The row of table[0..n) for key name, or NULL. */
static const struct key *
key_find(const struct key *table, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

#define ENV_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"abcdefghijklmnopqrstuvwxyz0123456789_"

/* The variable name[0..len), or NULL when it is unset. */
static const char *
env_get(const char *name, size_t len)
{
	char	buf[INI_MAX_LINE];

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return getenv(buf);
}

/* The length of the variable name s starts with (not a digit), or 0. */
static size_t
env_name_len(const char *s)
{
	return isdigit((unsigned char)*s) ? 0 : strspn(s, ENV_NAME_CHARS);
}

/* If v is exactly $NAME or ${NAME}: NAME's length, *name at it; else 0. */
static size_t
env_ref(const char *v, const char **name)
{
	int	braces;
	size_t	len;

	if (v[0] != '$')
		return 0;
	braces = v[1] == '{';
	*name = v + 1 + braces;
	len = env_name_len(*name);
	if (len == 0 || strcmp(*name + len, braces ? "}" : "") != 0)
		return 0;
	return len;
}

/*
 * ${NAME:-DEFAULT}, as the shell has it: NAME's value where it is set
 * and not empty, else DEFAULT, which is text or itself $OTHER / ${OTHER}
 * (an unset OTHER is empty).  No warning: the default says what an
 * unset NAME means.  This is how GONOPROXY falls back on GOPRIVATE:
 * "modules = ${GONOPROXY:-$GOPRIVATE}".  v itself when it is not of
 * that form; DEFAULT text is copied to out[0..outsize).
 */
static const char *
env_default(const char *v, char *out, size_t outsize)
{
	const char	*def, *val, *name;
	size_t		 len, dlen;

	if (strncmp(v, "${", 2) != 0 || (len = env_name_len(v + 2)) == 0 ||
	    strncmp(v + 2 + len, ":-", 2) != 0)
		return v;
	def = v + 4 + len;
	dlen = strlen(def);
	if (dlen == 0 || def[dlen - 1] != '}' || dlen > outsize)
		return v;
	if ((val = env_get(v + 2, len)) != NULL && val[0] != '\0')
		return val;
	memcpy(out, def, dlen - 1);
	out[dlen - 1] = '\0';
	if ((len = env_ref(out, &name)) != 0)
		return (val = env_get(name, len)) != NULL ? val : "";
	return out;
}

/*
 * A route value that is exactly $NAME or ${NAME} is the environment
 * variable's value; an unset one is empty, with a warning, so that
 * "hosts = $NO_PROXY" is an empty list where NO_PROXY is unset.
 * ${NAME:-DEFAULT} is env_default()'s.  Any other value is itself.
 */
static const char *
env_value(struct parse_state *st, const char *v, char *out, size_t outsize)
{
	const char	*name, *val;
	size_t		 len;

	if ((len = env_ref(v, &name)) == 0)
		return env_default(v, out, outsize);
	if ((val = env_get(name, len)) == NULL) {
		warnf(st, st->lineno, "$%.*s is not set", (int)len, name);
		return "";
	}
	return val;
}

/* Hand a key's value, or a continuation line of it, to its parser. */
static void
run_parser(struct parse_state *st, const struct key *k, const char *value)
{
	const char	*v = value;
	char		 buf[INI_MAX_LINE];

	if (st->section == SEC_ROUTE) {
		v = env_value(st, value, buf, sizeof(buf));
		st->route_env |= v != value;
	}
	k->parse(st, k, v);
}

/*
 * A "key = value" line.  Whatever happens, indented lines now continue
 * a key; st->prev says whether we care about them.
 */
static void
set_key(struct parse_state *st, const char *name, const char *value)
{
	const struct key	*k;
	int			 first;

	st->after_key = 1;
	st->prev = NULL;
	if (st->section == SEC_NONE) {
		cfg_error(st, st->lineno, "key \"%s\" is outside any section; "
		    "put it under [proxyd]", name);
		return;
	}
	if (st->section == SEC_OTHER)
		return;
	if ((k = key_find(st->keys, st->nkeys, name)) == NULL) {
		if (st->section == SEC_ROUTE)
			cfg_error(st, st->lineno, "unknown key \"%s\" in "
			    "[route %s]", name,
			    ((struct route *)st->base)->name);
		else
			cfg_error(st, st->lineno, "unknown key \"%s\"", name);
		return;
	}
	if ((first = st->kseen[k - st->keys]) != 0) {
		cfg_error(st, st->lineno, "duplicate key \"%s\" (first set at "
		    "line %d)", name, first);
		return;
	}
	st->kseen[k - st->keys] = st->lineno;
	st->prev = k;
	st->cont = 0;
	run_parser(st, k, value);
}

/*
 * An indented line after a key: more of that key's value.  Only lists
 * go on; an indented key or header is almost certainly indentation by
 * mistake, so say that rather than "bad value".
 */
static void
continue_key(struct parse_state *st, const char *value)
{
	const struct key	*k = st->prev;

	if (k == NULL)
		return;
	if (strchr(value, '=') != NULL || value[0] == '[') {
		cfg_error(st, st->lineno, "indented line continues \"%s\"; "
		    "remove the indentation if it starts a new key or section",
		    k->name);
		return;
	}
	if (!k->list) {
		cfg_error(st, st->lineno, "indented line continues \"%s\", "
		    "which takes a single value", k->name);
		return;
	}
	st->cont = 1;
	run_parser(st, k, value);
}

/*
 * inih's handler, called for the key line read_line() just passed on.
 * It always returns 1: we report errors ourselves, and a 0 would only
 * make inih remember the line of the first one.
 */
static int
key_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state	*st = user;

	(void)section;		/* inih never sees a header: always "" */
	st->key_pending = 0;
	set_key(st, name, value);
	return 1;
}

void
cfg_enter_section(struct parse_state *st, enum section sec, void *base)
{
	st->section = sec;
	st->base = base;
	st->keys = NULL;
	st->nkeys = 0;
	st->kseen = NULL;
	if (sec == SEC_PROXYD) {
		st->keys = cfg_keys;
		st->nkeys = NKEYS;
		st->kseen = st->seen;
	} else if (sec == SEC_ROUTE) {
		st->keys = cfg_route_keys;
		st->nkeys = NROUTEKEYS;
		st->kseen = st->rseen;
		memset(st->rseen, 0, sizeof(st->rseen));
		st->route_env = 0;
	}
}

/*
 * A "[name]" line (p points at the '['): check it and make it the
 * current section.  A header without its ']' changes nothing, not even
 * which key indented lines continue.
 */
static void
open_section(struct parse_state *st, const char *p)
{
	const char	*name = p + 1, *end;
	size_t		 len;

	if ((end = strchr(name, ']')) == NULL) {
		cfg_error(st, st->lineno, "syntax error: missing \"]\"");
		return;
	}
	if (end[1 + strspn(end + 1, " \t\r\v\f")] != '\0')
		cfg_error(st, st->lineno, "syntax error: text after \"]\"");
	len = cfg_trim(&name, end);

	st->after_key = 0;
	st->prev = NULL;
	cfg_route_close(st);
	cfg_enter_section(st, SEC_OTHER, NULL);
	if (len == 6 && strncmp(name, "proxyd", len) == 0)
		cfg_enter_section(st, SEC_PROXYD, st->cfg);
	else if (len >= 5 && strncmp(name, "route", 5) == 0 &&
	    (len == 5 || isspace((unsigned char)name[5])))
		cfg_route_open(st, name + 5, len - 5);
	else
		cfg_error(st, st->lineno, "unknown section [%.*s]", (int)len,
		    name);
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
 * The next line of st->fp, counted, without a UTF-8 BOM, comments or
 * trailing white space.  A line inih could not take whole (longer than
 * max, or holding a NUL) is reported and made blank.  NULL at the end of
 * the file or on a read error, which st->read_errno keeps.
 */
static char *
next_line(struct parse_state *st, int max)
{
	char	*line;
	ssize_t	 n;

	if ((n = getline(&st->buf, &st->bufsize, st->fp)) == -1) {
		st->read_errno = errno;
		return NULL;
	}
	st->lineno++;
	line = st->buf;
	if (st->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	if (strlen(st->buf) != (size_t)n) {
		cfg_error(st, st->lineno, "line contains a NUL byte");
		*line = '\0';
	}
	strip_comment(line);
	if (strlen(line) > (size_t)max) {
		cfg_error(st, st->lineno, "line is longer than %d characters",
		    max);
		*line = '\0';
	}
	return line;
}

/* A key line inih did not hand to key_cb() had no '=' or ':'. */
static void
check_key_taken(struct parse_state *st)
{
	if (st->key_pending)
		cfg_error(st, st->lineno, "syntax error: expected key = value");
	st->key_pending = 0;
}

/*
 * inih's reader: handle the next line of st->fp, and give inih (in
 * str[0..num)) only what is left for it, the splitting of a key line.
 * An indented line after a key continues it, even if it looks like a
 * header; the key line goes without its indentation, so that inih, which
 * never sees a header, cannot take it for a continuation of its own.
 */
static char *
read_line(char *str, int num, void *arg)
{
	struct parse_state	*st = arg;
	char			*line, *p;

	check_key_taken(st);
	/* Room for inih's "\n" and the NUL. */
	if ((line = next_line(st, num - 2)) == NULL)
		return NULL;
	for (p = line; isspace((unsigned char)*p); p++)
		continue;
	if (*p != '\0' && p > line && st->after_key)
		continue_key(st, p);
	else if (*p == '[')
		open_section(st, p);
	else if (*p != '\0') {
		st->key_pending = 1;
		snprintf(str, (size_t)num, "%s\n", p);
		return str;
	}
	snprintf(str, (size_t)num, "\n");
	return str;
}

void
cfg_read_file(struct parse_state *st)
{
	int	r;

	r = ini_parse_stream(read_line, st, key_cb, st);
	check_key_taken(st);
	cfg_route_close(st);
	if (ferror(st->fp))
		cfg_error(st, 0, "read error: %s", strerror(st->read_errno));
	else if (r == -2)
		cfg_error(st, 0, "out of memory");
	else if (r > 0 && st->nerrors == 0)
		/* inih refused a line the reader took for a key line; never
		 * load a file with an error nobody reported. */
		cfg_error(st, r, "syntax error");
}
