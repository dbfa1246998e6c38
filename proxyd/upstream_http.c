/*
 * upstream_http.c - the "http" parent-proxy upstream kind (stub: being written).
 */
#include "upstream.h"

static struct upconn *
http_connect(struct worker *w, const struct upstream_conf *uc,
    const char *host, uint16_t port, int timeout_ms, upstream_cb *cb,
    void *arg)
{
	(void)w; (void)uc; (void)host; (void)port; (void)timeout_ms;
	(void)cb; (void)arg;
	return NULL;
}

const struct upstream_kind upstream_http = {
	"http",
	http_connect,
};
