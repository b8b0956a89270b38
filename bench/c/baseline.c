/*
 * baseline.c: the C floor for kernkeys' benchmarks (keyring/bench_test.go).
 *
 * It makes the same key-service calls as the Go benchmarks with raw
 * syscall(2) (SYS_keyctl, SYS_add_key; no libkeyutils), each round in a
 * fresh anonymous session keyring, and prints one line per round in Go
 * benchmark format:
 *
 *	BenchmarkC_DescribeInto	  1234567	     686.0 ns/op
 *
 * Usage: baseline [-count N] [-benchtime SECONDS]  (defaults: 5, 1)
 *
 * Each round warms up, estimates the cost of one op, then times enough ops
 * to fill the bench time with clock_gettime(CLOCK_MONOTONIC). Keep the
 * descriptions, payload and the searched key in step with bench_test.go.
 * It never prints a payload. bench/c/run.sh builds and runs it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BENCH_DESC "kk-bench-0000"	/* the one key of the single-key ops */
#define BENCH_ADD_DESC "kk-bench-add"	/* AddUnlink */
#define BENCH_MANY 1000			/* keys in Search1000 */
#define BENCH_MANY_FIND "kk-bench-0500"	/* the key Search1000 looks for */
#define PAYLOAD_LEN 32

static unsigned char payload[PAYLOAD_LEN];
static char buf[256];		/* the reused describe/read buffer */
static long session;		/* this round's session keyring */
static long key;		/* this round's single key */
static long found;		/* what the search must find */
static const char *search_desc;

static void die(const char *what)
{
	fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long k_add(const char *desc, long ring)
{
	return syscall(SYS_add_key, "user", desc, payload, (size_t)PAYLOAD_LEN, ring);
}

/* The ops. Each returns 0, or -1 with errno set. */

static int op_describe_into(void)
{
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, buf, sizeof buf);
	return n < 0 || (size_t)n > sizeof buf ? -1 : 0;
}

static int op_read_into32(void)
{
	long n = syscall(SYS_keyctl, KEYCTL_READ, key, buf, (size_t)PAYLOAD_LEN);
	return n != PAYLOAD_LEN ? -1 : 0;
}

static int op_search(void)
{
	long id = syscall(SYS_keyctl, KEYCTL_SEARCH, session, "user", search_desc, 0);
	return id != found ? -1 : 0;
}

static int op_resolve(void)
{
	long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	return id != session ? -1 : 0;
}

static int op_add_unlink(void)
{
	long id = k_add(BENCH_ADD_DESC, session);
	if (id < 0)
		return -1;
	return syscall(SYS_keyctl, KEYCTL_UNLINK, id, session) < 0 ? -1 : 0;
}

/* Setups: each joins a fresh anonymous session and fills it. */

static void fresh_session(void)
{
	session = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
	if (session < 0)
		die("joining an anonymous session");
}

static int setup_empty(void)
{
	fresh_session();
	return 0;
}

static int setup_one(void)
{
	fresh_session();
	key = k_add(BENCH_DESC, session);
	if (key < 0)
		die("add_key");
	found = key;
	search_desc = BENCH_DESC;
	return 0;
}

/* Returns -1 with errno set when the quota does not allow 1000 keys. */
static int setup_many(void)
{
	char desc[32];

	fresh_session();
	for (int i = 0; i < BENCH_MANY; i++) {
		snprintf(desc, sizeof desc, "kk-bench-%04d", i);
		long id = k_add(desc, session);
		if (id < 0)
			return -1;
		if (strcmp(desc, BENCH_MANY_FIND) == 0)
			found = id;
	}
	search_desc = BENCH_MANY_FIND;
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* timed runs op n times and returns the elapsed nanoseconds, or -1. */
static double timed(int (*op)(void), long n)
{
	double t0 = now();
	for (long i = 0; i < n; i++)
		if (op() < 0)
			return -1;
	return now() - t0;
}

struct bench {
	const char *name;
	int (*setup)(void);	/* -1 with errno: skip */
	int (*op)(void);
};

static const struct bench benches[] = {
	{"DescribeInto", setup_one, op_describe_into},
	{"ReadInto32", setup_one, op_read_into32},
	{"Search1", setup_one, op_search},
	{"Search1000", setup_many, op_search},
	{"Resolve", setup_empty, op_resolve},
	{"AddUnlink", setup_empty, op_add_unlink},
};

/* run does one round of b; it returns 0, or 1 when the round was skipped. */
static int run(const struct bench *b, double benchtime)
{
	if (b->setup() < 0) {
		int e = errno;
		syscall(SYS_keyctl, KEYCTL_CLEAR, session);
		printf("--- SKIP: BenchmarkC_%s: setup: %s%s\n", b->name, strerror(e),
		       e == EDQUOT ? " (an ordinary user's quota is 200 keys; run as root)" : "");
		return 1;
	}
	/* Warm up for about a tenth of the bench time, doubling n. */
	long n = 1;
	double t = 0;
	for (;;) {
		t = timed(b->op, n);
		if (t < 0)
			goto fail;
		if (t >= benchtime * 0.1 || n >= 1L << 40)
			break;
		n *= 2;
	}
	/* Time enough ops to fill the bench time. */
	n = (long)(benchtime / (t / n));
	if (n < 1)
		n = 1;
	t = timed(b->op, n);
	if (t < 0)
		goto fail;
	printf("BenchmarkC_%-14s\t%10ld\t%10.1f ns/op\n", b->name, n, t / n);
	fflush(stdout);
	syscall(SYS_keyctl, KEYCTL_CLEAR, session);
	return 0;
fail:;
	int e = errno;
	syscall(SYS_keyctl, KEYCTL_CLEAR, session);
	if (e == EDQUOT) {
		/* Unlinked keys stay charged until the kernel's garbage
		 * collector destroys them, 40-60 ms later. */
		printf("--- SKIP: BenchmarkC_%s: %s (the quota cannot hold the keys awaiting garbage collection; run as root)\n",
		       b->name, strerror(e));
		return 1;
	}
	fprintf(stderr, "baseline: %s: %s\n", b->name, strerror(e));
	exit(1);
}

int main(int argc, char **argv)
{
	int count = 5;
	double benchtime = 1e9;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-count") == 0 && i + 1 < argc)
			count = atoi(argv[++i]);
		else if (strcmp(argv[i], "-benchtime") == 0 && i + 1 < argc)
			benchtime = atof(argv[++i]) * 1e9;
		else {
			fprintf(stderr, "usage: %s [-count N] [-benchtime SECONDS]\n", argv[0]);
			return 2;
		}
	}
	if (count < 1 || benchtime <= 0) {
		fprintf(stderr, "baseline: bad -count or -benchtime\n");
		return 2;
	}
	memset(payload, 0xa5, sizeof payload);	/* as benchPayload in Go */

	printf("# C raw syscall(2) baseline: count=%d benchtime=%.3gs\n", count, benchtime / 1e9);
	for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
		for (int r = 0; r < count; r++)
			if (run(&benches[i], benchtime))
				break;
	memset(buf, 0, sizeof buf);
	return 0;
}
