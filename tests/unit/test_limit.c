/*
 * test_limit.c - the route limiter: request buckets (route and per
 * client), the wait queue, the connection cap, bandwidth shaping, the
 * bound on remembered clients and thread safety.
 *
 * Time is simulated: every call gets "now" from the test, so waits are
 * checked to the millisecond.  The last lines time limiter_admit() alone
 * on one thread (informational, not a check).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "limit.h"
#include "siphash.h"
#include "unit.h"

#define KIB	1024
#define MIB	(1024 * 1024)

/* Fill ss with ip ("a.b.c.d" or IPv6 text) and port; returns it. */
static const struct sockaddr *
addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return (const struct sockaddr *)ss;
}

/* The IPv4 address 10.0.0.0 + i, or 2001:db8::i when v6. */
static const struct sockaddr *
addr_n(struct sockaddr_storage *ss, uint32_t i, int v6)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!v6) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0x0a000000u + i);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[0] = 0x20;
		sin6->sin6_addr.s6_addr[1] = 0x01;
		sin6->sin6_addr.s6_addr[2] = 0x0d;
		sin6->sin6_addr.s6_addr[3] = 0xb8;
		i = htonl(i);
		memcpy(&sin6->sin6_addr.s6_addr[12], &i, 4);
	}
	return (const struct sockaddr *)ss;
}

/* Admit until refused (at most max); returns how many were admitted. */
static int
drain(struct limiter *l, const struct sockaddr *sa, int64_t now, int max)
{
	int	n = 0;

	while (n < max && limiter_admit(l, sa, now) == 0)
		n++;
	return n;
}

static void
test_no_limits(void)
{
	struct route		 r;
	struct limiter		*l;
	struct sockaddr_storage	 ss;
	int64_t			 w = -1;

	memset(&r, 0, sizeof(r));
	CHECK(!limit_route_has_limits(&r), "empty route has limits");
	errno = EINVAL;
	CHECK(limiter_new(&r) == NULL && errno == 0,
	    "no limits: NULL with errno 0 (errno %d)", errno);
	r.burst = 5;
	r.client_burst = 5;
	r.queue = 10;
	r.queue_timeout = 1000;
	CHECK(!limit_route_has_limits(&r), "burst/queue alone count");

	/* A NULL limiter lets everything through. */
	CHECK(limiter_admit(NULL, addr(&ss, "10.0.0.1", 1), 0) == 0,
	    "NULL admit");
	CHECK(limiter_bytes(NULL, NULL, 777, 0, &w) == 777 && w == 0,
	    "NULL bytes");
	CHECK(limiter_conn_acquire(NULL) == 0, "NULL conn");
	limiter_conn_release(NULL);
	CHECK(limiter_queue_enter(NULL) == -1, "NULL queue");
	CHECK(limiter_retry_after(NULL, NULL, 0) == 1, "NULL retry-after");
	CHECK(limiter_clients(NULL) == 0, "NULL clients");
	limiter_free(NULL);

	/* Each limit alone makes a limiter. */
	memset(&r, 0, sizeof(r));
	r.max_conns = 1;
	CHECK(limit_route_has_limits(&r), "max_conns alone");
	r.max_conns = 0;
	r.client_bandwidth = 1;
	CHECK(limit_route_has_limits(&r), "client_bandwidth alone");
	l = limiter_new(&r);
	CHECK(l != NULL, "limiter_new: %s", strerror(errno));
	limiter_free(l);
}

