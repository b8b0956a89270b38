/*
 * cbench.h: the C contenders of the kernkeys benchmark (cbench.c), called
 * from Go through cgo, one call per batch.
 */
#ifndef KK_CBENCH_H
#define KK_CBENCH_H

#include <stddef.h>
#include <stdint.h>

/* The operations, in the order of ops in ops.go. */
enum {
	KK_OP_RESOLVE,		/* KEYCTL_GET_KEYRING_ID @s, create=0 */
	KK_OP_DESCRIBE_INTO,	/* KEYCTL_DESCRIBE into a 256-byte buffer */
	KK_OP_DESCRIBE_ALLOC,	/* describe into a new buffer */
	KK_OP_READ_INTO,	/* KEYCTL_READ, 32 bytes, into a buffer */
	KK_OP_READ_ALLOC,	/* read into a new buffer */
	KK_OP_SEARCH1,		/* KEYCTL_SEARCH, keyring of 1 key */
	KK_OP_SEARCH1000,	/* KEYCTL_SEARCH, keyring of 1000 keys */
	KK_OP_ADD_UNLINK,	/* add_key + KEYCTL_UNLINK */
	KK_OP_LINK_UNLINK,	/* KEYCTL_LINK + KEYCTL_UNLINK */
	KK_OP_SET_TIMEOUT,	/* KEYCTL_SET_TIMEOUT */
	KK_OP_UPDATE,		/* KEYCTL_UPDATE, 32 bytes */
	KK_OP_SETPERM,		/* KEYCTL_SETPERM */
	KK_OP_CHOWN,		/* KEYCTL_CHOWN to the same owner */
	KK_OP_LIST_INTO,	/* KEYCTL_READ of a keyring of 1000 keys */
	KK_OP_LIST_ALLOC,	/* the same, into a new buffer */
	KK_NOPS
};

/* The implementations. */
enum {
	KK_RAW,			/* syscall(2) */
	KK_LIBKEYUTILS,		/* keyutils.h, -lkeyutils */
};

/* The keys and keyrings every contender works on, made by the Go side. */
struct kk_fixture {
	int32_t session;	/* the thread's anonymous session keyring */
	int32_t ring1;		/* holds one user key, key */
	int32_t ring1000;	/* holds 1000 user keys, among them find1000 */
	int32_t link_ring;	/* empty: link+unlink links key here */
	int32_t add_ring;	/* empty: add+unlink adds here */
	int32_t key;		/* the 32-byte user key desc1 in ring1 */
	int32_t find1000;	/* the key desc1000 in ring1000 */
	uint32_t perm;		/* key's permissions, set again by setperm */
	uint32_t uid;		/* key's owner, set again by chown */
	uint32_t timeout;	/* seconds, for set_timeout */
	const char *desc1;	/* NUL-terminated */
	const char *desc1000;
	const char *add_desc;
	const unsigned char *payload;
	size_t plen;
};

/*
 * kk_run runs operation op n times with implementation impl against the
 * fixture, checking every result. It returns 0, an errno, or -1 when a
 * call succeeded with the wrong answer. It never prints a payload.
 */
int kk_run(const struct kk_fixture *f, int op, int impl, long n);

#endif
