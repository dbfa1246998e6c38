"""destpolicy_tests.py - the destination policy: every address proxyd
connects to is checked after DNS (names in the proxy's own hosts file
resolving to forbidden addresses), IP-literal targets, proxy loops to
proxyd's own port, deny_destinations/allow_destinations per route and in
[proxyd], mirrors, and audit mode (action = report, policy_mode = audit)
serving and logging would_deny=."""

import re

from admin_tests import scrape, value
from curl_tests import curl, expect_ok
from harness import expect, expect_eq, free_port, test
from httpraw import expect_error_reply
from parents import Socks5Relay, access_line, log_fields
from route_tests import check_conf, proxyd_only, raw_get

# Names the tests' proxies resolve (their own hosts file).
HOSTS = ["169.254.169.254 meta.test",
         "169.254.169.254 mixed.test", "127.0.0.1 mixed.test",
         "127.0.0.1 loop.test self.test audit.test",
         "169.254.169.254 metamirror.test"]


def policy_proxy(env, routes=(), **settings):
    return env.own_proxy(routes=list(routes) + [("rest", {"hosts": "*"})],
                         extra_hosts=HOSTS, **settings)


def expect_refused(resp, *reason, lines=1):
    """403, the contract's error reply, naming the address and why."""
    expect_error_reply(resp, 403, lines)
    for r in reason:
        expect(r.encode() in resp.body, "403 body %r lacks %r" % (resp.body, r))


def connect_status(env, p, authority):
    """curl's CONNECT through p: the status proxyd answered it with."""
    r = curl(env, "https://%s/" % authority, "-p", "--cacert", env.origin.ca, proxy=p,
             timeout=10)
    m = re.search(r"CONNECT tunnel failed, response (\d+)", r.stderr)
    return int(m.group(1)) if m else r.status


@test("destpolicy_name_to_metadata_403")
def _(env):
    """A name resolving to 169.254.169.254 (DNS rebinding, a typo'd
    internal name): GET and CONNECT get 403 naming the address, and
    nothing is connected to."""
    proxyd_only(env)
    port = env.origin.nginx.http_port
    with policy_proxy(env) as p:
        r = raw_get(env, p, "http://meta.test:%d/1k" % port)
        expect_refused(r, "destination 169.254.169.254 is link-local")
        expect_eq(connect_status(env, p, "meta.test:%d" % env.origin.nginx.https_port), 403,
                  "CONNECT to a name of the metadata address")
        f = log_fields(access_line(p, "GET http://meta.test:%d/1k " % port))
        expect_eq(f.get("upstream"), "-", "upstream of the refused request")
        expect("is link-local" in f.get("note", ""), "note: %r" % f.get("note"))


@test("destpolicy_ip_literals_403")
def _(env):
    """IP-literal targets are checked before any connection: the metadata
    address, its IPv4-mapped, NAT64 and 6to4 forms, fd00:ec2::254,
    0.0.0.0, multicast and broadcast."""
    proxyd_only(env)
    with policy_proxy(env) as p:
        for target, why in [("169.254.169.254", "is link-local"),
                            ("[::ffff:169.254.169.254]", "is link-local"),
                            ("[64:ff9b::a9fe:a9fe]", "is link-local"),
                            ("[2002:a9fe:a9fe::1]", "is link-local"),
                            ("[fd00:ec2::254]", "cloud metadata"),
                            ("0.0.0.0:9", "unspecified"),
                            ("224.0.0.1", "multicast"),
                            ("255.255.255.255", "broadcast")]:
            expect_refused(raw_get(env, p, "http://%s/" % target), "destination ", why)
        expect_eq(connect_status(env, p, "[::ffff:169.254.169.254]:443"), 403,
                  "CONNECT to the v4-mapped metadata address")


@test("destpolicy_mixed_name_uses_allowed_address")
def _(env):
    """A name with a forbidden and an allowed address: the forbidden one
    is skipped, the allowed one serves the request."""
    proxyd_only(env)
    port = env.origin.nginx.http_port
    with policy_proxy(env) as p:
        expect_ok(curl(env, "http://mixed.test:%d/1k" % port, proxy=p))
        f = log_fields(access_line(p, "GET http://mixed.test:%d/1k " % port))
        expect_eq(f.get("upstream"), "127.0.0.1:%d" % port, "address connected to")


