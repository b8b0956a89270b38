//go:build !linux

package keyctl

import "syscall"

func Mmap(n int) ([]byte, syscall.Errno)     { return nil, none }
func Munmap(b []byte) syscall.Errno          { return none }
func Mlock(b []byte) syscall.Errno           { return none }
func Munlock(b []byte) syscall.Errno         { return none }
func MadviseDontDump(b []byte) syscall.Errno { return none }
func MemlockLimit() (int64, syscall.Errno)   { return 0, none }
func SetMemlockLimit(n int64) syscall.Errno  { return none }
