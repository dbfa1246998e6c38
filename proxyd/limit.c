/*
 * limit.c - the limits of a route (see limit.h): token buckets for
 * requests and bytes, the table of per-client buckets, and the counters
 * of waiting requests and upstream connections.
 *
 * Locking.  The buckets and the client table of a limiter are guarded by
 * one mutex, so that "both buckets or neither" is a single step.  It is
 * held only for a hash lookup and a few lines of arithmetic: the client
 * key and its hash are computed before it is taken.  The queue and
 * connection counters are atomics and never take it.
 *
 * Buckets refill continuously: tokens += elapsed_ms * rate / 1000, capped
 * at the depth.  A clock reading older than a bucket's last refill (two
 * workers reading the clock, then racing for the lock) adds nothing and
 * does not move the bucket back in time.
 *
 * The client table maps a client address (16 bytes; IPv4 is stored as
 * ::ffff:a.b.c.d, so a mapped address is the same client; the port is
 * ignored) to that client's request and byte buckets.  It is a chained
 * hash over one array that starts at CLIENTS_MIN entries and doubles up to
 * LIMIT_CLIENTS_MAX.  Addresses are hashed with SipHash-1-3 under a random
 * key of the limiter: clients choose their addresses (an IPv6 /64 gives
 * anyone 2^64 of them), and a chain they could pile up would be walked
 * under the lock by every worker.
 *
 * Eviction.  When the table is full, the least recently used entry is
 * reused.  An entry idle long enough for its buckets to refill carries no
 * information (a new entry starts full), and the least recently used one
 * is the likeliest to be in that state.  Otherwise its client finds full
 * buckets when it returns: a leniency that takes more than
 * LIMIT_CLIENTS_MAX other clients in between, and that the route-wide
 * limits still bound.  Memory stays bounded under any flood of addresses.
 */
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <math.h>		/* isfinite(), a macro: no -lm */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "limit.h"
#include "siphash.h"

#define CLIENTS_MIN	64		/* first size of the client table */
#define NIL		UINT32_MAX	/* end of a chain or of the LRU list */
#define WAIT_MAX_MS	INT64_C(1000000000000)	/* clamp, ~31 years */

/* Chains are picked by masking the hash. */
_Static_assert((CLIENTS_MIN & (CLIENTS_MIN - 1)) == 0 &&
    (LIMIT_CLIENTS_MAX & (LIMIT_CLIENTS_MAX - 1)) == 0 &&
    CLIENTS_MIN <= LIMIT_CLIENTS_MAX, "table sizes: powers of two");

/*
 * A request is admitted at a level this close below one token, so that
 * rounding in the refill never costs a spurious extra millisecond.
 */
#define TOKEN_SLACK	1e-6

/* The limit a bucket enforces.  per_s 0: no limit, no bucket used. */
struct rate {
	double	per_s;		/* refill, tokens per second */
	double	depth;		/* capacity */
};

struct bucket {
	double	tokens;
	int64_t	stamp;		/* ms of the last refill */
};

struct client {
	uint8_t		addr[16];
	uint32_t	hash;		/* of addr, picks the chain */
	uint32_t	chain;		/* next in the chain, or NIL */
	uint32_t	newer;		/* LRU list neighbours, or NIL */
	uint32_t	older;
	struct bucket	req;
	struct bucket	bytes;
};

struct client_table {
	struct client	*c;		/* [0, n) in use */
	uint32_t	*heads;		/* 2 * cap chains */
	uint32_t	 n;
	uint32_t	 cap;
	uint32_t	 newest;	/* LRU list ends, or NIL */
	uint32_t	 oldest;
	uint64_t	 seed[2];	/* SipHash key */
};

/* A client address, canonical, and its hash: computed outside the lock. */
struct client_key {
	uint8_t		addr[16];
	uint32_t	hash;
};

struct limiter {
	pthread_mutex_t		 mu;
	struct rate		 req;		/* route: requests */
	struct rate		 bytes;		/* route: bytes */
	struct rate		 client_req;	/* each client: requests */
	struct rate		 client_bytes;	/* each client: bytes */
	struct bucket		 req_b;		/* under mu */
	struct bucket		 bytes_b;	/* under mu */
	struct client_table	*clients;	/* under mu; NULL without
						   client limits */
	int			 queue_max;	/* 0: nobody may wait */
	int			 conns_max;	/* INT_MAX: no cap */
	/* Counters apart from the lock's cache line: they are taken
	 * without it, as often as it is. */
	char			 pad[64];
	atomic_int		 queued;
	atomic_int		 conns;
	atomic_int		 refs;		/* routes of snapshots sharing it */
};

