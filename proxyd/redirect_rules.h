/*
 * redirect_rules.h - `proxyd --redirect-rules`: the iptables rules
 * (nat OUTPUT chain) that send a pod's or host's outbound TCP to a
 * transparent listener, printed, applied or removed.
 */
#ifndef PROXYD_REDIRECT_RULES_H
#define PROXYD_REDIRECT_RULES_H

#include <stdio.h>
#include <sys/types.h>

#include "config.h"

#define RR_COMMENT	"proxyd"	/* on every rule: what --remove takes */
#define RR_MAX_EXCLUDE	32
#define RR_MAX_ARGS	24

enum rr_action { RR_PRINT, RR_APPLY, RR_REMOVE };

/* The command line's words, NULL where not given. */
struct rr_args {
	const char	*uid;
	const char	*port;
	const char	*ports;
	const char	*exclude;
	enum rr_action	 action;
};

struct rr_opts {
	uid_t		 uid;		/* proxyd's: its traffic is left alone */
	unsigned	 port;		/* the transparent listener's */
	char		 ports[128];	/* "80,443": what is redirected */
	struct cidr	 exclude[RR_MAX_EXCLUDE + 1];	/* + loopback */
	size_t		 nexclude;
	int		 v4, v6;	/* iptables, ip6tables */
};

/*
 * The options from the words and the config (defaults: uid the config's
 * user, else ours; port the first transparent listener's; ports 80,443;
 * loopback excluded).  0, or -1 with "--opt: what was expected" on err.
 */
int	rr_options(const struct config *cfg, const struct rr_args *a,
	    struct rr_opts *o, FILE *err);

/*
 * Rule i (from 0) of family v6 as an argv (NULL-terminated, strings in
 * buf[0..size)) that appends it: "iptables -t nat -A OUTPUT ...".
 * Returns 0, or -1 past the last rule.
 */
int	rr_rule(const struct rr_opts *o, int v6, size_t i, char **argv,
	    char *buf, size_t size);

/*
 * A line of `iptables -t nat -S OUTPUT` as the argv that deletes it
 * ("iptables -t nat -D OUTPUT ..."), when it carries the proxyd comment
 * and nothing quoted; words point into line, which is modified.
 * Returns the number of words, or 0 when the line is not ours.
 */
int	rr_delete_argv(char *line, const char *cmd, char **argv, int max);

/* The whole command: print, apply or remove.  The exit status. */
int	redirect_rules_main(const struct config *cfg, const struct rr_args *a,
	    FILE *out, FILE *err);

#endif /* PROXYD_REDIRECT_RULES_H */