@test("destpolicy_route_denies_loopback")
def _(env):
    """deny_destinations = loopback on a route: its name resolving to
    127.0.0.1 gets 403; another route still reaches loopback (allowed by
    default); allow_destinations punches a hole."""
    proxyd_only(env)
    port = env.origin.nginx.http_port
    routes = [("noloop", {"hosts": "loop.test", "deny_destinations": "private, loopback"}),
              ("hole", {"hosts": "mixed.test", "deny_destinations": "loopback",
                        "allow_destinations": "127.0.0.1/32"})]
    with policy_proxy(env, routes) as p:
        expect_refused(raw_get(env, p, "http://loop.test:%d/1k" % port),
                       "destination 127.0.0.1 is loopback")
        expect_eq(connect_status(env, p, "loop.test:%d" % env.origin.nginx.https_port), 403,
                  "CONNECT on the route that denies loopback")
        expect_ok(curl(env, env.http_url("/1k"), proxy=p))
        expect_ok(curl(env, "http://mixed.test:%d/1k" % port, proxy=p))


@test("destpolicy_global_deny_cidr")
def _(env):
    """[proxyd] deny_destinations holds for every route, CIDRs included."""
    proxyd_only(env)
    with policy_proxy(env, deny_destinations="127.0.0.0/24") as p:
        expect_refused(raw_get(env, p, env.http_url("/1k")),
                       "destination 127.0.0.1 is in 127.0.0.0/24")


@test("destpolicy_own_port_is_a_loop")
def _(env):
    """proxyd's own listener, by name, by 127.0.0.1 and through 0.0.0.0,
    for GET and CONNECT: 403, never a second request to itself."""
    proxyd_only(env)
    with policy_proxy(env) as p:
        for host in ["self.test", "127.0.0.1", "0.0.0.0"]:
            expect_refused(raw_get(env, p, "http://%s:%d/" % (host, p.port)),
                           "proxyd's own listener")
        expect_eq(connect_status(env, p, "self.test:%d" % p.port), 403, "CONNECT to itself")
        lines = p.access_lines()
        expect_eq(len(lines), 4, "access-log lines (one per request, none looped): %r" % lines)
        expect(all(" 403 " in line for line in lines), "statuses: %r" % lines)


@test("destpolicy_mirror_name_forbidden")
def _(env):
    """A GOPROXY mirror whose name resolves to the metadata address: the
    module request gets 403 with the reason, not a connection."""
    proxyd_only(env)
    routes = [("go", {"modules": "*", "upstream": "mirror http://metamirror.test:%d/gp"
                      % free_port()})]
    with policy_proxy(env, routes) as p:
        r = raw_get(env, p, "/example.com/m/@v/list")
        # A GOPROXY answer lists the mirrors tried (goerr_tests).
        expect_refused(r, "destination 169.254.169.254 is link-local", lines=8)


@test("destpolicy_audit_serves_and_logs")
def _(env):
    """action = report: what deny_destinations would refuse is served,
    logged with would_deny= and counted; the built-in denies hold."""
    proxyd_only(env)
    port = env.origin.nginx.http_port
    admin = free_port()
    routes = [("audit", {"hosts": "audit.test, meta.test", "deny_destinations": "loopback",
                         "action": "report"})]
    with policy_proxy(env, routes, admin_listen="127.0.0.1:%d" % admin) as p:
        expect_ok(curl(env, "http://audit.test:%d/1k" % port, proxy=p))
        f = log_fields(access_line(p, "GET http://audit.test:%d/1k " % port))
        expect_eq(f.get("would_deny"), "destination 127.0.0.1 is loopback", "would_deny=")
        expect_refused(raw_get(env, p, "http://meta.test:%d/" % port), "is link-local")
        samples, _ = scrape(admin)
        expect_eq(value(samples, "proxyd_would_deny_total", route="audit",
                        reason="destination"), 1.0, "proxyd_would_deny_total")


@test("destpolicy_policy_mode_audit_global")
def _(env):
    """policy_mode = audit in [proxyd]: every route audits; own listener
    still refused."""
    proxyd_only(env)
    with policy_proxy(env, deny_destinations="loopback", policy_mode="audit") as p:
        expect_ok(curl(env, env.http_url("/1k"), proxy=p))
        f = log_fields(access_line(p, "/1k "))
        expect_eq(f.get("would_deny"), "destination 127.0.0.1 is loopback", "would_deny=")
        expect_refused(raw_get(env, p, "http://127.0.0.1:%d/" % p.port), "own listener")


