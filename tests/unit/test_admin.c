/*
 * test_admin.c - the admin listener's pure parts: the admin keys
 * (admin_listen, admin_allow, pac_proxy), the PAC file generated from
 * routes (pac.c), the proxy address it names, and metrics.c's failure
 * reasons and exposition.  The PAC's behaviour in a real PAC engine is
 * tested by tests/integration/admin_tests.py.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"
#include "pac.h"
#include "unit.h"

/* Load text as a config file; NULL if it has errors (into *msgs). */
static struct config *
load(const char *text, char **msgs)
{
	char path[] = "/tmp/test_admin.XXXXXX";
	size_t len = strlen(text), n = 0;
	struct config *c;
	FILE *errs;
	int fd;

	*msgs = NULL;
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	if ((errs = open_memstream(msgs, &n)) == NULL) {
		unlink(path);
		return NULL;
	}
	c = config_load(path, errs);
	fclose(errs);
	unlink(path);
	return c;
}

/* The PAC of cfg for proxy, as a string (caller frees). */
static char *
pac_text(const struct config *cfg, const char *proxy)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	CHECK(pac_write(cfg, proxy, f) == 0, "pac_write failed");
	fclose(f);
	return buf;
}

static void
test_keys(void)
{
	struct config *c;
	char *msgs;

	c = load("[proxyd]\n", &msgs);
	CHECK(c && c->admin_listen.len == 0 && c->admin_allow == NULL &&
	    c->pac_proxy == NULL, "admin keys default to off / allow / none");
	config_unref(c);
	free(msgs);

	c = load("[proxyd]\nadmin_listen = 127.0.0.1:9128\n"
	    "admin_allow = 10.0.0.0/8, ::1\npac_proxy = proxy.corp.example:3128\n",
	    &msgs);
	CHECK(c && c->admin_listen.len > 0 &&
	    strcmp(c->admin_listen.text, "127.0.0.1:9128") == 0 &&
	    c->nadmin_allow == 2 && strcmp(c->pac_proxy,
	    "proxy.corp.example:3128") == 0, "admin keys set: %s", msgs);
	config_unref(c);
	free(msgs);

	c = load("[proxyd]\nadmin_listen = localhost:9128\n"
	    "pac_proxy = proxy\"x:3128\n", &msgs);
	CHECK(c == NULL && msgs && strstr(msgs, ":2: admin_listen: expected "
	    "an address and port like 127.0.0.1:9128, or off") &&
	    strstr(msgs, ":3: pac_proxy: expected a host and port"),
	    "bad admin keys refused with file:line: %s", msgs);
	config_unref(c);
	free(msgs);

	c = load("[proxyd]\nlisten = 127.0.0.1:3128\n"
	    "admin_listen = 127.0.0.1:3128\n", &msgs);
	CHECK(c == NULL && msgs && strstr(msgs, ":3: admin_listen: "
	    "127.0.0.1:3128 is also a listen address"),
	    "admin_listen on a proxy port: %s", msgs);
	config_unref(c);
	free(msgs);
}

static const char routes_conf[] =
	"[proxyd]\nlisten = 127.0.0.1:3128, 10.1.2.3:3128\n"
	"[route private]\nhosts = git.corp.example, .intra.example, "
	"10.0.0.0/8, [::1]:8080\nmodules = git.corp.example\n"
	"[route mods]\nmodules = *\nupstream = mirror https://m.example\n"
	"[route parent]\nhosts = gh.example:443\nupstream = http 10.9.9.9:8080\n"
	"[route api]\nhosts = api.example\nregex = ^http://api\nupstream = direct\n"
	"[route empty]\nhosts =\n"
	"[route all]\nhosts = *\nupstream = deny\n";

static void
test_pac(void)
{
	struct config *c;
	char *msgs, *pac;

	c = load(routes_conf, &msgs);
	CHECK(c != NULL, "routes config: %s", msgs);
	free(msgs);
	if (c == NULL)
		return;
	pac = pac_text(c, "10.1.2.3:3128");
	CHECK(pac && strstr(pac, "var P = \"PROXY 10.1.2.3:3128\";"),
	    "the proxy answer");
	CHECK(pac && strstr(pac, "proxyd_dom(h, \"git.corp.example\", 0) ||\n"
	    "\t    proxyd_dom(h, \"intra.example\", 1) ||\n"
	    "\t    proxyd_in(ip, [10,0,0,0], 8) ||\n"
	    "\t    (port == 8080 && proxyd_in(ip, "
	    "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1], 128)))\n"
	    "\t\treturn \"DIRECT\";"), "hosts-only direct route: %s",
	    pac ? pac : "");
	CHECK(pac && strstr(pac, "route mods") == NULL,
	    "a modules-only route takes no URL: left out");
	CHECK(pac && strstr(pac, "(port == 443 && proxyd_dom(h, "
	    "\"gh.example\", 0)))\n\t\treturn P;"), "parent route: PROXY");
	CHECK(pac && strstr(pac, "proxyd_dom(h, \"api.example\", 0))\n"
	    "\t\treturn P;"), "a route with a regex: PROXY where hosts match");
	CHECK(pac && strstr(pac, "route empty") == NULL,
	    "an empty hosts list matches nothing: left out");
	CHECK(pac && strstr(pac, "route all") &&
	    strstr(pac, "the fallback") == NULL, "hosts = * ends the file");
	CHECK(pac && strstr(pac, "DIRECT\";\n}") == NULL,
	    "no DIRECT after the proxy");
	free(pac);
	config_unref(c);
}

