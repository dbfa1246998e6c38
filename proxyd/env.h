/*
 * env.h - `proxyd --env`: the client settings that match the rules
 * (HTTP_PROXY, HTTPS_PROXY, NO_PROXY and their lower-case twins,
 * GOPROXY, GONOPROXY, GOPRIVATE, GONOSUMDB, GOSUMDB), in a form a shell,
 * fish, a dotenv file or GitHub Actions' $GITHUB_ENV takes.
 */
#ifndef PROXYD_ENV_H
#define PROXYD_ENV_H

#include <stdio.h>

#include "config.h"

#define ENV_MAX_VARS	16

struct env_var {
	const char	*name;
	char		*value;		/* owned */
};

struct env_vars {
	struct env_var	 v[ENV_MAX_VARS];
	size_t		 n;
};

enum env_format { ENV_SH, ENV_FISH, ENV_DOTENV, ENV_GITHUB };

/* "sh", "fish", "dotenv" or "github": 0, else -1. */
int	env_format_parse(const char *s, enum env_format *f);

/*
 * The proxy's address as clients should dial it, in buf: the first
 * listen address that is not loopback, else the first one; a wildcard
 * (0.0.0.0, ::) is given as loopback (right for this host and its pod),
 * with a note to warn.  IPv6 in brackets.
 */
void	env_proxy_address(const struct config *cfg, char *buf, size_t len,
	    FILE *warn);

/*
 * Compute the settings from cfg for a proxy at addr ("host:port").
 * Entries that not every client understands, or that the rules make
 * unsafe to bypass the proxy for, are explained on warn.  0, or -1 on
 * ENOMEM; env_vars_free() in both cases.
 */
int	env_compute(const struct config *cfg, const char *addr,
	    struct env_vars *out, FILE *warn);

void	env_vars_free(struct env_vars *vars);

/* Print vars in format f; 0, or -1 on a write error. */
int	env_print(const struct env_vars *vars, enum env_format f, FILE *out);

/* All of it, for main(): 0, 1 on an error (said on warn), 2 bad format. */
int	env_main(const struct config *cfg, const char *format, FILE *out,
	    FILE *warn);

#endif /* PROXYD_ENV_H */