/* ---- token buckets */

static void
rate_init(struct rate *r, double per_s, double depth)
{
	if (!(per_s > 0) || !isfinite(per_s)) {
		r->per_s = r->depth = 0;
		return;
	}
	r->per_s = per_s;
	r->depth = depth > 0 ? depth : per_s;
	if (r->depth < 1)
		r->depth = 1;	/* else no token could ever be taken */
}

/* Does r limit anything (else its buckets are never touched)? */
static int
limited(const struct rate *r)
{
	return r->per_s > 0;
}

/* Make b full as of now: a new client, or a new route bucket. */
static void
bucket_fill(struct bucket *b, const struct rate *r, int64_t now)
{
	b->tokens = r->depth;
	b->stamp = now;
}

/* b's level at now, without changing b. */
static double
bucket_level(const struct bucket *b, const struct rate *r, int64_t now)
{
	double	t = b->tokens;

	/* In doubles: the first stamp of a route bucket is INT64_MIN. */
	if (now > b->stamp) {
		t += ((double)now - (double)b->stamp) * r->per_s / 1000;
		if (t > r->depth)
			t = r->depth;
	}
	return t;
}

static void
bucket_refill(struct bucket *b, const struct rate *r, int64_t now)
{
	b->tokens = bucket_level(b, r, now);
	if (now > b->stamp)
		b->stamp = now;
}

/* ms until a bucket at level holds need tokens: 0 if it does, else >= 1. */
static int64_t
wait_for(double level, const struct rate *r, double need)
{
	double	ms;
	int64_t	w;

	if (level >= need)
		return 0;
	ms = (need - level) * 1000 / r->per_s;
	if (!(ms < (double)WAIT_MAX_MS))
		return WAIT_MAX_MS;
	w = (int64_t)ms;
	if ((double)w < ms)
		w++;
	return w < 1 ? 1 : w;
}

/*
 * Refill b (NULL: no limit) and say how long until it holds need
 * tokens.
 */
static int64_t
bucket_need(struct bucket *b, const struct rate *r, double need,
    int64_t now)
{
	if (b == NULL)
		return 0;
	bucket_refill(b, r, now);
	return wait_for(b->tokens, r, need);
}

/* Take n tokens from b (NULL: no limit); the caller checked the level. */
static void
bucket_take(struct bucket *b, double n)
{
	if (b != NULL)
		b->tokens -= n;
}

/* Put back n tokens into b (NULL: no limit), up to its depth. */
static void
bucket_give(struct bucket *b, const struct rate *r, double n)
{
	if (b == NULL)
		return;
	b->tokens += n;
	if (b->tokens > r->depth)
		b->tokens = r->depth;
}

/* Whole bytes b lets through now, at most want.  b NULL: want. */
static size_t
bucket_bytes(const struct bucket *b, size_t want)
{
	if (b == NULL || b->tokens >= (double)want)
		return want;
	return b->tokens < 1 ? 0 : (size_t)b->tokens;
}

/*
 * The least a byte grant should be: 10 ms of bandwidth, so that a slow
 * route is read in chunks rather than a few bytes per wakeup.  Always
 * within the depth.
 */
