/*
 * auth.h - proxy authentication: the users file (user:hash[:groups]),
 * password verification with libxcrypt, Basic credentials, and the
 * users = lists of routes.
 *
 * Owns struct auth_users, which a configuration snapshot holds (so a
 * reload replaces the users with the rules), and struct auth_fails,
 * the failure counts per client address (runtime, in the snapshot too,
 * like the route limiters).
 */
#ifndef PROXYD_AUTH_H
#define PROXYD_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define AUTH_NAME_MAX	256	/* user names and passwords, bytes */

struct auth_user {
	char	 *name;
	char	 *hash;		/* crypt(3) string: $2b$, $2y$, $6$, $y$ */
	char	**groups;
	size_t	  ngroups;
};

struct auth_users {
	struct auth_user	*v;
	size_t			 n;
	/* An unknown user's password is checked against this hash (the
	 * costliest in the file) and refused whatever the result, so
	 * that it costs what a wrong password costs. */
	const char		*dummy;
	uint64_t		 id;	/* random: tells reloads apart */
};

/*
 * Read the users file path.  Every problem is reported to errs as
 * "path:line: what was expected" and counted in *nerrors; NULL when
 * there was any (or the file cannot be read).  Plain text, DES and MD5
 * crypt hashes are refused: only bcrypt, sha512-crypt and yescrypt.
 */
struct auth_users	*auth_users_load(const char *path, FILE *errs,
			    int *nerrors);
void			 auth_users_free(struct auth_users *u);

/* The user named name, or NULL. */
const struct auth_user	*auth_user_find(const struct auth_users *u,
			    const char *name);

/*
 * Does pass match user's hash?  1 or 0.  Slow on purpose (bcrypt:
 * tens of ms): never call it on an event-loop thread (auth_pool.c).
 * An unknown user costs the dummy hash and gets 0.
 */
int	auth_verify(const struct auth_users *u, const char *user,
	    const char *pass);

/*
 * Is user u in the route list names[0..n) ("alice", "@ci")?  A NULL
 * list admits every user.
 */
int	auth_user_listed(const struct auth_user *u, char **names, size_t n);

/*
 * Is the user called name (NULL: none) allowed by the route list
 * names[0..n)?  A user of the file u by name or group; one that only a
 * client certificate names (by_cert, tls_client_ca) by name alone, or
 * also by group when the file has that name too.
 */
int	auth_name_allowed(const struct auth_users *u, const char *name,
	    int by_cert, char **names, size_t n);

/*
 * Decode "Basic base64(user:pass)" in value[0..len) into user and pass
 * (NUL-terminated, at most AUTH_NAME_MAX - 1 bytes each).  0, or -1
 * when it is not Basic credentials.
 */
int	auth_basic_decode(const char *value, size_t len, char *user,
	    char *pass);

struct config;
struct route;

/*
 * --explain: the route's users = list, and with user (may be NULL)
 * whether a request of that user would pass (or get 403, or 407 as an
 * unknown user).
 */
void	auth_explain(FILE *out, const struct config *cfg,
	    const struct route *r, const char *user);

/*
 * Failures per client address: auth_fails_blocked() says whether addr
 * is refused now (429) and for how many more seconds; auth_fail()
 * counts a failure (limit within window_ms blocks for window_ms).
 * Thread-safe (a mutex: only failures and unverified requests come
 * here, never a cached success).
 */
struct auth_fails	*auth_fails_new(int limit, int window_ms);
void			 auth_fails_free(struct auth_fails *f);
int	auth_fails_blocked(struct auth_fails *f, const struct sockaddr *addr,
	    int64_t now, int *retry_after);
void	auth_fail(struct auth_fails *f, const struct sockaddr *addr,
	    int64_t now);

#endif /* PROXYD_AUTH_H */
