/*
 * test_auth.c - the users file and credentials (auth.c): Basic decoding
 * on good and hostile values, the schemes accepted and refused with
 * file:line, groups and users = lists, verification, the dummy hash of
 * the costliest scheme, and the failure limit's window and block.
 */
#include <crypt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "unit.h"

static void
decode_ok(const char *v, const char *user, const char *pass)
{
	char	u[AUTH_NAME_MAX], p[AUTH_NAME_MAX];

	CHECK(auth_basic_decode(v, strlen(v), u, p) == 0 &&
	    strcmp(u, user) == 0 && strcmp(p, pass) == 0,
	    "decode \"%s\"", v);
}

static void
decode_bad(const char *v)
{
	char	u[AUTH_NAME_MAX], p[AUTH_NAME_MAX];

	CHECK(auth_basic_decode(v, strlen(v), u, p) == -1,
	    "decode \"%s\" should fail", v);
}

static void
test_decode(void)
{
	char	big[2000];

	decode_ok("Basic YWxpY2U6c2VjcmV0", "alice", "secret");
	decode_ok("basic YWxpY2U6c2VjcmV0", "alice", "secret");
	decode_ok("Basic YTpiOmM=", "a", "b:c");	/* ':' in the password */
	decode_ok("Basic YTo=", "a", "");
	decode_ok("Basic OmI=", "", "b");
	decode_bad("Bearer YWxpY2U6c2VjcmV0");
	decode_bad("Basic");
	decode_bad("Basic ");
	decode_bad("Basic YWxpY2U");		/* not a multiple of 4 */
	decode_bad("Basic YWxp!2U6");		/* not base64 */
	decode_bad("Basic YWxpY2U=");		/* no ':' */
	decode_bad("Basic YQBiOmM=");		/* NUL inside */
	decode_bad("Basic YT=6Yg==");		/* '=' inside */
	memset(big, 'Q', sizeof(big));
	memcpy(big, "Basic ", 6);
	big[sizeof(big) - 1] = '\0';
	decode_bad(big);			/* longer than the names */
}

/* Write lines to a temporary file; its path (static). */
static const char *
users_file(const char *lines)
{
	static char	path[] = "/tmp/test_auth_XXXXXX";
	int		fd;

	strcpy(path, "/tmp/test_auth_XXXXXX");
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, lines, strlen(lines)) != (ssize_t)strlen(lines))
		abort();
	close(fd);
	return path;
}

static char *
hash(const char *prefix, unsigned long cost, const char *pw)
{
	char	*salt = crypt_gensalt_ra(prefix, cost, NULL, 0);
	char	*h = strdup(crypt(pw, salt));

	free(salt);
	return h;
}

static void
test_refused(void)
{
	const char	*path;
	char		 buf[4096];
	FILE		*errs;
	int		 n = 0;
	struct auth_users *u;

	path = users_file("# c\n\nplain:secret\ndes:abJnggxhB/yWI\n"
	    "md5:$1$abcdefgh$G//4keteveJCmJpXBXQcJ.\n"
	    "apr:$apr1$abcdefgh$Fb1K3BkF0D2p5iJmtH8vG/\nnohash\n:x\n");
	errs = fmemopen(buf, sizeof(buf), "w");
	u = auth_users_load(path, errs, &n);
	fclose(errs);
	unlink(path);
	CHECK(u == NULL && n == 6, "6 bad lines: %d errors", n);
	CHECK(strstr(buf, ":3: ") && strstr(buf, ":4: ") && strstr(buf, ":5: ")
	    && strstr(buf, ":6: ") && strstr(buf, ":7: ") &&
	    strstr(buf, ":8: "), "file:line of each: %s", buf);
	CHECK(strstr(buf, "MD5") != NULL, "MD5 named: %s", buf);
}

