/*
 * test_destpolicy.c - the destination policy's verdicts (destpolicy.c)
 * on configurations loaded from text: built-in denies, proxy loops,
 * deny_destinations and allow_destinations of a route and of [proxyd],
 * audit mode, and the config keys' errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "destpolicy.h"
#include "unit.h"

/* Load text as a rules file; NULL when it does not load. */
static struct config *
load(const char *text, char **msgs)
{
	char	 path[] = "/tmp/test_destpolicy.XXXXXX";
	size_t	 len = 0;
	FILE	*errs;
	struct config *c;
	int	 fd;

	*msgs = NULL;
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	errs = open_memstream(msgs, &len);
	c = config_load(path, errs);
	fclose(errs);
	unlink(path);
	return c;
}

/* The route called name in c. */
static const struct route *
route(const struct config *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].name, name) == 0)
			return &c->routes[i];
	return NULL;
}

/* The verdict of r on "addr:port" text, and its reason must hold want. */
static void
verdict(const struct route *r, const char *where, enum dest_verdict want,
    const char *reason)
{
	char			why[200] = "";
	enum dest_verdict	got;

	got = dest_check_text(r, where, why, sizeof(why));
	CHECK(got == want && (reason == NULL || strstr(why, reason) != NULL),
	    "route %s, %s: got %d \"%s\", want %d \"%s\"", r ? r->name : "-",
	    where, got, why, want, reason ? reason : "");
}

static const char rules[] =
    "[proxyd]\n"
    "listen = 127.0.0.1:39999, [::1]:39998\n"
    "admin_listen = 127.0.0.1:39997\n"
    "deny_destinations = 192.0.2.0/24\n"
    "allow_destinations = 192.0.2.7\n"
    "[route strict]\n"
    "hosts = strict.test\n"
    "deny_destinations = private, loopback,\n"
    "  cgnat\n"
    "allow_destinations = 10.20.0.0/16, 169.254.169.254\n"
    "[route audit]\n"
    "hosts = audit.test\n"
    "deny_destinations = loopback\n"
    "action = report\n"
    "[route open]\n"
    "hosts = *\n";

static void
test_verdicts(void)
{
	const struct route *strict, *audit, *open;
	struct config *c;
	char *msgs;

	c = load(rules, &msgs);
	CHECK(c != NULL, "rules not loaded: %s", msgs ? msgs : "");
	free(msgs);
	if (c == NULL)
		return;
	strict = route(c, "strict");
	audit = route(c, "audit");
	open = route(c, "open");
	CHECK(strict && audit && open, "routes");
	if (!strict || !audit || !open)
		goto out;

	/* Built-in denies, on every route. */
	verdict(open, "169.254.169.254:80", DEST_DENY,
	    "destination 169.254.169.254 is link-local");
	verdict(open, "[::ffff:169.254.169.254]:80", DEST_DENY, "link-local");
	verdict(open, "[fd00:ec2::254]:80", DEST_DENY, "metadata");
	verdict(open, "[fe80::1]:80", DEST_DENY, "link-local");
	verdict(open, "0.0.0.0:80", DEST_DENY, "unspecified");
	verdict(open, "[::]:80", DEST_DENY, "unspecified");
	verdict(open, "239.1.1.1:80", DEST_DENY, "multicast");
	verdict(open, "[ff02::1]:80", DEST_DENY, "multicast");
	verdict(open, "255.255.255.255:80", DEST_DENY, "broadcast");
	verdict(audit, "169.254.1.1:80", DEST_DENY, "link-local");
	/* Allowed by default. */
	verdict(open, "127.0.0.1:80", DEST_ALLOW, NULL);
	verdict(open, "10.1.2.3:80", DEST_ALLOW, NULL);
	verdict(open, "100.64.0.1:80", DEST_ALLOW, NULL);
	verdict(open, "8.8.8.8:443", DEST_ALLOW, NULL);
	verdict(open, "[2001:db8::1]:443", DEST_ALLOW, NULL);
	verdict(open, "not-an-address:80", DEST_ALLOW, NULL);
	verdict(NULL, "169.254.169.254:80", DEST_ALLOW, NULL);
	/* Own listeners, on any local address, even where allowed. */
	verdict(open, "127.0.0.1:39999", DEST_DENY, "own listener");
	verdict(open, "127.0.0.2:39999", DEST_DENY, "own listener");
	verdict(open, "0.0.0.0:39998", DEST_DENY, "own listener");
	verdict(open, "[::1]:39999", DEST_DENY, "own listener");
	verdict(open, "[::ffff:127.0.0.1]:39999", DEST_DENY, "own listener");
	verdict(open, "127.0.0.1:39997", DEST_DENY, "own listener");
	verdict(open, "8.8.8.8:39999", DEST_ALLOW, NULL);
	verdict(audit, "127.0.0.1:39999", DEST_DENY, "own listener");
	/* [proxyd] deny and allow, for every route. */
	verdict(open, "192.0.2.1:80", DEST_DENY,
	    "destination 192.0.2.1 is in 192.0.2.0/24");
	verdict(open, "192.0.2.7:80", DEST_ALLOW, NULL);
	/* The route's words, continuation lines and holes. */
	verdict(strict, "127.0.0.1:80", DEST_DENY, "is loopback");
	verdict(strict, "10.1.2.3:80", DEST_DENY, "is private");
	verdict(strict, "[fd12::1]:80", DEST_DENY, "is private");
	verdict(strict, "100.64.0.1:80", DEST_DENY, "is cgnat");
	verdict(strict, "100.128.0.1:80", DEST_ALLOW, NULL);
	verdict(strict, "10.20.1.1:80", DEST_ALLOW, NULL);
	verdict(strict, "169.254.169.254:80", DEST_ALLOW, NULL);
	verdict(strict, "192.0.2.1:80", DEST_DENY, "192.0.2.0/24");
	/* Audit: deny_destinations would deny, built-ins still deny. */
	verdict(audit, "127.0.0.1:80", DEST_WOULD_DENY, "is loopback");
	verdict(audit, "192.0.2.1:80", DEST_WOULD_DENY, "192.0.2.0/24");
out:
	config_unref(c);
}

/* text must not load, and say want. */
static void
bad(const char *text, const char *want)
{
	struct config *c;
	char *msgs;

	c = load(text, &msgs);
	CHECK(c == NULL && msgs && strstr(msgs, want) != NULL,
	    "want \"%s\", got: %s", want, msgs ? msgs : "");
	free(msgs);
	if (c)
		config_unref(c);
}

static void
test_bad_values(void)
{
	bad("[proxyd]\ndeny_destinations = privat\n",
	    ":2: deny_destinations: expected private, loopback, link-local, "
	    "cgnat or a CIDR like 100.64.0.0/10, got \"privat\"");
	bad("[proxyd]\nallow_destinations = 10.0.0.0/33\n",
	    ":2: allow_destinations: expected");
	bad("[proxyd]\npolicy_mode = report\n",
	    ":2: policy_mode: expected enforce or audit, got \"report\"");
	bad("[route r]\naction = audit\n",
	    ":2: action: expected enforce or report, got \"audit\"");
}

int
main(void)
{
	test_verdicts();
	test_bad_values();
	return unit_done("test_destpolicy");
}
