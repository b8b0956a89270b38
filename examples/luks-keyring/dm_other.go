//go:build !linux

package main

import "errors"

var errNoDM = errors.New("device-mapper is Linux's")

func dmSetup(string, dmTarget) (uint32, error)   { return 0, errNoDM }
func dmRemove(string) error                      { return errNoDM }
func dmTable(string) (uint32, []dmTarget, error) { return 0, nil, errNoDM }
func deviceSectors(string) (uint64, error)       { return 0, errNoDM }