static void
test_users(void)
{
	char		*b = hash("$2b$", 5, "apw"), *s = hash("$6$", 0, "bpw");
	char		*y = hash("$y$", 0, "cpw"), lines[1024];
	const char	*path;
	char		*ci[] = { "@ci" }, *bob[] = { "bob" }, *none[] = { "x" };
	struct auth_users *u;
	int		 n = 0;

	snprintf(lines, sizeof(lines), "bob:%s\nalice:%s:ci,dev\n"
	    "carol:%s:ci\n", s, b, y);
	path = users_file(lines);
	u = auth_users_load(path, stderr, &n);
	unlink(path);
	CHECK(u != NULL && n == 0 && u->n == 3, "3 users load");
	if (u == NULL)
		return;
	CHECK(u->dummy != NULL && strcmp(u->dummy, b) == 0,
	    "the dummy is the bcrypt hash");
	CHECK(auth_verify(u, "alice", "apw") == 1, "bcrypt good");
	CHECK(auth_verify(u, "alice", "bpw") == 0, "bcrypt wrong");
	CHECK(auth_verify(u, "bob", "bpw") == 1, "sha512-crypt good");
	CHECK(auth_verify(u, "bob", "") == 0, "sha512-crypt empty");
	CHECK(auth_verify(u, "carol", "cpw") == 1, "yescrypt good");
	CHECK(auth_verify(u, "carol", "cpw ") == 0, "yescrypt wrong");
	CHECK(auth_verify(u, "mallory", "apw") == 0,
	    "an unknown user with the dummy's password");
	CHECK(auth_user_listed(auth_user_find(u, "alice"), ci, 1) &&
	    auth_user_listed(auth_user_find(u, "carol"), ci, 1) &&
	    !auth_user_listed(auth_user_find(u, "bob"), ci, 1), "@ci");
	CHECK(auth_user_listed(auth_user_find(u, "bob"), bob, 1) &&
	    !auth_user_listed(auth_user_find(u, "alice"), bob, 1), "bob");
	CHECK(!auth_user_listed(auth_user_find(u, "alice"), none, 1) &&
	    auth_user_listed(auth_user_find(u, "alice"), NULL, 0),
	    "no list takes everyone");
	auth_users_free(u);
	free(b);
	free(s);
	free(y);
}

static void
test_fails(void)
{
	struct auth_fails	*f = auth_fails_new(3, 1000);
	struct sockaddr_in	 a, b;
	int			 retry = 0, i;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x0a000001);
	b = a;
	b.sin_addr.s_addr = htonl(0x0a000002);
	auth_fail(f, (struct sockaddr *)&a, 0);
	auth_fail(f, (struct sockaddr *)&a, 10);
	CHECK(!auth_fails_blocked(f, (struct sockaddr *)&a, 20, &retry),
	    "2 of 3: not blocked");
	auth_fail(f, (struct sockaddr *)&a, 1500);	/* a new window */
	auth_fail(f, (struct sockaddr *)&a, 1600);
	CHECK(!auth_fails_blocked(f, (struct sockaddr *)&a, 1700, &retry),
	    "the window moved on");
	auth_fail(f, (struct sockaddr *)&a, 1700);
	CHECK(auth_fails_blocked(f, (struct sockaddr *)&a, 1700, &retry) &&
	    retry == 1, "3 in the window: blocked, retry %d", retry);
	CHECK(!auth_fails_blocked(f, (struct sockaddr *)&b, 1700, &retry),
	    "another address is not");
	CHECK(!auth_fails_blocked(f, (struct sockaddr *)&a, 2700, &retry),
	    "the block ends after the window");
	for (i = 0; i < 5000; i++) {	/* more addresses than slots */
		b.sin_addr.s_addr = htonl(0x0b000000 + (uint32_t)i);
		auth_fail(f, (struct sockaddr *)&b, 3000);
	}
	auth_fails_free(f);
}

int
main(void)
{
	test_decode();
	test_refused();
	test_users();
	test_fails();
	return unit_done("test_auth");
}
