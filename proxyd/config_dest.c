/*
 * config_dest.c - the rules file's destination policy keys:
 * deny_destinations and allow_destinations (class words and CIDRs, into
 * a struct dest_list), policy_mode ([proxyd]) and action ([route]).
 * What they mean at run time is destpolicy.c's.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config_parse.h"

/* The class words, and the classes each stands for. */
static const struct {
	const char	*word;
	unsigned	 classes;
} dest_words[] = {
	{ "private",	ADDR_PRIVATE },
	{ "loopback",	ADDR_LOOPBACK },
	/* Link-local takes the metadata addresses (fd00:ec2::254 is not
	 * link-local by its prefix) so that the word says what users mean. */
	{ "link-local",	ADDR_LINKLOCAL | ADDR_METADATA },
	{ "cgnat",	ADDR_CGNAT },
};

void
cfg_dest_free(struct dest_list *d)
{
	free(d->cidrs);
	d->cidrs = NULL;
	d->ncidrs = 0;
	d->classes = 0;
}

/* One item, s[0..len): a class word or a CIDR, added to d. */
static void
dest_item(struct parse_state *st, const struct key *k, struct dest_list *d,
    const char *s, size_t len)
{
	struct cidr	 c, *nc;
	size_t		 i;

	for (i = 0; i < sizeof(dest_words) / sizeof(dest_words[0]); i++) {
		if (strlen(dest_words[i].word) == len &&
		    strncasecmp(dest_words[i].word, s, len) == 0) {
			d->classes |= dest_words[i].classes;
			return;
		}
	}
	if (cidr_parse(s, len, &c) == -1) {
		cfg_bad_value(st, k, s, len);
		return;
	}
	if ((nc = reallocarray(d->cidrs, d->ncidrs + 1, sizeof(*nc))) ==
	    NULL) {
		cfg_nomem(st);
		return;
	}
	nc[d->ncidrs++] = c;
	d->cidrs = nc;
}

/*
 * deny_destinations / allow_destinations: a comma-separated list; the
 * key's first line replaces what was there, indented lines add to it.
 */
void
cfg_parse_dest(struct parse_state *st, const struct key *k, const char *v)
{
	struct dest_list	*d = cfg_field(st, k);
	const char		*end = v + strlen(v), *item, *comma;
	size_t			 len;

	if (!st->cont)
		cfg_dest_free(d);
	while (v < end) {
		comma = memchr(v, ',', (size_t)(end - v));
		item = v;
		len = cfg_trim(&item, comma ? comma : end);
		if (len > 0)
			dest_item(st, k, d, item, len);
		v = comma ? comma + 1 : end;
	}
}

/*
 * policy_mode = enforce | audit, action = enforce | report: an int, 1
 * for the audit mode.  ("deny" is taken for action too: it reads as
 * the opposite of report.)
 */
void
cfg_parse_policy_mode(struct parse_state *st, const struct key *k,
    const char *v)
{
	int	*audit = cfg_field(st, k);
	size_t	 len = strlen(v);

	if (strcasecmp(v, "enforce") == 0 || (k->name[0] == 'a' &&
	    strcasecmp(v, "deny") == 0))
		*audit = 0;
	else if (strcasecmp(v, k->name[0] == 'a' ? "report" : "audit") == 0)
		*audit = 1;
	else
		cfg_bad_value(st, k, v, len);
}
