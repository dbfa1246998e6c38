/*
 * auth.c - the users file, password checks and Basic credentials.
 *
 * Hashes are what htpasswd -B and /etc/shadow hold, checked with
 * libxcrypt's crypt_r(): bcrypt ($2b$, $2y$), sha512-crypt ($6$) and
 * yescrypt ($y$).  Plain text, DES and MD5 crypt are refused at load:
 * they fall to a GPU in hours, and a gateway's file is worth stealing.
 */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "auth.h"
#include "config.h"

#define FAILS_SLOTS	1024	/* client addresses tracked at most */

static void
user_free(struct auth_user *a)
{
	size_t	i;

	for (i = 0; i < a->ngroups; i++)
		free(a->groups[i]);
	free(a->groups);
	free(a->name);
	free(a->hash);
}

void
auth_users_free(struct auth_users *u)
{
	size_t	i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++)
		user_free(&u->v[i]);
	free(u->v);
	free(u);
}

/*
 * How costly a hash is to check, to choose the dummy: bcrypt by its
 * cost, above yescrypt (Debian's default cost), above sha512-crypt by
 * its rounds.  -1: a scheme we refuse.
 */
static long
hash_cost(const char *h)
{
	const char	*r;

	if (strncmp(h, "$2b$", 4) == 0 || strncmp(h, "$2y$", 4) == 0)
		return 1000000 + strtol(h + 4, NULL, 10);
	if (strncmp(h, "$y$", 3) == 0)
		return 500000;
	if (strncmp(h, "$6$", 3) == 0) {
		r = strstr(h, "rounds=");
		return r ? strtol(r + 7, NULL, 10) : 5000;
	}
	return -1;
}

/* Split "a,b,c" into the user's groups; -1 on ENOMEM. */
static int
user_groups(struct auth_user *a, char *s)
{
	char	*g, *save = NULL, **v;

	for (g = strtok_r(s, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*g))
			g++;
		if (*g == '\0')
			continue;
		if ((v = reallocarray(a->groups, a->ngroups + 1,
		    sizeof(*v))) == NULL)
			return -1;
		a->groups = v;
		if ((v[a->ngroups] = strdup(g)) == NULL)
			return -1;
		a->ngroups++;
	}
	return 0;
}

/* One "user:hash[:groups]" line into a; the problem, or NULL. */
static const char *
user_parse(struct auth_user *a, char *line)
{
	char	*hash, *groups;

	memset(a, 0, sizeof(*a));
	if ((hash = strchr(line, ':')) == NULL || hash == line)
		return "expected user:hash[:group,group]";
	*hash++ = '\0';
	if ((groups = strchr(hash, ':')) != NULL)
		*groups++ = '\0';
	if (strlen(line) >= AUTH_NAME_MAX)
		return "user name too long";
	if (strncmp(hash, "$1$", 3) == 0 || strncmp(hash, "$apr1$", 6) == 0)
		return "MD5 crypt hash refused: expected bcrypt "
		    "(htpasswd -B -C 10), sha512-crypt ($6$) or yescrypt ($y$)";
	if (hash_cost(hash) < 0 || crypt_checksalt(hash) != CRYPT_SALT_OK)
		return "expected a bcrypt ($2y$, $2b$: htpasswd -B -C 10), "
		    "sha512-crypt ($6$) or yescrypt ($y$) hash, not plain "
		    "text, DES or MD5";
	if ((a->name = strdup(line)) == NULL ||
	    (a->hash = strdup(hash)) == NULL ||
	    (groups && user_groups(a, groups) == -1))
		return "out of memory";
	return NULL;
}

/* Read the lines of fp into u; problems reported, counted in *nerrors. */
static void
users_read(struct auth_users *u, FILE *fp, const char *path, FILE *errs,
    int *nerrors)
{
	struct auth_user	 a, *v;
	char			*line = NULL, *s;
	size_t			 cap = 0, len;
	const char		*why;
	int			 lineno = 0;

	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			continue;
		if (*s == '\0' || *s == '#')
			continue;
		why = user_parse(&a, s);
		if (why == NULL && auth_user_find(u, a.name) != NULL)
			why = "user listed twice";
		if (why == NULL && (v = reallocarray(u->v, u->n + 1,
		    sizeof(*v))) == NULL)
			why = "out of memory";
		if (why != NULL) {
			if (errs)
				fprintf(errs, "%s:%d: %s\n", path, lineno, why);
			(*nerrors)++;
			user_free(&a);
			continue;
		}
		u->v = v;
		u->v[u->n++] = a;
	}
	free(line);
}

