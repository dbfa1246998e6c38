/*
 * reply.c - responses proxyd writes itself.
 */
#include <stdio.h>
#include <string.h>

#include "reply.h"

static const struct {
	int		 status;
	const char	*text;
} status_texts[] = {
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 417, "Expectation Failed" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

const char *
reply_status_text(int status)
{
	size_t i;

	for (i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
		if (status_texts[i].status == status)
			return status_texts[i].text;
	return "Unknown";
}

void
reply_error(struct evbuffer *out, int status, const char *reason,
    int retry_after)
{
	char body[512];
	int n;

	n = snprintf(body, sizeof(body), "proxyd: %s\n", reason);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		/* A reason that long is a bug; keep the line, cut it. */
		n = sizeof(body) - 1;
		body[n - 1] = '\n';
	}
	reply_text(out, status, body, (size_t)n, retry_after);
}

/*
 * The charset is said because the go command shows a GOPROXY error
 * body only when it is text/plain in UTF-8 (or US-ASCII, or unsaid).
 */
void
reply_text(struct evbuffer *out, int status, const char *body, size_t len,
    int retry_after)
{
	char retry[40] = "";

	if (status == 429 || status == 503)
		snprintf(retry, sizeof(retry), "Retry-After: %d\r\n",
		    retry_after > 1 ? retry_after : 1);
	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "Connection: close\r\n"
	    "\r\n",
	    status, reply_status_text(status), len, retry);
	evbuffer_add(out, body, len);
}

void
reply_auth(struct evbuffer *out, const char *realm, const char *reason)
{
	char	body[512], q[256];
	size_t	i, j = 0;
	int	n;

	for (i = 0; realm && realm[i] && j + 2 < sizeof(q); i++) {
		if (realm[i] == '"' || realm[i] == '\\')
			q[j++] = '\\';
		q[j++] = realm[i];
	}
	q[j] = '\0';
	n = snprintf(body, sizeof(body), "proxyd: %s\n", reason);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = snprintf(body, sizeof(body), "proxyd: %s\n",
		    "proxy authentication required");
	evbuffer_add_printf(out,
	    "HTTP/1.1 407 %s\r\n"
	    "Proxy-Authenticate: Basic realm=\"%s\"\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %d\r\n"
	    "Connection: close\r\n"
	    "\r\n",
	    reply_status_text(407), q, n);
	evbuffer_add(out, body, (size_t)n);
}