static void
test_route_rate(void)
{
	struct route		 r;
	struct limiter		*l;
	struct sockaddr_storage	 ss;
	const struct sockaddr	*sa = addr(&ss, "192.0.2.1", 5555);
	int64_t			 w;

	memset(&r, 0, sizeof(r));
	r.rate = 10;
	r.burst = 5;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	CHECK(drain(l, sa, 1000, 100) == 5, "burst 5: 5 immediate admits");
	w = limiter_admit(l, sa, 1000);
	CHECK(w == 100, "wait after the burst: %lld, want 100", (long long)w);
	w = limiter_admit(l, sa, 1050);
	CHECK(w == 50, "wait 50 ms later: %lld, want 50", (long long)w);
	CHECK(limiter_retry_after(l, sa, 1050) == 1, "retry-after 1 s");
	CHECK(limiter_admit(l, sa, 1100) == 0, "one more after 100 ms");
	w = limiter_admit(l, sa, 1100);
	CHECK(w == 100, "and then wait again: %lld", (long long)w);
	CHECK(drain(l, sa, 1100 + 3600000, 100) == 5,
	    "an hour idle refills to the burst, no further");
	/* A clock read before the last refill adds nothing. */
	CHECK(limiter_admit(l, sa, 1000) > 0, "time going backwards");
	CHECK(limiter_clients(l) == 0, "no client table without client limits");
	limiter_free(l);

	/* burst 0: one second of the rate, but at least one token. */
	r.rate = 3;
	r.burst = 0;
	l = limiter_new(&r);
	CHECK(l != NULL && drain(l, sa, 0, 100) == 3, "burst 0 = rate");
	limiter_free(l);
	r.rate = 0.5;
	l = limiter_new(&r);
	CHECK(l != NULL && drain(l, sa, 0, 100) == 1, "rate 0.5: burst 1");
	w = limiter_admit(l, sa, 0);
	CHECK(w == 2000, "rate 0.5: wait %lld, want 2000", (long long)w);
	CHECK(limiter_retry_after(l, sa, 0) == 2, "retry-after 2 s");
	CHECK(limiter_retry_after(l, sa, 1999) == 1, "retry-after >= 1");
	CHECK(limiter_retry_after(l, sa, 2000) == 1, "retry-after when free");
	limiter_free(l);
}

static void
test_client_rate(void)
{
	struct route		 r;
	struct limiter		*l;
	struct sockaddr_storage	 ss;

	memset(&r, 0, sizeof(r));
	r.client_rate = 1;
	r.client_burst = 2;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	CHECK(drain(l, addr(&ss, "10.0.0.1", 1000), 0, 10) == 2,
	    "10.0.0.1: burst 2");
	CHECK(limiter_admit(l, addr(&ss, "10.0.0.1", 2000), 0) == 1000,
	    "another port of 10.0.0.1 shares its bucket");
	CHECK(limiter_admit(l, addr(&ss, "::ffff:10.0.0.1", 1000), 0) > 0,
	    "::ffff:10.0.0.1 is 10.0.0.1");
	CHECK(limiter_retry_after(l, addr(&ss, "::ffff:10.0.0.1", 1), 0) == 1,
	    "retry-after of the mapped address");
	CHECK(drain(l, addr(&ss, "10.0.0.2", 1000), 0, 10) == 2,
	    "10.0.0.2 has its own bucket");
	CHECK(drain(l, addr(&ss, "::ffff:10.0.0.3", 1), 0, 10) == 2,
	    "::ffff:10.0.0.3 has its own bucket");
	CHECK(drain(l, addr(&ss, "10.0.0.3", 1), 0, 10) == 0,
	    "10.0.0.3 is ::ffff:10.0.0.3");
	CHECK(drain(l, addr(&ss, "2001:db8::1", 1), 0, 10) == 2,
	    "2001:db8::1 has its own bucket");
	CHECK(drain(l, addr(&ss, "2001:db8::1:0:0:1", 1), 0, 10) == 2,
	    "2001:db8::1:0:0:1 has its own bucket");
	CHECK(drain(l, addr(&ss, "::a00:1", 1), 0, 10) == 2,
	    "IPv4-compatible ::10.0.0.1 is not 10.0.0.1");
	CHECK(drain(l, NULL, 0, 10) == 2, "no address: one shared bucket");
	CHECK(drain(l, NULL, 0, 10) == 0, "no address: shared");
	CHECK(limiter_retry_after(l, addr(&ss, "10.9.9.9", 1), 0) == 1,
	    "retry-after of an unknown client");
	CHECK(limiter_clients(l) == 7, "7 clients remembered, not %zu",
	    limiter_clients(l));
	CHECK(drain(l, addr(&ss, "10.0.0.1", 1000), 1000, 10) == 1,
	    "10.0.0.1 refills at 1/s");
	limiter_free(l);
}