struct auth_users *
auth_users_load(const char *path, FILE *errs, int *nerrors)
{
	struct auth_users	*u;
	FILE			*fp;
	size_t			 i;
	int			 before = *nerrors;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errs)
			fprintf(errs, "%s: cannot open: %s\n", path,
			    strerror(errno));
		(*nerrors)++;
		return NULL;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		fclose(fp);
		(*nerrors)++;
		return NULL;
	}
	users_read(u, fp, path, errs, nerrors);
	fclose(fp);
	if (getrandom(&u->id, sizeof(u->id), 0) != sizeof(u->id))
		(*nerrors)++;
	for (i = 0; i < u->n; i++)
		if (u->dummy == NULL ||
		    hash_cost(u->v[i].hash) > hash_cost(u->dummy))
			u->dummy = u->v[i].hash;
	if (*nerrors != before) {
		auth_users_free(u);
		return NULL;
	}
	return u;
}

const struct auth_user *
auth_user_find(const struct auth_users *u, const char *name)
{
	size_t	i;

	for (i = 0; u != NULL && i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	return NULL;
}

/* Compare in time independent of where they differ. */
static int
same(const char *a, const char *b)
{
	size_t		la = strlen(a), lb = strlen(b), i;
	unsigned char	d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

int
auth_verify(const struct auth_users *u, const char *user, const char *pass)
{
	const struct auth_user	*a = auth_user_find(u, user);
	struct crypt_data	*cd;
	const char		*hash = a ? a->hash : u->dummy;
	char			*out;
	int			 ok;

	if (hash == NULL)
		return 0;	/* an empty file */
	/* crypt_data is 32 KiB: not on a pool thread's stack. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	out = crypt_r(pass, hash, cd);
	ok = a != NULL && out != NULL && out[0] != '*' && same(out, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int
auth_user_listed(const struct auth_user *u, char **names, size_t n)
{
	size_t	i, g;

	if (names == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (names[i][0] != '@') {
			if (strcmp(names[i], u->name) == 0)
				return 1;
			continue;
		}
		for (g = 0; g < u->ngroups; g++)
			if (strcmp(names[i] + 1, u->groups[g]) == 0)
				return 1;
	}
	return 0;
}

int
auth_name_allowed(const struct auth_users *u, const char *name, int by_cert,
    char **names, size_t n)
{
	const struct auth_user	*a;
	struct auth_user	 cert;

	if (names == NULL)
		return 1;
	if (name == NULL)
		return 0;
	if ((a = auth_user_find(u, name)) == NULL && by_cert) {
		memset(&cert, 0, sizeof(cert));	/* no groups */
		cert.name = (char *)(uintptr_t)name;
		a = &cert;
	}
	return a != NULL && auth_user_listed(a, names, n);
}

/* The value of base64 character ch, or -1. */
static int
b64_value(unsigned char ch)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p;

	if (ch == '\0' || (p = strchr(alphabet, ch)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

/* Decode base64 s[0..len) (padded) into out; its length, or -1. */
static int
b64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	size_t	i, n = 0;
	int	v[4], k;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++) {
			v[k] = b64_value((unsigned char)s[i + k]);
			/* '=' only at the end: the last one or two. */
			if (v[k] == -1 && !(s[i + k] == '=' && i + 4 == len &&
			    k >= 2 && (k == 3 || s[i + 3] == '=')))
				return -1;
		}
		out[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] != -1)
			out[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] != -1)
			out[n++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (int)n;
}

int
auth_basic_decode(const char *value, size_t len, char *user, char *pass)
{
	unsigned char	buf[2 * AUTH_NAME_MAX + 4];
	char		*colon;
	int		 n;

	if (len < 6 || strncasecmp(value, "Basic ", 6) != 0)
		return -1;
	value += 6;
	len -= 6;
	while (len > 0 && *value == ' ')
		value++, len--;
	if ((n = b64_decode(value, len, buf, sizeof(buf) - 1)) < 0)
		return -1;
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n) != NULL ||
	    (colon = strchr((char *)buf, ':')) == NULL ||
	    strlen(colon + 1) >= AUTH_NAME_MAX ||
	    (size_t)(colon - (char *)buf) >= AUTH_NAME_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	*colon = '\0';
	strcpy(user, (char *)buf);
	strcpy(pass, colon + 1);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

