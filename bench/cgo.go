//go:build linux && cgo

package main

/*
#cgo CFLAGS: -O2 -Wall -Wextra
#cgo LDFLAGS: -lkeyutils
#include <stdlib.h>
#include <keyutils.h>
#include "cbench.h"

static const char *kk_keyutils_version(void) { return keyutils_version_string; }
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// The C operation numbers (cbench.h).
const (
	cResolve       = C.KK_OP_RESOLVE
	cDescribeInto  = C.KK_OP_DESCRIBE_INTO
	cDescribeAlloc = C.KK_OP_DESCRIBE_ALLOC
	cReadInto      = C.KK_OP_READ_INTO
	cReadAlloc     = C.KK_OP_READ_ALLOC
	cSearch1       = C.KK_OP_SEARCH1
	cSearch1000    = C.KK_OP_SEARCH1000
	cAddUnlink     = C.KK_OP_ADD_UNLINK
	cLinkUnlink    = C.KK_OP_LINK_UNLINK
	cSetTimeout    = C.KK_OP_SET_TIMEOUT
	cUpdate        = C.KK_OP_UPDATE
	cSetPerm       = C.KK_OP_SETPERM
	cChown         = C.KK_OP_CHOWN
	cListInto      = C.KK_OP_LIST_INTO
	cListAlloc     = C.KK_OP_LIST_ALLOC
)

// cFixture is the fixture as the C side sees it. Its strings and payload
// live in C memory, so that cgo's pointer rules allow passing it.
type cFixture struct {
	f C.struct_kk_fixture
}

func newCFixture(fx *fixture) *cFixture {
	c := &cFixture{}
	c.f.session = C.int32_t(fx.session.ID())
	c.f.ring1 = C.int32_t(fx.ring1.ID())
	c.f.ring1000 = C.int32_t(fx.ring1000.ID())
	c.f.link_ring = C.int32_t(fx.linkRing.ID())
	c.f.add_ring = C.int32_t(fx.addRing.ID())
	c.f.key = C.int32_t(fx.key.ID())
	c.f.find1000 = C.int32_t(fx.find1000.ID())
	c.f.perm = C.uint32_t(fx.perm)
	c.f.uid = C.uint32_t(fx.uid)
	c.f.timeout = C.uint32_t(timeoutSeconds)
	c.f.desc1 = C.CString(desc1)
	c.f.desc1000 = C.CString(desc1000)
	c.f.add_desc = C.CString(addDesc)
	c.f.payload = (*C.uchar)(C.CBytes(fx.payload))
	c.f.plen = C.size_t(len(fx.payload))
	return c
}

// free wipes the C copy of the payload and frees the C memory.
func (c *cFixture) free() {
	p := unsafe.Slice((*byte)(unsafe.Pointer(c.f.payload)), int(c.f.plen))
	clear(p)
	for _, s := range []unsafe.Pointer{unsafe.Pointer(c.f.desc1), unsafe.Pointer(c.f.desc1000),
		unsafe.Pointer(c.f.add_desc), unsafe.Pointer(c.f.payload)} {
		C.free(s)
	}
	*c = cFixture{}
}

// run returns a batch function that makes n calls of op in C, raw
// (syscall(2)) or through libkeyutils, in one cgo call.
func (c *cFixture) run(op int, libkeyutils bool) func(n int) error {
	impl := C.int(C.KK_RAW)
	if libkeyutils {
		impl = C.KK_LIBKEYUTILS
	}
	return func(n int) error {
		switch r := C.kk_run(&c.f, C.int(op), impl, C.long(n)); {
		case r == 0:
			return nil
		case r < 0:
			return errWrongAnswer
		default:
			return syscall.Errno(r)
		}
	}
}

// keyutilsVersion is libkeyutils' version string.
func keyutilsVersion() string {
	return C.GoString(C.kk_keyutils_version())
}
