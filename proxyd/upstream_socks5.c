/*
 * upstream_socks5.c - the "socks5" parent-proxy upstream kind (stub: being written).
 */
#include "upstream.h"

static struct upconn *
socks5_connect(struct worker *w, const struct upstream_conf *uc,
    const char *host, uint16_t port, int timeout_ms, upstream_cb *cb,
    void *arg)
{
	(void)w; (void)uc; (void)host; (void)port; (void)timeout_ms;
	(void)cb; (void)arg;
	return NULL;
}

const struct upstream_kind upstream_socks5 = {
	"socks5",
	socks5_connect,
};
