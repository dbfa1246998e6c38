/*
 * fuzz_sni.c - libFuzzer target for the ClientHello reader
 * (proxyd/sni.c).  Besides what ASan and UBSan catch, it aborts when a
 * property breaks:
 *
 * - the answer is SNI_INVALID, SNI_INCOMPLETE or a length no larger
 *   than the input, at least a record header and a handshake header;
 * - a parsed host lies inside the input and is a DNS-ish name;
 * - a parsed hello parses again alone to the same length and host, and
 *   every shorter prefix of it is SNI_INCOMPLETE or SNI_INVALID, never
 *   a success (checked at a few cut points);
 * - an input refused as SNI_INVALID stays refused with more bytes.
 *
 * Build (clang and libclang-rt-dev), from the top of the repository:
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -Iproxyd \
 *         tests/fuzz/fuzz_sni.c proxyd/sni.c -o fuzz_sni
 *     ./fuzz_sni -max_total_time=60 CORPUS_COPY tests/fuzz/corpus_sni
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sni.h"

static void
check_host(const unsigned char *buf, size_t len, const struct sni_hello *h)
{
	size_t i;

	if (h->host == NULL)
		return;
	if ((const unsigned char *)h->host < buf ||
	    (const unsigned char *)h->host + h->host_len > buf + len ||
	    h->host_len == 0 || h->host_len > 253)
		abort();
	for (i = 0; i < h->host_len; i++)
		if (h->host[i] <= ' ' || h->host[i] >= 0x7f)
			abort();
}

/* The parsed hello [0, n) again alone, and cut short. */
static void
check_again(const unsigned char *buf, int n, const struct sni_hello *h)
{
	struct sni_hello h2;
	size_t cut[3] = { 1, (size_t)n / 2, (size_t)n - 1 };
	int i, m;

	if (sni_parse(buf, (size_t)n, &h2) != n || h2.host != h->host ||
	    h2.host_len != h->host_len)
		abort();
	for (i = 0; i < 3; i++) {
		m = sni_parse(buf, cut[i], &h2);
		if (m != SNI_INCOMPLETE && m != SNI_INVALID)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	struct sni_hello h;
	int n;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);	/* exactly sized: overreads show */
	n = sni_parse(buf, size, &h);
	if (n != SNI_INVALID && n != SNI_INCOMPLETE &&
	    (n < 9 || (size_t)n > size))
		abort();
	if (n > 0) {
		check_host(buf, size, &h);
		check_again(buf, n, &h);
	} else if (n == SNI_INVALID && size > 0) {
		/* Refused with fewer bytes: refused with all of them. */
		if (sni_parse(buf, size - 1, &h) == SNI_INVALID &&
		    sni_parse(buf, size, &h) != SNI_INVALID)
			abort();
	}
	free(buf);
	return 0;
}
