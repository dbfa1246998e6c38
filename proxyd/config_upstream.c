/*
 * config_upstream.c - the grammar of "upstream" and "via" lists:
 *
 *	direct | deny | off		(off: GOPROXY's word for deny)
 *	http [user:pass@]HOST:PORT	socks5 [user:pass@]HOST:PORT
 *	mirror http[s]://[user:pass@]HOST[:PORT][/PATH]
 *
 * separated by ',' or '|', recorded on the item before (as in GOPROXY,
 * a mirror falls back to the next after ',' only on 404/410, after '|'
 * on any error), over as many lines as it takes.  Credentials are
 * percent-decoded and never quoted in a message or a label.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config_parse.h"

/* An item is "KIND" or "KIND ARGUMENT". */
struct upstream_kind;

typedef int	upstream_fn(struct parse_state *, const struct key *,
		    const struct upstream_kind *, const char *,
		    struct upstream_conf *);

struct upstream_kind {
	const char		*name;
	enum upstream_type	 type;
	upstream_fn		*parse;		/* NULL: takes no argument */
	const char		*expect;
};

static upstream_fn	parse_proxy, parse_mirror;

static const struct upstream_kind upstream_kinds[] = {
	{ "direct", UPSTREAM_DIRECT, NULL, NULL },
	{ "deny", UPSTREAM_DENY, NULL, NULL },
	/* GOPROXY=off: the same, so that a GOPROXY value can be pasted. */
	{ "off", UPSTREAM_DENY, NULL, NULL },
	{ "http", UPSTREAM_HTTP, parse_proxy, "[user:pass@]HOST:PORT" },
	{ "socks5", UPSTREAM_SOCKS5, parse_proxy, "[user:pass@]HOST:PORT" },
	{ "mirror", UPSTREAM_MIRROR, parse_mirror,
	    "an http:// or https:// URL" },
	{ NULL, 0, NULL, NULL }
};

/*
 * Is s[0..len) a host name or IPv4 address?  Letters, digits, '.', '-'
 * and '_', not starting with '.' or '-'; all digits and dots must be an
 * IPv4 address.
 */
static int
host_name_ok(const char *s, size_t len)
{
	static const char	 digits[] = "0123456789.";
	size_t			 i;

	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '_')
			return 0;
	for (i = 0; i < len && strchr(digits, s[i]) != NULL; i++)
		continue;
	return i < len || addr_ip_literal(s, len, NULL) == AF_INET;
}

/*
 * Split s[0..len) as HOST:PORT, HOST a name, IPv4 address or [IPv6]; the
 * port may be left out when defport is not 0.  -1 if it is not that.
 */
static int
split_hostport(const char *s, size_t len, uint16_t defport,
    struct addr_hostport *hp)
{
	if (addr_split(s, len, defport, hp) == -1)
		return -1;
	return hp->bracketed || host_name_ok(hp->host, hp->hostlen) ? 0 : -1;
}

/* Decode the %XX escapes of s in place.  -1 if one is bad or a NUL. */
static int
pct_decode(char *s)
{
	char	*w = s;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		/* s[1] is NUL at the end: no value, so s[2] is not read. */
		if ((hi = addr_hex_value((unsigned char)s[1])) == -1 ||
		    (lo = addr_hex_value((unsigned char)s[2])) == -1)
			return -1;
		if ((*w++ = (char)(hi << 4 | lo)) == '\0')
			return -1;
		s += 2;
	}
	*w = '\0';
	return 0;
}

/*
 * "user:password" in s[0..len), percent-decoded as in a URL (so that
 * ',', '|', '@' and the like can be written), into u->user and u->pass.
 */
static int
parse_userinfo(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *s, size_t len,
    struct upstream_conf *u)
{
	const char	*colon = memchr(s, ':', len);

	if (colon == NULL || colon == s)
		goto bad;
	if ((u->user = strndup(s, (size_t)(colon - s))) == NULL ||
	    (u->pass = strndup(colon + 1, len - (size_t)(colon - s) - 1)) ==
	    NULL) {
		cfg_nomem(st);
		return -1;
	}
	if (pct_decode(u->user) == -1 || pct_decode(u->pass) == -1 ||
	    u->user[0] == '\0')
		goto bad;
	if (u->type == UPSTREAM_SOCKS5 &&
	    (strlen(u->user) > 255 || strlen(u->pass) > 255)) {
		cfg_error(st, st->lineno, "%s: socks5: user name and password "
		    "may have 255 bytes at most", k->name);
		return -1;
	}
	return 0;
bad:
	cfg_error(st, st->lineno, "%s: %s: expected user:password before \"@\"",
	    k->name, kind->name);
	return -1;
}

/* Set u->host and u->port from hp; -1 (reported) on ENOMEM. */
static int
set_hostport(struct parse_state *st, const struct addr_hostport *hp,
    struct upstream_conf *u)
{
	if ((u->host = strndup(hp->host, hp->hostlen)) == NULL) {
		cfg_nomem(st);
		return -1;
	}
	u->port = hp->port;
	return 0;
}