static void
test_proxy_address(void)
{
	struct sockaddr_in local;
	struct config *c;
	char *msgs, buf[300];

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &local.sin_addr);

	c = load("[proxyd]\nlisten = 127.0.0.1:3128, 10.1.2.3:3129\n", &msgs);
	pac_proxy_address(c, NULL, buf, sizeof(buf));
	CHECK(strcmp(buf, "10.1.2.3:3129") == 0, "first non-loopback: %s", buf);
	config_unref(c);
	free(msgs);

	/* "PROXY" is plain HTTP: a tls listener is passed over (marked by
	 * hand: a real one needs certificate files). */
	c = load("[proxyd]\nlisten = 127.0.0.1:3128, 10.1.2.3:3129, "
	    "10.1.2.4:3130\n", &msgs);
	c->listen[1].tls = 1;
	pac_proxy_address(c, NULL, buf, sizeof(buf));
	CHECK(strcmp(buf, "10.1.2.4:3130") == 0, "not the tls one: %s", buf);
	config_unref(c);
	free(msgs);

	c = load("[proxyd]\nlisten = 127.0.0.1:3128\n", &msgs);
	pac_proxy_address(c, NULL, buf, sizeof(buf));
	CHECK(strcmp(buf, "127.0.0.1:3128") == 0, "only loopback: %s", buf);
	config_unref(c);
	free(msgs);

	c = load("[proxyd]\nlisten = 0.0.0.0:3128\n", &msgs);
	pac_proxy_address(c, (struct sockaddr *)&local, buf, sizeof(buf));
	CHECK(strcmp(buf, "192.0.2.7:3128") == 0, "wildcard: the admin "
	    "connection's local address: %s", buf);
	config_unref(c);
	free(msgs);

	c = load("[proxyd]\nlisten = 0.0.0.0:3128\npac_proxy = p.example:8080\n",
	    &msgs);
	pac_proxy_address(c, (struct sockaddr *)&local, buf, sizeof(buf));
	CHECK(strcmp(buf, "p.example:8080") == 0, "pac_proxy wins: %s", buf);
	config_unref(c);
	free(msgs);
}

static void
test_metrics(void)
{
	static const struct {
		int		 status;
		const char	*why;
		enum metrics_fail want;
	} cases[] = {
		{ 502, "h:1: connect failed: Connection refused",
		    METRICS_REFUSED },
		{ 504, "h:1: connect timed out", METRICS_TIMEOUT },
		{ 502, "h:1: cannot resolve host: name does not resolve",
		    METRICS_DNS },
		{ 502, "TLS to m:443: certificate verify failed",
		    METRICS_TLS },
		{ 504, "TLS handshake with m:443 timed out", METRICS_TIMEOUT },
		{ 502, "h:1: connect failed: Connection reset by peer",
		    METRICS_RESET },
		{ 502, "upstream closed the connection before responding",
		    METRICS_RESET },
		{ 502, "parent proxy p:1 refused CONNECT: 403 Forbidden",
		    METRICS_PROTOCOL },
		{ 502, "upstream response: invalid status line",
		    METRICS_PROTOCOL },
	};
	struct metrics *m = metrics_new();
	static struct route r[2];
	struct config cfg, *c = &cfg;
	char *text = NULL, name[] = "\"q\\";
	size_t i, len = 0;
	FILE *f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(metrics_failure_reason(cases[i].status, cases[i].why) ==
		    cases[i].want, "reason of \"%s\"", cases[i].why);

	/* Route names are plain in configs; labels are escaped anyway. */
	memset(&cfg, 0, sizeof(cfg));
	r[0].name = name;
	r[0].nupstreams = 1;
	strcpy(r[0].upstreams[0].label, "direct");
	r[1].name = "idle";
	cfg.routes = r;
	cfg.nroutes = 2;
	if (m == NULL)
		return;
	CHECK(metrics_bind(m, c) == 0, "bind");
	metrics_request(m, &c->routes[0], METRICS_FORWARD, 200, 10, 20, 7);
	metrics_request(m, NULL, METRICS_CONNECT, 403, 5, 0, 0);
	metrics_attempt(&c->routes[0], 0, 0, METRICS_DNS, 3);
	metrics_limited(&c->routes[0], METRICS_QUEUE_FULL);
	metrics_config_reload(m, 0);
	f = open_memstream(&text, &len);
	CHECK(f && metrics_write(m, f) == 0, "write");
	fclose(f);
	CHECK(strstr(text, "proxyd_requests_total{route=\"\\\"q\\\\\","
	    "kind=\"forward\",code=\"2xx\"} 1\n") != NULL,
	    "label values escaped:\n%.400s", text);
	CHECK(strstr(text, "proxyd_requests_total{route=\"-\",kind=\"connect\","
	    "code=\"4xx\"} 1\n") != NULL, "before routing: route -");
	CHECK(strstr(text, "upstream=\"direct\",reason=\"dns\"} 1\n") != NULL,
	    "a dns failure");
	CHECK(strstr(text, "proxyd_request_duration_seconds_bucket{route="
	    "\"\\\"q\\\\\",le=\"0.01\"} 1\n") != NULL &&
	    strstr(text, "le=\"0.005\"} 0\n") != NULL, "duration buckets");
	CHECK(strstr(text, "limit=\"queue_full\"} 1\n") != NULL, "limited");
	CHECK(strstr(text, "route=\"idle\"") == NULL,
	    "a route without traffic has no series yet");
	CHECK(strstr(text, "proxyd_config_reloads_total{result=\"error\"} 1\n")
	    != NULL, "reload errors");
	free(text);
	metrics_free(m);
}

int
main(void)
{
	test_keys();
	test_pac();
	test_proxy_address();
	test_metrics();
	return unit_done("test_admin");
}