static double
bytes_low_water(const struct rate *r, size_t want)
{
	double	lw = r->per_s / 100;

	if (lw < 1)
		lw = 1;
	return (double)want < lw ? (double)want : lw;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* ---- client keys */

/* SipHash-1-3 of a 16-byte address (words read in host order). */
static uint32_t
addr_hash(const uint64_t key[2], const uint8_t addr[16])
{
	return (uint32_t)siphash(key, addr, 16, 1, 3);
}

/*
 * The table key of sa: an IPv6 address as is (so ::ffff:a.b.c.d is the
 * IPv4 client a.b.c.d), an IPv4 address mapped.  Anything else, or NULL,
 * is the all-zero address: one bucket shared by all such clients.
 */
static void
client_key(const struct client_table *t, const struct sockaddr *sa,
    struct client_key *k)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(k->addr, 0, sizeof(k->addr));
	if (sa != NULL && sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		k->addr[10] = k->addr[11] = 0xff;
		memcpy(k->addr + 12, &sin->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(k->addr, &sin6->sin6_addr, 16);
	}
	k->hash = addr_hash(t->seed, k->addr);
}

/* ---- the client table: chains and the LRU list, all under the lock */

static void
table_seed(struct client_table *t)
{
	struct timespec	ts;

	if (getrandom(t->seed, sizeof(t->seed), GRND_NONBLOCK) ==
	    (ssize_t)sizeof(t->seed))
		return;
	/* No entropy yet (early boot): weaker, but still not guessable
	 * from outside without the start time and the heap layout. */
	clock_gettime(CLOCK_REALTIME, &ts);
	t->seed[0] = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
	t->seed[1] = (uint64_t)(uintptr_t)t ^
	    (t->seed[0] << 29 | t->seed[0] >> 35);
}

/* nheads empty chains. */
static uint32_t *
heads_new(uint32_t nheads)
{
	uint32_t	*h;

	if ((h = calloc(nheads, sizeof(*h))) != NULL)
		memset(h, 0xff, nheads * sizeof(*h));	/* all NIL */
	return h;
}

/* An empty table of CLIENTS_MIN entries with a fresh hash key, or NULL. */
static struct client_table *
table_new(void)
{
	struct client_table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->c = calloc(CLIENTS_MIN, sizeof(*t->c));
	t->heads = heads_new(2 * CLIENTS_MIN);
	if (t->c == NULL || t->heads == NULL) {
		free(t->c);
		free(t->heads);
		free(t);
		return NULL;
	}
	t->cap = CLIENTS_MIN;
	t->newest = t->oldest = NIL;
	table_seed(t);
	return t;
}

static void
table_free(struct client_table *t)
{
	if (t == NULL)
		return;
	free(t->c);
	free(t->heads);
	free(t);
}

/* The chain that entries of this hash are linked on. */
static uint32_t *
chain_head(struct client_table *t, uint32_t hash)
{
	return &t->heads[hash & (2 * t->cap - 1)];
}

/* Put entry i at the head of its chain. */
static void
chain_link(struct client_table *t, uint32_t i)
{
	uint32_t	*h = chain_head(t, t->c[i].hash);

	t->c[i].chain = *h;
	*h = i;
}

/* Take entry i, which must be linked, out of its chain. */
static void
chain_unlink(struct client_table *t, uint32_t i)
{
	uint32_t	*p = chain_head(t, t->c[i].hash);

	while (*p != i)
		p = &t->c[*p].chain;
	*p = t->c[i].chain;
}

/* Take entry i out of the LRU list. */
static void
lru_unlink(struct client_table *t, uint32_t i)
{
	struct client	*c = &t->c[i];

	if (c->newer != NIL)
		t->c[c->newer].older = c->older;
	else
		t->newest = c->older;
	if (c->older != NIL)
		t->c[c->older].newer = c->newer;
	else
		t->oldest = c->newer;
}

/* Make entry i, unlinked, the most recently used. */
static void
lru_push(struct client_table *t, uint32_t i)
{
	t->c[i].newer = NIL;
	t->c[i].older = t->newest;
	if (t->newest != NIL)
		t->c[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

/* The index of k's entry, or NIL. */
static uint32_t
table_find(struct client_table *t, const struct client_key *k)
{
	uint32_t	i;

	for (i = *chain_head(t, k->hash); i != NIL; i = t->c[i].chain)
		if (t->c[i].hash == k->hash &&
		    memcmp(t->c[i].addr, k->addr, 16) == 0)
			return i;
	return NIL;
}

/*
 * Double the table, rechaining every entry (indices, hence the LRU list,
 * stay).  Rare: at most log2(LIMIT_CLIENTS_MAX / CLIENTS_MIN) times.
 */
static int
table_grow(struct client_table *t)
{
	struct client	*c;
	uint32_t	*heads, i;

	if (t->cap >= LIMIT_CLIENTS_MAX)
		return -1;
	if ((heads = heads_new(4 * t->cap)) == NULL)
		return -1;
	if ((c = realloc(t->c, 2 * t->cap * sizeof(*c))) == NULL) {
		free(heads);
		return -1;
	}
	free(t->heads);
	t->c = c;
	t->heads = heads;
	t->cap *= 2;
	for (i = 0; i < t->n; i++)
		chain_link(t, i);
	return 0;
}

/* A free entry: unused, or after growing, or the least recently used. */
static uint32_t
table_slot(struct client_table *t)
{
	uint32_t	i;

	if (t->n < t->cap || table_grow(t) == 0)
		return t->n++;
	i = t->oldest;
	chain_unlink(t, i);
	lru_unlink(t, i);
	return i;
}

/* The entry of k, made most recently used; created with full buckets. */
static struct client *
client_get(struct limiter *l, const struct client_key *k, int64_t now)
{
	struct client_table	*t = l->clients;
	struct client		*c;
	uint32_t		 i;

	if ((i = table_find(t, k)) != NIL) {
		if (t->newest != i) {
			lru_unlink(t, i);
			lru_push(t, i);
		}
		return &t->c[i];
	}
	i = table_slot(t);
	c = &t->c[i];
	memcpy(c->addr, k->addr, 16);
	c->hash = k->hash;
	bucket_fill(&c->req, &l->client_req, now);
	bucket_fill(&c->bytes, &l->client_bytes, now);
	chain_link(t, i);
	lru_push(t, i);
	return c;
}

/* The entry of k, or NULL; the LRU order is left alone. */
static struct client *
client_find(struct limiter *l, const struct client_key *k)
{
	uint32_t	i = table_find(l->clients, k);

	return i == NIL ? NULL : &l->clients->c[i];
}

/* ---- limiters */

int
limit_route_has_limits(const struct route *r)
{
	return (r->rate > 0 && isfinite(r->rate)) ||
	    (r->client_rate > 0 && isfinite(r->client_rate)) ||
	    r->bandwidth > 0 || r->client_bandwidth > 0 || r->max_conns > 0;
}

/* One second of bandwidth, so that bursts stay small, but not tiny. */
static double
bytes_depth(uint64_t per_s)
{
	return per_s > LIMIT_BYTES_MIN_DEPTH ? (double)per_s :
	    LIMIT_BYTES_MIN_DEPTH;
}

static void
limiter_init_rates(struct limiter *l, const struct route *r)
{
	rate_init(&l->req, r->rate, r->burst);
	rate_init(&l->client_req, r->client_rate, r->client_burst);
	rate_init(&l->bytes, (double)r->bandwidth,
	    bytes_depth(r->bandwidth));
	rate_init(&l->client_bytes, (double)r->client_bandwidth,
	    bytes_depth(r->client_bandwidth));
	/* Full from the start: INT64_MIN stamps refill to the depth. */
	bucket_fill(&l->req_b, &l->req, INT64_MIN);
	bucket_fill(&l->bytes_b, &l->bytes, INT64_MIN);
}

struct limiter *
limiter_new(const struct route *r)
{
	struct limiter	*l;
	int		 rc;

	if (!limit_route_has_limits(r)) {
		errno = 0;
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	limiter_init_rates(l, r);
	l->queue_max = r->queue > 0 ? r->queue : 0;
	l->conns_max = r->max_conns > 0 ? r->max_conns : INT_MAX;
	atomic_init(&l->queued, 0);
	atomic_init(&l->conns, 0);
	atomic_init(&l->refs, 1);
	if ((limited(&l->client_req) || limited(&l->client_bytes)) &&
	    (l->clients = table_new()) == NULL) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	if ((rc = pthread_mutex_init(&l->mu, NULL)) != 0) {
		table_free(l->clients);
		free(l);
		errno = rc;
		return NULL;
	}
	return l;
}

struct limiter *
limiter_ref(struct limiter *l)
{
	if (l != NULL)
		atomic_fetch_add(&l->refs, 1);
	return l;
}

void
limiter_free(struct limiter *l)
{
	/* Both snapshots of a reload may hold it: the last one frees. */
	if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&l->mu);
	table_free(l->clients);
	free(l);
}

int64_t
limiter_admit(struct limiter *l, const struct sockaddr *client,
    int64_t now_ms)
{
	struct client_key	 k;
	struct bucket		*rb, *cb = NULL;
	int64_t			 wait;

	if (l == NULL || (!limited(&l->req) && !limited(&l->client_req)))
		return 0;
	rb = limited(&l->req) ? &l->req_b : NULL;
	if (limited(&l->client_req))
		client_key(l->clients, client, &k);

	pthread_mutex_lock(&l->mu);
	if (limited(&l->client_req))
		cb = &client_get(l, &k, now_ms)->req;
	wait = max64(bucket_need(rb, &l->req, 1 - TOKEN_SLACK, now_ms),
	    bucket_need(cb, &l->client_req, 1 - TOKEN_SLACK, now_ms));
	if (wait == 0) {
		bucket_take(rb, 1);
		bucket_take(cb, 1);
	}
	pthread_mutex_unlock(&l->mu);
	return wait;
}

/*
 * Add one to *n unless it has reached max: 0, or -1 at max.  Relaxed: the counters
 * only count, they publish no other data.
 */
static int
count_up(atomic_int *n, int max)
{
	int	v = atomic_load_explicit(n, memory_order_relaxed);

	do {
		if (v >= max)
			return -1;
	} while (!atomic_compare_exchange_weak_explicit(n, &v, v + 1,
	    memory_order_relaxed, memory_order_relaxed));
	return 0;
}

int
limiter_queue_enter(struct limiter *l)
{
	if (l == NULL)
		return -1;	/* nothing ever waits without limits */
	return count_up(&l->queued, l->queue_max);
}

void
limiter_queue_leave(struct limiter *l)
{
	if (l != NULL)
		atomic_fetch_sub_explicit(&l->queued, 1, memory_order_relaxed);
}

int
limiter_conn_acquire(struct limiter *l)
{
	if (l == NULL)
		return 0;
	return count_up(&l->conns, l->conns_max);
}

void
limiter_conn_release(struct limiter *l)
{
	if (l != NULL)
		atomic_fetch_sub_explicit(&l->conns, 1, memory_order_relaxed);
}

size_t
limiter_bytes(struct limiter *l, const struct sockaddr *client, size_t want,
    int64_t now_ms, int64_t *wait_ms)
{
	struct client_key	 k;
	struct bucket		*rb, *cb = NULL;
	size_t			 n = 0;
	int64_t			 wait;

	*wait_ms = 0;
	if (l == NULL || want == 0 ||
	    (!limited(&l->bytes) && !limited(&l->client_bytes)))
		return want;
	rb = limited(&l->bytes) ? &l->bytes_b : NULL;
	if (limited(&l->client_bytes))
		client_key(l->clients, client, &k);

	pthread_mutex_lock(&l->mu);
	if (limited(&l->client_bytes))
		cb = &client_get(l, &k, now_ms)->bytes;
	wait = max64(
	    bucket_need(rb, &l->bytes, bytes_low_water(&l->bytes, want), now_ms),
	    bucket_need(cb, &l->client_bytes,
	    bytes_low_water(&l->client_bytes, want), now_ms));
	if (wait == 0) {
		/* Both hold at least their low water, hence >= 1 byte. */
		n = bucket_bytes(rb, bucket_bytes(cb, want));
		bucket_take(rb, (double)n);
		bucket_take(cb, (double)n);
	}
	pthread_mutex_unlock(&l->mu);
	*wait_ms = wait;
	return n;
}

void
limiter_bytes_unused(struct limiter *l, const struct sockaddr *client,
    size_t n)
{
	struct client_key	 k;
	struct client		*c;

	if (l == NULL || n == 0 ||
	    (!limited(&l->bytes) && !limited(&l->client_bytes)))
		return;
	if (limited(&l->client_bytes))
		client_key(l->clients, client, &k);

	pthread_mutex_lock(&l->mu);
	if (limited(&l->bytes))
		bucket_give(&l->bytes_b, &l->bytes, (double)n);
	/* An evicted client already got a full bucket back. */
	if (limited(&l->client_bytes) && (c = client_find(l, &k)) != NULL)
		bucket_give(&c->bytes, &l->client_bytes, (double)n);
	pthread_mutex_unlock(&l->mu);
}

int
limiter_retry_after(struct limiter *l, const struct sockaddr *client,
    int64_t now_ms)
{
	struct client_key	 k;
	struct client		*c;
	int64_t			 wait = 0;

	if (l == NULL || (!limited(&l->req) && !limited(&l->client_req)))
		return 1;
	if (limited(&l->client_req))
		client_key(l->clients, client, &k);

	pthread_mutex_lock(&l->mu);
	if (limited(&l->req))
		wait = wait_for(bucket_level(&l->req_b, &l->req, now_ms),
		    &l->req, 1 - TOKEN_SLACK);
	/* A client not remembered has a full bucket. */
	if (limited(&l->client_req) && (c = client_find(l, &k)) != NULL)
		wait = max64(wait, wait_for(bucket_level(&c->req,
		    &l->client_req, now_ms), &l->client_req, 1 - TOKEN_SLACK));
	pthread_mutex_unlock(&l->mu);

	wait = (wait + 999) / 1000;
	if (wait > INT_MAX)
		return INT_MAX;
	return wait < 1 ? 1 : (int)wait;
}

size_t
limiter_clients(struct limiter *l)
{
	size_t	n;

	if (l == NULL || l->clients == NULL)
		return 0;
	pthread_mutex_lock(&l->mu);
	n = l->clients->n;
	pthread_mutex_unlock(&l->mu);
	return n;
}