void
auth_explain(FILE *out, const struct config *cfg, const struct route *r,
    const char *user)
{
	const struct auth_user	*u;
	size_t			 i;

	if (r->users != NULL) {
		fprintf(out, "users:     ");
		for (i = 0; i < r->nusers; i++)
			fprintf(out, "%s%s", i ? ", " : "", r->users[i]);
		fprintf(out, "\n");
	}
	if (user == NULL)
		return;
	if (cfg->tls_client_ca != NULL && auth_user_find(cfg->users, user) ==
	    NULL)
		fprintf(out, "user:      %s: as a client certificate's CN: %s\n",
		    user, auth_name_allowed(cfg->users, user, 1, r->users,
		    r->nusers) ? "allowed" : "not allowed by route (403)");
	else if (cfg->users == NULL)
		fprintf(out, "user:      %s: no auth_file, proxyd does not "
		    "authenticate\n", user);
	else if ((u = auth_user_find(cfg->users, user)) == NULL)
		fprintf(out, "user:      %s: not in %s (407)\n", user,
		    cfg->auth_file);
	else if (!auth_user_listed(u, r->users, r->nusers))
		fprintf(out, "user:      %s: not allowed by route '%s' (403)\n",
		    user, r->name);
	else
		fprintf(out, "user:      %s: allowed\n", user);
}

/* One client address's failures. */
struct fail_slot {
	unsigned char	addr[16];	/* IPv4 mapped into IPv6 */
	int		used;
	int		count;		/* within the window */
	int64_t		start;		/* of the window, ms */
	int64_t		blocked_until;	/* ms; 0 = not blocked */
};

struct auth_fails {
	pthread_mutex_t		 mu;
	int			 limit;
	int			 window;	/* ms */
	struct fail_slot	 slots[FAILS_SLOTS];
};

struct auth_fails *
auth_fails_new(int limit, int window_ms)
{
	struct auth_fails	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	pthread_mutex_init(&f->mu, NULL);
	f->limit = limit;
	f->window = window_ms;
	return f;
}

void
auth_fails_free(struct auth_fails *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static void
addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
	}
}

/*
 * The slot of key, or (create) a free one, else the one whose window is
 * oldest: the table is bounded, and an address evicted that way had
 * its last failure long ago.  With f->mu held.
 */
static struct fail_slot *
fail_slot(struct auth_fails *f, const unsigned char key[16], int create)
{
	struct fail_slot	*s, *victim = NULL;
	size_t			 i;

	for (i = 0; i < FAILS_SLOTS; i++) {
		s = &f->slots[i];
		if (s->used && memcmp(s->addr, key, 16) == 0)
			return s;
		if (victim == NULL || !s->used ||
		    (victim->used && s->start < victim->start &&
		    s->blocked_until <= victim->blocked_until))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->addr, key, 16);
	victim->used = 1;
	return victim;
}

int
auth_fails_blocked(struct auth_fails *f, const struct sockaddr *addr,
    int64_t now, int *retry_after)
{
	unsigned char		 key[16];
	struct fail_slot	*s;
	int			 blocked = 0;

	if (f == NULL || f->limit == 0)
		return 0;
	addr_key(addr, key);
	pthread_mutex_lock(&f->mu);
	if ((s = fail_slot(f, key, 0)) != NULL && s->blocked_until > now) {
		blocked = 1;
		*retry_after = (int)((s->blocked_until - now + 999) / 1000);
	}
	pthread_mutex_unlock(&f->mu);
	return blocked;
}

void
auth_fail(struct auth_fails *f, const struct sockaddr *addr, int64_t now)
{
	unsigned char		 key[16];
	struct fail_slot	*s;

	if (f == NULL || f->limit == 0)
		return;
	addr_key(addr, key);
	pthread_mutex_lock(&f->mu);
	s = fail_slot(f, key, 1);
	if (now - s->start >= f->window) {
		s->start = now;
		s->count = 0;
	}
	if (++s->count >= f->limit) {
		s->blocked_until = now + f->window;
		s->count = 0;
		s->start = now;
	}
	pthread_mutex_unlock(&f->mu);
}