static void
test_both_or_neither(void)
{
	struct route		 r;
	struct limiter		*l;
	struct sockaddr_storage	 a, b;
	const struct sockaddr	*sa, *sb;
	int			 i, n;

	sa = addr(&a, "10.1.0.1", 1);
	sb = addr(&b, "10.1.0.2", 1);

	/* Refused by the route: the client bucket keeps its token. */
	memset(&r, 0, sizeof(r));
	r.rate = 1;
	r.burst = 3;
	r.client_rate = 1e-6;
	r.client_burst = 5;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	CHECK(drain(l, sa, 0, 10) == 3, "route burst 3");
	for (i = 0; i < 20; i++)
		CHECK(limiter_admit(l, sa, 0) == 1000, "route wait");
	CHECK(limiter_admit(l, sa, 1000) == 0, "4th after 1 s");
	CHECK(limiter_admit(l, sa, 2000) == 0, "5th after 2 s");
	CHECK(limiter_admit(l, sa, 3000) > 1000000,
	    "6th: the client bucket is empty");
	CHECK(limiter_admit(l, sb, 3000) == 0,
	    "the client's refusal took no route token");
	limiter_free(l);

	/* Refused by the client: the route keeps its token. */
	r.rate = 1e-6;
	r.burst = 10;
	r.client_rate = 1e-6;
	r.client_burst = 2;
	l = limiter_new(&r);
	CHECK(drain(l, sa, 0, 10) == 2, "client burst 2");
	for (i = 0; i < 20; i++)
		CHECK(limiter_admit(l, sa, 0) > 0, "client refused");
	n = 0;
	for (i = 0; i < 10; i++)
		n += drain(l, addr_n(&b, 100 + (uint32_t)i, 0), 0, 10);
	CHECK(n == 8, "the other clients got the 8 route tokens left: %d", n);
	limiter_free(l);
}

static void
test_queue_and_conns(void)
{
	struct route	 r;
	struct limiter	*l;
	int		 i, ok;

	memset(&r, 0, sizeof(r));
	r.rate = 1;
	r.queue = 2;
	r.max_conns = 3;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	CHECK(limiter_queue_enter(l) == 0, "queue 1 of 2");
	CHECK(limiter_queue_enter(l) == 0, "queue 2 of 2");
	CHECK(limiter_queue_enter(l) == -1, "queue full");
	limiter_queue_leave(l);
	CHECK(limiter_queue_enter(l) == 0, "a place freed");
	CHECK(limiter_queue_enter(l) == -1, "full again");

	for (i = 0; i < 3; i++)
		CHECK(limiter_conn_acquire(l) == 0, "conn %d of 3", i + 1);
	CHECK(limiter_conn_acquire(l) == -1, "at the cap");
	limiter_conn_release(l);
	CHECK(limiter_conn_acquire(l) == 0, "a slot freed");
	CHECK(limiter_conn_acquire(l) == -1, "at the cap again");
	limiter_free(l);

	/* queue 0: nobody waits; max_conns 0: no cap. */
	r.queue = 0;
	r.max_conns = 0;
	l = limiter_new(&r);
	CHECK(limiter_queue_enter(l) == -1, "queue 0 refuses");
	for (ok = 1, i = 0; i < 10000; i++)
		ok &= limiter_conn_acquire(l) == 0;
	CHECK(ok, "max_conns 0: no cap");
	limiter_free(l);
}

/* A shared limiter (a reload kept it) keeps its state for each holder
 * and lives until the last limiter_free(). */
static void
test_shared(void)
{
	struct route	 r;
	struct limiter	*l;

	memset(&r, 0, sizeof(r));
	r.max_conns = 1;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	CHECK(limiter_ref(l) == l, "limiter_ref returns its argument");
	CHECK(limiter_ref(NULL) == NULL, "limiter_ref(NULL)");
	CHECK(limiter_conn_acquire(l) == 0, "the one slot");
	limiter_free(l);		/* the old snapshot's route goes */
	CHECK(limiter_conn_acquire(l) == -1, "the slot is still taken");
	limiter_conn_release(l);
	CHECK(limiter_conn_acquire(l) == 0, "released through the new one");
	limiter_free(l);		/* the last: freed (ASan checks) */
}