@test("destpolicy_parent_literal_403")
def _(env):
    """Through a parent, an IP-literal target the route may not reach is
    refused before any connection (the parent never hears of it); a
    name goes to the parent, which resolves it, and is not judged."""
    proxyd_only(env)
    with Socks5Relay() as relay:
        routes = [("parent", {"hosts": "*", "upstream": "socks5 127.0.0.1:%d" % relay.port,
                              "deny_destinations": "loopback"})]
        with env.own_proxy(routes=routes, extra_hosts=HOSTS) as p:
            expect_refused(raw_get(env, p, "http://169.254.169.254/"), "is link-local")
            expect_refused(raw_get(env, p, "http://127.0.0.1:%d/1k"
                                   % env.origin.nginx.http_port), "is loopback")
            expect_eq(relay.requests, [], "requests the SOCKS5 parent saw")
            expect_ok(curl(env, env.http_url("/1k"), proxy=p))
            expect_eq(len(relay.requests), 1, "requests the SOCKS5 parent saw for a name")


@test("destpolicy_audit_rate_limit_served")
def _(env):
    """action = report and a rate limit: over the limit is served, with
    would_deny= naming the limit, and counted."""
    proxyd_only(env)
    admin = free_port()
    routes = [("audit", {"hosts": "*", "rate": "1/h", "burst": 1, "queue": 0,
                         "action": "report"})]
    with env.own_proxy(routes=routes, admin_listen="127.0.0.1:%d" % admin) as p:
        for i in range(3):
            expect_ok(curl(env, env.http_url("/1k?n=%d" % i), proxy=p))
        f = log_fields(access_line(p, "/1k?n=2 "))
        expect("rate" in f.get("would_deny", ""), "would_deny= %r" % f.get("would_deny"))
        samples, _ = scrape(admin)
        expect_eq(value(samples, "proxyd_would_deny_total", route="audit", reason="rate"),
                  2.0, "proxyd_would_deny_total{reason=rate}")


@test("destpolicy_audit_route_deny_served")
def _(env):
    """action = report on an `upstream = deny` route: GET and CONNECT are
    served directly, logged with would_deny="denied by route ..." and
    counted; a module request gets the direct answer (404), also logged."""
    proxyd_only(env)
    admin = free_port()
    routes = [("gomods", {"modules": "*", "upstream": "deny", "action": "report"}),
              ("blocked", {"hosts": "origin.test", "upstream": "deny", "action": "report"})]
    with env.own_proxy(routes=routes, admin_listen="127.0.0.1:%d" % admin) as p:
        expect_ok(curl(env, env.http_url("/1k?audit"), proxy=p))
        f = log_fields(access_line(p, "/1k?audit "))
        expect_eq(f.get("would_deny"), "denied by route 'blocked'", "would_deny= of GET")
        r = curl(env, env.https_url("/1k?tls"), "--cacert", env.origin.ca, proxy=p)
        expect_ok(r)
        f = log_fields(access_line(p, "CONNECT origin.test:"))
        expect_eq(f.get("would_deny"), "denied by route 'blocked'", "would_deny= of CONNECT")
        r = raw_get(env, p, "/example.com/m/@v/list")
        expect_eq(r.status, 404, "module request on an audited deny route")
        f = log_fields(access_line(p, "GET /example.com/m/@v/list "))
        expect_eq(f.get("would_deny"), "denied by route 'gomods'", "would_deny= of module")
        samples, _ = scrape(admin)
        expect_eq(value(samples, "proxyd_would_deny_total", route="blocked", reason="route"),
                  2.0, "proxyd_would_deny_total{route=blocked,reason=route}")


@test("destpolicy_bad_values_file_line")
def _(env):
    proxyd_only(env)
    rc, err = check_conf(env, "dest.conf",
                         "[proxyd]\nlisten = 127.0.0.1:3128\ndeny_destinations = privat\n"
                         "policy_mode = report\n[route r]\naction = audit\n"
                         "allow_destinations = 10.0.0.0/33\n")
    expect_eq(rc, 1, "exit status of -t")
    for want in ['dest.conf:3: deny_destinations: expected', 'got "privat"',
                 'dest.conf:4: policy_mode: expected enforce or audit',
                 'dest.conf:6: action: expected enforce or report',
                 'dest.conf:7: allow_destinations: expected']:
        expect(want in err, "-t output lacks %r: %r" % (want, err))
