//go:build !linux

package keyctl

import "syscall"

// Supported reports whether this GOOS has the key retention service.
const Supported = false

// Linux's values; this GOOS never returns them.
const (
	ENOKEY       = syscall.Errno(126)
	EKEYEXPIRED  = syscall.Errno(127)
	EKEYREVOKED  = syscall.Errno(128)
	EKEYREJECTED = syscall.Errno(129)
	EDQUOT       = syscall.EDQUOT
	ENOPKG       = syscall.Errno(65)
)

const none = syscall.ENOSYS

func AddKey(typ, desc *byte, payload []byte, ring int32) (int32, syscall.Errno) { return 0, none }
func RequestKey(typ, desc, callout *byte, dest int32) (int32, syscall.Errno)    { return 0, none }
func GetKeyringID(id int32, create bool) (int32, syscall.Errno)                 { return 0, none }
func JoinSessionKeyring(name *byte) (int32, syscall.Errno)                      { return 0, none }
func AllThreadsJoinSessionKeyring(name *byte) (int32, syscall.Errno)            { return 0, none }
func Update(id int32, payload []byte) syscall.Errno                             { return none }
func Revoke(id int32) syscall.Errno                                             { return none }
func Chown(id int32, uid, gid int32) syscall.Errno                              { return none }
func SetPerm(id int32, perm uint32) syscall.Errno                               { return none }
func Describe(id int32, buf []byte) (int, syscall.Errno)                        { return -1, none }
func Clear(ring int32) syscall.Errno                                            { return none }
func Link(id, ring int32) syscall.Errno                                         { return none }
func Unlink(id, ring int32) syscall.Errno                                       { return none }
func Search(ring int32, typ, desc *byte, dest int32) (int32, syscall.Errno)     { return 0, none }
func Read(id int32, buf []byte) (int, syscall.Errno)                            { return -1, none }
func Instantiate(id int32, payload []byte, ring int32) syscall.Errno            { return none }
func InstantiateIOV(id int32, parts [][]byte, ring int32) syscall.Errno         { return none }
func Negate(id int32, timeout uint32, ring int32) syscall.Errno                 { return none }
func Reject(id int32, timeout uint32, errno uint32, ring int32) syscall.Errno   { return none }
func SetReqKeyKeyring(defl int32) (int, syscall.Errno)                          { return -1, none }
func SetTimeout(id int32, seconds uint32) syscall.Errno                         { return none }
func AssumeAuthority(id int32) (int32, syscall.Errno)                           { return 0, none }
func GetSecurity(id int32, buf []byte) (int, syscall.Errno)                     { return -1, none }
func SessionToParent() syscall.Errno                                            { return none }
func Invalidate(id int32) syscall.Errno                                         { return none }
func GetPersistent(uid int32, dest int32) (int32, syscall.Errno)                { return 0, none }
func DHCompute(p *DHParams, buf []byte, kdf *KDFParams) (int, syscall.Errno)    { return -1, none }
func PkeyQuery(id int32, info *byte, q *PkeyQueryResult) syscall.Errno          { return none }
func PkeyOp(op int, id int32, info *byte, in, out []byte) (int, syscall.Errno) {
	return -1, none
}
func RestrictKeyring(ring int32, typ, restriction *byte) syscall.Errno { return none }
func Move(id, from, to int32, flags uint32) syscall.Errno              { return none }
func Capabilities(buf []byte) (int, syscall.Errno)                     { return -1, none }
func WatchKey(id int32, fd int, watchID int) syscall.Errno             { return none }
func UnknownOp() syscall.Errno                                         { return none }
func NotificationPipe(n int) (rd, wr int, errno syscall.Errno)         { return -1, -1, none }
func SetNonblock(fd int) syscall.Errno                                 { return none }
func SetWatchFilter(rd int, filters []WatchTypeFilter) syscall.Errno   { return none }
func CloseFD(fd int) syscall.Errno                                     { return none }
func Gettid() int                                                      { return 0 }
func FutexWait(addr *uint32, val uint32) syscall.Errno                 { return none }
func FutexWake(addr *uint32) syscall.Errno                             { return none }