/*
 * Readers of n clients, each asking want bytes whenever it may, from
 * time 0 to end_ms, taking turns like the callbacks of an event loop; got[i] receives what client i was granted.  Checks
 * every answer against the contract; the smallest grant goes to *least.
 */
static void
read_for(struct limiter *l, int n, size_t want, int64_t end_ms,
    uint64_t *got, size_t *least)
{
	struct sockaddr_storage	 ss;
	int64_t			 next[16], w;
	size_t			 g;
	int			 i, j, c = n - 1, bad = 0;

	*least = want;
	if (l == NULL) {	/* it would grant everything, forever */
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++)
		got[i] = next[i] = 0;
	for (;;) {
		/* The earliest reader; among equals, the next in turn. */
		for (c = (c + 1) % n, j = 1; j < n; j++) {
			i = (c + j) % n;
			if (next[i] < next[c])
				c = i;
		}
		if (next[c] > end_ms)
			break;
		g = limiter_bytes(l, addr_n(&ss, 200 + (uint32_t)c, 1), want,
		    next[c], &w);
		if (g > want || (g == 0 && w < 1) || (g > 0 && w != 0))
			bad++;
		if (g == 0)
			next[c] += w;
		else if (g < *least)
			*least = g;
		got[c] += g;
	}
	CHECK(bad == 0, "%d answers broke the contract", bad);
}

/* |got - want| within 2% of base. */
static int
near(uint64_t got, double want, double base)
{
	double	d = (double)got - want;

	return (d < 0 ? -d : d) <= 0.02 * base;
}

static void
test_bandwidth(void)
{
	struct route	 r;
	struct limiter	*l;
	uint64_t	 got[16], sum;
	size_t		 least;
	int64_t		 w = -1;
	int		 i;

	memset(&r, 0, sizeof(r));
	r.bandwidth = MIB;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	read_for(l, 1, 64 * KIB, 10000, got, &least);
	CHECK(near(got[0], 11.0 * MIB, 10.0 * MIB),
	    "1 MiB/s for 10 s: %llu bytes, want 10 MiB + 1 MiB burst",
	    (unsigned long long)got[0]);
	CHECK(least >= 10 * KIB, "smallest grant %zu: not 10 ms worth", least);
	CHECK(limiter_bytes(l, NULL, 0, 20000, &w) == 0 && w == 0, "want 0");
	limiter_free(l);

	/* Per client under a route limit: 2 clients get theirs... */
	r.client_bandwidth = 256 * KIB;
	l = limiter_new(&r);
	read_for(l, 2, 64 * KIB, 10000, got, &least);
	for (i = 0; i < 2; i++)
		CHECK(near(got[i], 11.0 * 256 * KIB, 10.0 * 256 * KIB),
		    "client %d at 256 KiB/s: %llu", i,
		    (unsigned long long)got[i]);
	limiter_free(l);

	/* ...8 share the route's (bursts of 256 KiB each at the start). */
	l = limiter_new(&r);
	read_for(l, 8, 64 * KIB, 10000, got, &least);
	for (sum = 0, i = 0; i < 8; i++)
		sum += got[i];
	CHECK(near(sum, 11.0 * MIB, 10.0 * MIB),
	    "8 clients under 1 MiB/s: %llu", (unsigned long long)sum);
	for (i = 0; i < 8; i++)
		CHECK(got[i] > MIB, "client %d starved: %llu", i,
		    (unsigned long long)got[i]);
	limiter_free(l);

	/* A slow route: 16 KiB deep, grants of 10 ms worth at least. */
	memset(&r, 0, sizeof(r));
	r.bandwidth = 1000;
	l = limiter_new(&r);
	read_for(l, 1, 4 * KIB, 60000, got, &least);
	CHECK(near(got[0], 60000 + 16 * KIB, 60000),
	    "1000 B/s for 60 s: %llu", (unsigned long long)got[0]);
	CHECK(least >= 10, "smallest grant %zu bytes", least);
	limiter_free(l);

	/* Bytes granted but not read are given back. */
	r.bandwidth = 16 * KIB;
	r.client_bandwidth = 16 * KIB;
	l = limiter_new(&r);
	CHECK(limiter_bytes(l, NULL, 64 * KIB, 0, &w) == 16 * KIB,
	    "the whole 16 KiB bucket");
	CHECK(limiter_bytes(l, NULL, 64 * KIB, 0, &w) == 0 && w == 10,
	    "then a wait of 10 ms (%lld)", (long long)w);
	limiter_bytes_unused(l, NULL, 8000);
	CHECK(limiter_bytes(l, NULL, 64 * KIB, 0, &w) == 8000,
	    "8000 unused bytes given back");
	limiter_bytes_unused(l, NULL, 1000000);
	CHECK(limiter_bytes(l, NULL, 64 * KIB, 0, &w) == 16 * KIB,
	    "given back no further than the depth");
	limiter_free(l);
}