/* http and socks5: "[user:pass@]HOST:PORT"; the password may hold '@'. */
static int
parse_proxy(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    struct upstream_conf *u)
{
	const char		*at = strrchr(arg, '@');
	const char		*hps = at != NULL ? at + 1 : arg;
	struct addr_hostport	 hp;
	int			 n;

	if (at != NULL && parse_userinfo(st, k, kind, arg,
	    (size_t)(at - arg), u) == -1)
		return -1;
	if (split_hostport(hps, strlen(hps), 0, &hp) == -1) {
		cfg_error(st, st->lineno, "%s: %s: expected %s, got \"%s\"",
		    k->name, kind->name, kind->expect, hps);
		return -1;
	}
	if (set_hostport(st, &hp, u) == -1)
		return -1;
	n = snprintf(u->label, sizeof(u->label), "%s ", kind->name);
	addr_format(u->label + n, sizeof(u->label) - (size_t)n, u->host,
	    u->port, 0);
	return 0;
}

/*
 * mirror: an http:// or https:// base URL, optionally with user:pass@
 * (taken out into user and pass).  url is the URL without credentials
 * or trailing slashes; host and port are its server's, 80 or 443 unless
 * it names one.
 */
static int
parse_mirror(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    struct upstream_conf *u)
{
	static const struct {
		const char	*scheme;
		uint16_t	 port;
	} schemes[] = { { "http://", 80 }, { "https://", 443 } };
	const char	*auth, *hps, *path, *at;
	size_t		 i, n, pathlen;
	struct addr_hostport	 hp;

	for (i = 0; i < 2; i++)
		if (strncasecmp(arg, schemes[i].scheme,
		    strlen(schemes[i].scheme)) == 0)
			break;
	if (i == 2 || arg[strcspn(arg, "?# \t")] != '\0')
		goto bad;
	auth = arg + strlen(schemes[i].scheme);
	path = auth + strcspn(auth, "/");
	at = memrchr(auth, '@', (size_t)(path - auth));
	if (at != NULL && parse_userinfo(st, k, kind, auth,
	    (size_t)(at - auth), u) == -1)
		return -1;
	hps = at != NULL ? at + 1 : auth;
	if (split_hostport(hps, (size_t)(path - hps), schemes[i].port,
	    &hp) == -1)
		goto bad;
	for (pathlen = strlen(path); pathlen > 0 && path[pathlen - 1] == '/';
	    pathlen--)
		continue;
	n = strlen(schemes[i].scheme) + (size_t)(path - hps) + pathlen;
	if (n + strlen("mirror ") >= sizeof(u->label)) {
		cfg_error(st, st->lineno, "%s: mirror: URL longer than %zu "
		    "characters", k->name, sizeof(u->label) - 8);
		return -1;
	}
	if (asprintf(&u->url, "%s%.*s%.*s", schemes[i].scheme,
	    (int)(path - hps), hps, (int)pathlen, path) == -1) {
		u->url = NULL;
		cfg_nomem(st);
		return -1;
	}
	snprintf(u->label, sizeof(u->label), "mirror %s", u->url);
	return set_hostport(st, &hp, u);
bad:
	if (strchr(arg, '@') != NULL)
		cfg_error(st, st->lineno, "%s: mirror: expected %s", k->name,
		    kind->expect);
	else
		cfg_error(st, st->lineno, "%s: mirror: expected %s, got \"%s\"",
		    k->name, kind->expect, arg);
	return -1;
}

static void
upstream_conf_free(struct upstream_conf *u)
{
	free(u->host);
	free(u->user);
	if (u->pass != NULL)
		explicit_bzero(u->pass, strlen(u->pass));
	free(u->pass);
	free(u->url);
	free(u->health);
	memset(u, 0, sizeof(*u));
}

void
cfg_upstreams_free(struct upstream_conf *us, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		upstream_conf_free(&us[i]);
	*n = 0;
}

/*
 * May an upstream of kind, with arg, follow the n in us?  "deny" (or
 * "off") goes alone, and the array has room for k->max.
 */
static int
upstream_check(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    const struct upstream_conf *us, size_t n)
{
	if (k == &cfg_route_keys[R_VIA] && kind->type != UPSTREAM_HTTP &&
	    kind->type != UPSTREAM_SOCKS5)
		cfg_error(st, st->lineno, "%s: only http and socks5 parents "
		    "can lead to mirrors, not %s", k->name, kind->name);
	else if (kind->parse == NULL && *arg != '\0')
		cfg_error(st, st->lineno, "%s: %s takes no argument", k->name,
		    kind->name);
	else if (n > 0 && (kind->type == UPSTREAM_DENY ||
	    us[0].type == UPSTREAM_DENY))
		cfg_error(st, st->lineno, "%s: %s must be the only upstream",
		    k->name, kind->type == UPSTREAM_DENY ? kind->name :
		    us[0].label);
	else if (n == k->max)
		cfg_error(st, st->lineno, "%s: more than %ju upstreams",
		    k->name, k->max);
	else
		return 0;
	return -1;
}

