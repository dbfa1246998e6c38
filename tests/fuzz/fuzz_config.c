/*
 * fuzz_config.c - a libFuzzer target for the rules file reader: each input
 * is a whole proxyd.conf (config_load(): inih lines, the key tables and
 * their value parsers, the listen list with its "tls ADDR" items, the
 * tls_cert/tls_key/tls_client_ca checks of config_tls.c, routes and the
 * checks across them).  Besides what ASan and UBSan catch, it aborts when
 * a property breaks:
 *
 * - a snapshot comes back if and only if no error was reported;
 * - every error is one line "PATH:" or "PATH:LINE: " plus text;
 * - a snapshot has 1 to 16 listen addresses, and one with a tls
 *   listener has its server context (tls_cert and tls_key loaded);
 * - loading the same text again gives the same errors.
 *
 * The input goes to a memfd named by its /proc path, so nothing is
 * written to disk per run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load data as a file: the snapshot (or NULL) and the errors (malloc'd). */
static struct config *
load(const uint8_t *data, size_t size, char *path, size_t pathlen,
    char **errs)
{
	struct config	*c;
	FILE		*fp;
	size_t		 len;
	int		 fd;

	if ((fd = memfd_create("fuzz.conf", 0)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	if ((fp = open_memstream(errs, &len)) == NULL)
		abort();
	c = config_load(path, fp);
	fclose(fp);
	close(fd);
	return c;
}

/* Is every line of errs "path:" or "path:N: " followed by text? */
static int
errors_well_formed(const char *errs, const char *path)
{
	size_t		 plen = strlen(path);
	const char	*p = errs, *nl;

	while (*p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL)
			return 0;		/* every message ends a line */
		if (strncmp(p, path, plen) != 0 || p[plen] != ':')
			return 0;
		p = nl + 1;
	}
	return 1;
}

static void
check_snapshot(const struct config *c)
{
	size_t	i;

	if (c->nlisten < 1 || c->nlisten > CONFIG_MAX_LISTEN)
		abort();
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls && c->tls_ctx == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c, *again;
	char		 path[64], path2[64];
	char		*errs = NULL, *errs2 = NULL;

	c = load(data, size, path, sizeof(path), &errs);
	if ((c == NULL) != (errs[0] != '\0'))
		abort();
	if (!errors_well_formed(errs, path))
		abort();
	if (c != NULL)
		check_snapshot(c);
	again = load(data, size, path2, sizeof(path2), &errs2);
	/* The same descriptor number, so the same path: the same text. */
	if ((again == NULL) != (c == NULL) ||
	    (strcmp(path, path2) == 0 && strcmp(errs, errs2) != 0))
		abort();
	config_unref(c);
	config_unref(again);
	free(errs);
	free(errs2);
	return 0;
}
