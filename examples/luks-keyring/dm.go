package main

import "fmt"

// dmTarget is one line of a device-mapper table: sectors [Start,
// Start+Length) of the mapped device go to target Type with Params.
type dmTarget struct {
	Start, Length uint64
	Type          string
	Params        string
}

func (t dmTarget) String() string {
	return fmt.Sprintf("%d %d %s %s", t.Start, t.Length, t.Type, t.Params)
}
