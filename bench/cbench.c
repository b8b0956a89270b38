/*
 * cbench.c: the C contenders of the kernkeys benchmark. Each operation is
 * a loop of n calls, so that Go reaches it through one cgo call per batch
 * and cgo's own cost (tens of nanoseconds) is spread over thousands of
 * calls. KK_RAW issues the system calls with syscall(2); KK_LIBKEYUTILS
 * calls libkeyutils, the library keyutils' keyctl(1) is built on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <keyutils.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cbench.h"

/* Wrong answer from a call that succeeded. */
#define WRONG (-1)

/* The payloads read here are the benchmark's own, but wipe them anyway. */
static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

#define LOOP(body)						\
	for (long i = 0; i < n; i++) {				\
		body						\
	}							\
	return 0

#define CHECK(cond)						\
	do {							\
		if (!(cond))					\
			return errno ? errno : WRONG;		\
	} while (0)

static int raw(const struct kk_fixture *f, int op, long n)
{
	char buf[256];
	char list[4096];

	errno = 0;
	switch (op) {
	case KK_OP_RESOLVE:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) == f->session););
	case KK_OP_DESCRIBE_INTO:
	case KK_OP_DESCRIBE_ALLOC: /* C's floor: the same call into a buffer */
		LOOP(long r = syscall(SYS_keyctl, KEYCTL_DESCRIBE, f->key, buf, sizeof buf);
		     CHECK(r > 0 && (size_t)r <= sizeof buf););
	case KK_OP_READ_INTO:
	case KK_OP_READ_ALLOC:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_READ, f->key, buf, f->plen) == (long)f->plen););
	case KK_OP_SEARCH1:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_SEARCH, f->ring1, "user", f->desc1, 0) == f->key););
	case KK_OP_SEARCH1000:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_SEARCH, f->ring1000, "user", f->desc1000, 0) == f->find1000););
	case KK_OP_ADD_UNLINK:
		LOOP(long id = syscall(SYS_add_key, "user", f->add_desc, f->payload, f->plen, f->add_ring);
		     CHECK(id > 0);
		     CHECK(syscall(SYS_keyctl, KEYCTL_UNLINK, id, f->add_ring) == 0););
	case KK_OP_LINK_UNLINK:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_LINK, f->key, f->link_ring) == 0);
		     CHECK(syscall(SYS_keyctl, KEYCTL_UNLINK, f->key, f->link_ring) == 0););
	case KK_OP_SET_TIMEOUT:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, f->key, f->timeout) == 0););
	case KK_OP_UPDATE:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_UPDATE, f->key, f->payload, f->plen) == 0););
	case KK_OP_SETPERM:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_SETPERM, f->key, f->perm) == 0););
	case KK_OP_CHOWN:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_CHOWN, f->key, f->uid, (gid_t)-1) == 0););
	case KK_OP_LIST_INTO:
	case KK_OP_LIST_ALLOC:
		LOOP(CHECK(syscall(SYS_keyctl, KEYCTL_READ, f->ring1000, list, sizeof list) == 4000););
	}
	return EINVAL;
}

static int libkeyutils(const struct kk_fixture *f, int op, long n)
{
	char buf[256];
	char list[4096];

	errno = 0;
	switch (op) {
	case KK_OP_RESOLVE:
		LOOP(CHECK(keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0) == f->session););
	case KK_OP_DESCRIBE_INTO:
		LOOP(long r = keyctl_describe(f->key, buf, sizeof buf);
		     CHECK(r > 0 && (size_t)r <= sizeof buf););
	case KK_OP_DESCRIBE_ALLOC:
		LOOP(char *d;
		     CHECK(keyctl_describe_alloc(f->key, &d) > 0);
		     free(d););
	case KK_OP_READ_INTO:
		LOOP(CHECK(keyctl_read(f->key, buf, f->plen) == (long)f->plen););
	case KK_OP_READ_ALLOC:
		LOOP(void *p;
		     int r = keyctl_read_alloc(f->key, &p);
		     CHECK(r == (int)f->plen);
		     wipe(p, f->plen);
		     free(p););
	case KK_OP_SEARCH1:
		LOOP(CHECK(keyctl_search(f->ring1, "user", f->desc1, 0) == f->key););
	case KK_OP_SEARCH1000:
		LOOP(CHECK(keyctl_search(f->ring1000, "user", f->desc1000, 0) == f->find1000););
	case KK_OP_ADD_UNLINK:
		LOOP(key_serial_t id = add_key("user", f->add_desc, f->payload, f->plen, f->add_ring);
		     CHECK(id > 0);
		     CHECK(keyctl_unlink(id, f->add_ring) == 0););
	case KK_OP_LINK_UNLINK:
		LOOP(CHECK(keyctl_link(f->key, f->link_ring) == 0);
		     CHECK(keyctl_unlink(f->key, f->link_ring) == 0););
	case KK_OP_SET_TIMEOUT:
		LOOP(CHECK(keyctl_set_timeout(f->key, f->timeout) == 0););
	case KK_OP_UPDATE:
		LOOP(CHECK(keyctl_update(f->key, f->payload, f->plen) == 0););
	case KK_OP_SETPERM:
		LOOP(CHECK(keyctl_setperm(f->key, f->perm) == 0););
	case KK_OP_CHOWN:
		LOOP(CHECK(keyctl_chown(f->key, f->uid, (gid_t)-1) == 0););
	case KK_OP_LIST_INTO:
		LOOP(CHECK(keyctl_read(f->ring1000, list, sizeof list) == 4000););
	case KK_OP_LIST_ALLOC:
		LOOP(void *p;
		     CHECK(keyctl_read_alloc(f->ring1000, &p) == 4000);
		     free(p););
	}
	return EINVAL;
}

int kk_run(const struct kk_fixture *f, int op, int impl, long n)
{
	return impl == KK_RAW ? raw(f, op, n) : libkeyutils(f, op, n);
}