/* Fill u, a zeroed upstream of kind, from arg. */
static int
upstream_fill(struct parse_state *st, const struct key *k,
    const struct upstream_kind *kind, const char *arg,
    struct upstream_conf *u)
{
	u->type = kind->type;
	if (kind->parse == NULL)
		snprintf(u->label, sizeof(u->label), "%s", kind->name);
	else if (kind->parse(st, k, kind, arg, u) == -1)
		return -1;
	if ((u->health = calloc(1, sizeof(*u->health))) == NULL) {
		cfg_nomem(st);
		return -1;
	}
	return 0;
}

/* The state of k's list: "upstream" or "via". */
static struct up_list *
up_list(struct parse_state *st, const struct key *k)
{
	return k == &cfg_route_keys[R_VIA] ? &st->via : &st->upstream;
}

/*
 * One upstream item, s[0..len), added to the key's array if it is good;
 * l->last_ok says whether it was.
 */
static void
upstream_item(struct parse_state *st, const struct key *k,
    struct up_list *l, const char *s, size_t len)
{
	struct upstream_conf		*us = cfg_field(st, k);
	size_t				*np = cfg_count_field(st, k), wlen;
	const struct upstream_kind	*kind;
	char				*item, *arg;

	l->last_ok = 0;
	if ((item = strndup(s, len)) == NULL) {
		cfg_nomem(st);
		return;
	}
	wlen = strcspn(item, " \t");
	arg = item + wlen + strspn(item + wlen, " \t");
	item[wlen] = '\0';
	for (kind = upstream_kinds; kind->name != NULL; kind++)
		if (strcmp(item, kind->name) == 0)
			break;
	if (kind->name == NULL)
		cfg_bad_value(st, k, item, wlen);
	else if (upstream_check(st, k, kind, arg, us, *np) == 0) {
		if (upstream_fill(st, k, kind, arg, &us[*np]) == 0) {
			(*np)++;
			l->last_ok = 1;
		} else
			upstream_conf_free(&us[*np]);
	}
	free(item);
}

/* A ',' or '|' after an item: record it on the item (if it was good). */
static void
upstream_separator(struct parse_state *st, const struct key *k,
    struct up_list *l, char sep)
{
	struct upstream_conf	*us = cfg_field(st, k);
	size_t			 n = *cfg_count_field(st, k);

	if (l->state != UP_ITEM) {
		cfg_error(st, st->lineno, "%s: expected an upstream before "
		    "\"%c\"", k->name, sep);
		return;
	}
	if (l->last_ok)
		us[n - 1].fallback = sep;
	l->state = UP_SEP;
	l->sep = sep;
	l->sep_line = st->lineno;
}

/*
 * upstream: items separated by ',' or '|', each separator recorded on
 * the item before it.  A line may end with a separator, or the next one
 * start with it; a line break alone separates nothing.
 */
void
cfg_parse_upstream(struct parse_state *st, const struct key *k, const char *v)
{
	struct up_list	*l = up_list(st, k);
	const char	*end;
	size_t		 len;

	if (!st->cont) {
		cfg_upstreams_free(cfg_field(st, k), cfg_count_field(st, k));
		l->state = UP_START;
	}
	for (;;) {
		end = v + strcspn(v, ",|");
		if ((len = cfg_trim(&v, end)) > 0) {
			if (l->state == UP_ITEM)
				cfg_error(st, st->lineno, "%s: expected "
				    "\",\" or \"|\" at the end of the "
				    "previous line", k->name);
			upstream_item(st, k, l, v, len);
			l->state = UP_ITEM;
		}
		if (*end == '\0')
			return;
		upstream_separator(st, k, l, *end);
		v = end + 1;
	}
}

/* Report list l of key k, set on line, if it ends badly. */
static void
list_end(struct parse_state *st, const struct key *k,
    const struct up_list *l, int line)
{
	if (l->state == UP_SEP)
		cfg_error(st, l->sep_line, "%s: expected an upstream after "
		    "\"%c\"", k->name, l->sep);
	else if (l->state == UP_START)
		cfg_error(st, line, "%s: expected at least one upstream",
		    k->name);
}

/*
 * Only the lists this route set: an unset upstream is the default's,
 * and an unset via has no state, or a previous route's.
 */
void
cfg_upstream_list_end(struct parse_state *st)
{
	if (st->rseen[R_UPSTREAM] != 0)
		list_end(st, &cfg_route_keys[R_UPSTREAM], &st->upstream,
		    st->rseen[R_UPSTREAM]);
	if (st->rseen[R_VIA] != 0)
		list_end(st, &cfg_route_keys[R_VIA], &st->via,
		    st->rseen[R_VIA]);
}