static void
test_eviction(void)
{
	struct route		 r;
	struct limiter		*l;
	struct sockaddr_storage	 ss, xs;
	const struct sockaddr	*x = addr(&xs, "198.51.100.7", 1);
	uint32_t		 i;
	size_t			 most = 0;
	int			 refused = 0;

	memset(&r, 0, sizeof(r));
	r.client_rate = 1e-6;
	r.client_burst = 1;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 100000; i++) {
		if (limiter_admit(l, addr_n(&ss, i, i % 2), i) != 0)
			refused++;
		if (limiter_clients(l) > most)
			most = limiter_clients(l);
	}
	CHECK(refused == 0, "%d new clients refused", refused);
	CHECK(most == LIMIT_CLIENTS_MAX, "100k clients: at most %zu kept",
	    most);

	/* Recently seen clients are kept; the least recent go first. */
	CHECK(limiter_admit(l, x, 0) == 0 && limiter_admit(l, x, 0) > 0,
	    "x drained");
	for (i = 0; i < LIMIT_CLIENTS_MAX - 1; i++)
		limiter_admit(l, addr_n(&ss, 200000 + i, 0), 0);
	CHECK(limiter_admit(l, x, 0) > 0, "x still remembered");
	for (i = 0; i < LIMIT_CLIENTS_MAX - 1; i++)
		limiter_admit(l, addr_n(&ss, 300000 + i, 0), 0);
	CHECK(limiter_admit(l, x, 0) > 0,
	    "x remembered: its refusal made it recent");
	for (i = 0; i < LIMIT_CLIENTS_MAX; i++)
		limiter_admit(l, addr_n(&ss, 400000 + i, 0), 0);
	CHECK(limiter_admit(l, x, 0) == 0,
	    "x evicted after %d newer clients: a fresh bucket",
	    LIMIT_CLIENTS_MAX);
	limiter_free(l);
}

struct worker {
	struct limiter	*l;
	int		 id;
	int		 admitted;
	int		 conns_bad;
	int		 queue_bad;
};

/* 100k admits at a fixed time (no refill), on its own address. */
static void *
admit_loop(void *arg)
{
	struct worker		*w = arg;
	struct sockaddr_storage	 ss;
	const struct sockaddr	*sa = addr_n(&ss, 7000 + (uint32_t)w->id, 0);
	int			 i;

	for (i = 0; i < 100000; i++)
		if (limiter_admit(w->l, sa, 0) == 0)
			w->admitted++;
	return NULL;
}

/*
 * Distinct clients (evictions), bytes, times out of order between
 * threads, and the counters: everything at once, for the sanitizers.
 */
static void *
mixed_loop(void *arg)
{
	struct worker		*w = arg;
	struct sockaddr_storage	 ss;
	const struct sockaddr	*sa;
	int64_t			 wait;
	int			 i;

	for (i = 0; i < 100000; i++) {
		sa = addr_n(&ss, (uint32_t)w->id << 20 | (uint32_t)i, i & 1);
		if (limiter_admit(w->l, sa, i) == 0)
			w->admitted++;
		(void)limiter_bytes(w->l, sa, 1500, i, &wait);
		if (limiter_conn_acquire(w->l) == 0)
			limiter_conn_release(w->l);
		else
			w->conns_bad++;	/* 4 threads, cap 4: never full */
		if (limiter_queue_enter(w->l) == 0)
			limiter_queue_leave(w->l);
		else
			w->queue_bad++;
	}
	return NULL;
}

