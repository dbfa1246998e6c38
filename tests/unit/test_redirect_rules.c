/*
 * test_redirect_rules.c - the rules `proxyd --redirect-rules` prints
 * (proxyd/redirect_rules.c), its option errors, and which lines of
 * `iptables -t nat -S OUTPUT` --remove deletes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "redirect_rules.h"
#include "unit.h"

/* A listener, transparent or not, on addr:port. */
static void
add_listen(struct config *c, const char *addr, unsigned port, int tp)
{
	struct listen_addr *la = &c->listen[c->nlisten++];
	struct sockaddr_in *in = (struct sockaddr_in *)&la->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&la->ss;

	memset(la, 0, sizeof(*la));
	la->transparent = tp;
	if (strchr(addr, ':')) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &in->sin_addr);
	}
}

/* All rules, one a line, into out. */
static void
rules_text(const struct rr_opts *o, char *out, size_t size)
{
	char *argv[RR_MAX_ARGS + 1], buf[512];
	size_t i, n = 0;
	int v6, k;

	out[0] = '\0';
	for (v6 = 0; v6 < 2; v6++) {
		if (!(v6 ? o->v6 : o->v4))
			continue;
		for (i = 0; rr_rule(o, v6, i, argv, buf, sizeof(buf)) == 0;
		    i++) {
			for (k = 0; argv[k]; k++)
				n += (size_t)snprintf(out + n, size - n, "%s%s",
				    k ? " " : "", argv[k]);
			n += (size_t)snprintf(out + n, size - n, "\n");
		}
	}
}

static void
test_rules(void)
{
	struct config c;
	struct rr_args a;
	struct rr_opts o;
	char text[4096];

	memset(&c, 0, sizeof(c));
	add_listen(&c, "127.0.0.1", 3128, 0);
	add_listen(&c, "127.0.0.1", 3129, 1);
	memset(&a, 0, sizeof(a));
	a.uid = "1337";
	a.exclude = "10.0.0.0/8,fd00::/8";
	CHECK(rr_options(&c, &a, &o, stderr) == 0, "options");
	rules_text(&o, text, sizeof(text));
	CHECK(strcmp(text,
	    "iptables -t nat -A OUTPUT -p tcp -m owner --uid-owner 1337 "
	    "-m comment --comment proxyd -j RETURN\n"
	    "iptables -t nat -A OUTPUT -p tcp -d 127.0.0.0/8 -m comment "
	    "--comment proxyd -j RETURN\n"
	    "iptables -t nat -A OUTPUT -p tcp -d 10.0.0.0/8 -m comment "
	    "--comment proxyd -j RETURN\n"
	    "iptables -t nat -A OUTPUT -p tcp -m multiport --dports 80,443 "
	    "-m comment --comment proxyd -j REDIRECT --to-ports 3129\n") == 0,
	    "IPv4 only (the listener's family):\n%s", text);

	add_listen(&c, "::1", 3129, 1);
	a.ports = "80,8000:8100";
	a.exclude = NULL;
	CHECK(rr_options(&c, &a, &o, stderr) == 0 && o.v4 && o.v6, "v6 too");
	rules_text(&o, text, sizeof(text));
	CHECK(strstr(text, "ip6tables -t nat -A OUTPUT -p tcp -d ::1/128 "
	    "-m comment --comment proxyd -j RETURN\n") != NULL &&
	    strstr(text, "ip6tables -t nat -A OUTPUT -p tcp -m multiport "
	    "--dports 80,8000:8100 -m comment --comment proxyd -j REDIRECT "
	    "--to-ports 3129\n") != NULL, "v6 rules:\n%s", text);
}

static const struct {
	struct rr_args	 a;
	const char	*err;
} bad[] = {
	{ { "x", NULL, NULL, NULL, RR_PRINT },
	    "proxyd: --uid: expected a user id like 1337, got \"x\"\n" },
	{ { "1", "0", NULL, NULL, RR_PRINT },
	    "proxyd: --port: expected a port like 3129, got \"0\"\n" },
	{ { "1", NULL, NULL, NULL, RR_PRINT },
	    "proxyd: --redirect-rules: the config has no transparent "
	    "listener; give --port\n" },
	{ { "1", "3129", "80;443", NULL, RR_PRINT },
	    "proxyd: --ports: expected ports like 80,443 or 8000:8100, got "
	    "\"80;443\"\n" },
	{ { "1", "3129", NULL, "10.0.0.0/8,nope", RR_PRINT },
	    "proxyd: --exclude: expected at most 30 CIDRs like "
	    "10.0.0.0/8,fd00::/8, got \"nope\"\n" },
};

static void
test_bad(void)
{
	struct config c;
	struct rr_opts o;
	char *text = NULL;
	size_t size = 0, i;
	FILE *err;

	memset(&c, 0, sizeof(c));
	add_listen(&c, "127.0.0.1", 3128, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = open_memstream(&text, &size);
		CHECK(rr_options(&c, &bad[i].a, &o, err) == -1, "bad %zu", i);
		fclose(err);
		CHECK(strcmp(text, bad[i].err) == 0, "bad %zu: %s", i, text);
		free(text);
		text = NULL;
	}
}

static const struct {
	const char	*line;
	const char	*argv;		/* joined; NULL: not ours */
} saved[] = {
	{ "-A OUTPUT -p tcp -m owner --uid-owner 1337 -m comment --comment "
	    "proxyd -j RETURN", "iptables -t nat -D OUTPUT -p tcp -m owner "
	    "--uid-owner 1337 -m comment --comment proxyd -j RETURN" },
	{ "-A OUTPUT -d 127.0.0.0/8 -p tcp -m comment --comment proxyd -j "
	    "RETURN\n", "iptables -t nat -D OUTPUT -d 127.0.0.0/8 -p tcp -m "
	    "comment --comment proxyd -j RETURN" },
	{ "-P OUTPUT ACCEPT", NULL },
	{ "-A OUTPUT -p tcp -m comment --comment proxyd-other -j RETURN",
	    NULL },
	{ "-A OUTPUT -p tcp -m comment --comment \"proxyd x\" -j RETURN",
	    NULL },
	{ "-A OUTPUT -p tcp -m comment --comment other -j RETURN", NULL },
	{ "-A PREROUTING -p tcp -m comment --comment proxyd -j RETURN", NULL },
	{ "-A OUTPUT -j proxyd", NULL },
};

static void
test_delete(void)
{
	char line[256], joined[512], *argv[RR_MAX_ARGS + 1];
	size_t i, n;
	int k, words;

	for (i = 0; i < sizeof(saved) / sizeof(saved[0]); i++) {
		snprintf(line, sizeof(line), "%s", saved[i].line);
		words = rr_delete_argv(line, "iptables", argv, RR_MAX_ARGS);
		if (saved[i].argv == NULL) {
			CHECK(words == 0, "not ours: %s", saved[i].line);
			continue;
		}
		for (k = 0, n = 0, joined[0] = '\0'; k < words; k++)
			n += (size_t)snprintf(joined + n, sizeof(joined) - n,
			    "%s%s", k ? " " : "", argv[k]);
		CHECK(words > 0 && argv[words] == NULL &&
		    strcmp(joined, saved[i].argv) == 0, "delete %zu: %s", i,
		    joined);
	}
}

int
main(void)
{
	test_rules();
	test_bad();
	test_delete();
	return unit_done("test_redirect_rules");
}
