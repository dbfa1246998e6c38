/*
 * sni.h - the TLS ClientHello reader of transparent listeners: is the
 * first record a ClientHello, and which host name (SNI) does it ask
 * for?  A pure function over bytes in the style of picohttpparser: no
 * allocation, no I/O, the answer points into the caller's buffer.
 */
#ifndef PROXYD_SNI_H
#define PROXYD_SNI_H

#include <stddef.h>

#define SNI_INVALID	(-1)
#define SNI_INCOMPLETE	(-2)

/* The largest TLS plaintext record (RFC 8446 5.1): a ClientHello that
 * needs more than one record is refused (no common client sends one). */
#define SNI_MAX_RECORD	16384

struct sni_hello {
	const char	*host;		/* into the buffer; NULL: no SNI */
	size_t		 host_len;
};

/*
 * Read buf[0..len) as the first TLS record of a connection.  Returns the
 * record's length (header included) when it holds a whole, well-formed
 * ClientHello, with its host_name in *out (or none); SNI_INCOMPLETE when
 * the bytes so far are a valid beginning of one; SNI_INVALID otherwise
 * (not a handshake record, not a ClientHello, a length that does not
 * add up, a host name that is not a DNS name, two server_name
 * extensions).  Does not decide what a non-TLS stream is: call it only
 * when buf[0] is 0x16 (a handshake record), or get SNI_INVALID.
 */
int	sni_parse(const unsigned char *buf, size_t len, struct sni_hello *out);

#endif /* PROXYD_SNI_H */