/* Run fn on 4 threads over l; returns the total admitted. */
static int
run4(struct limiter *l, void *(*fn)(void *), struct worker *w)
{
	pthread_t	t[4];
	int		i, total = 0;

	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].l = l;
		w[i].id = i;
		if (pthread_create(&t[i], NULL, fn, &w[i]) != 0)
			return -1;
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += w[i].admitted;
	}
	return total;
}

static void
test_threads(void)
{
	struct route	 r;
	struct limiter	*l;
	struct worker	 w[4];
	int		 i, n;

	/* The route bucket: exactly its 300000 tokens are handed out. */
	memset(&r, 0, sizeof(r));
	r.rate = 1e-9;
	r.burst = 300000;
	if ((l = limiter_new(&r)) == NULL) {
		CHECK(0, "limiter_new: %s", strerror(errno));
		return;
	}
	n = run4(l, admit_loop, w);
	CHECK(n == 300000, "4 x 100k admits, burst 300000: %d admitted", n);
	limiter_free(l);

	/* Client buckets under a huge route burst: 80000 each, exactly. */
	r.burst = 1e12;
	r.client_rate = 1e-9;
	r.client_burst = 80000;
	l = limiter_new(&r);
	n = run4(l, admit_loop, w);
	CHECK(n == 320000, "4 clients of burst 80000: %d admitted", n);
	for (i = 0; i < 4; i++)
		CHECK(w[i].admitted == 80000, "thread %d: %d", i,
		    w[i].admitted);
	CHECK(drain(l, NULL, 0, 1000000) == 80000,
	    "the route gave exactly 320000 tokens");
	limiter_free(l);

	memset(&r, 0, sizeof(r));
	r.rate = 1000;
	r.client_rate = 1;
	r.bandwidth = MIB;
	r.client_bandwidth = 64 * KIB;
	r.max_conns = 4;
	r.queue = 4;
	l = limiter_new(&r);
	n = run4(l, mixed_loop, w);
	for (i = 0; i < 4; i++)
		CHECK(w[i].conns_bad == 0 && w[i].queue_bad == 0,
		    "thread %d: counters leaked", i);
	CHECK(limiter_clients(l) <= LIMIT_CLIENTS_MAX, "bounded under threads");
	for (i = 0; i < 4; i++)
		CHECK(limiter_conn_acquire(l) == 0, "conn %d after threads", i);
	CHECK(limiter_conn_acquire(l) == -1, "the cap after threads");
	limiter_free(l);
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Mean ns of limiter_admit() on one thread (printed, not checked). */
static void
bench(const char *what, const struct route *r)
{
	struct limiter		*l;
	struct sockaddr_storage	 ss;
	const struct sockaddr	*sa = addr(&ss, "192.0.2.9", 1);
	double			 t0;
	int			 i, n = 1000000;

	if ((l = limiter_new(r)) == NULL)
		return;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		(void)limiter_admit(l, sa, i / 1000);
	printf("# limiter_admit, %s: %.1f ns\n", what, (now_ns() - t0) / n);
	limiter_free(l);
}

/* The reference vectors of SipHash-2-4 (key 00..0f, input 00..0e), as
 * the auth cache uses it; the client table's 1-3 shares the same code. */
static void
test_siphash(void)
{
	uint64_t key[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	unsigned char in[16];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	CHECK(siphash(key, in, 15, 2, 4) == 0xa129ca6149be45e5ULL,
	    "siphash-2-4 of 15 bytes");
	CHECK(siphash(key, in, 0, 2, 4) == 0x726fdb47dd0e0e31ULL,
	    "siphash-2-4 of no bytes");
	CHECK(siphash(key, in, 8, 2, 4) == 0x93f5f5799a932462ULL,
	    "siphash-2-4 of 8 bytes");
}

int
main(void)
{
	struct route	r;

	test_siphash();
	test_no_limits();
	test_route_rate();
	test_client_rate();
	test_both_or_neither();
	test_queue_and_conns();
	test_shared();
	test_bandwidth();
	test_eviction();
	test_threads();

	memset(&r, 0, sizeof(r));
	r.rate = 1e9;
	bench("route bucket", &r);
	r.client_rate = 1e9;
	bench("route and client buckets", &r);
	return unit_done("test_limit");
}
