package mktme

import (
	"bytes"
	"strconv"
)

// Capability numbers from include/uapi/linux/capability.h.
const (
	capSysAdmin    = 21 // CAP_SYS_ADMIN
	capSysResource = 24 // CAP_SYS_RESOURCE
)

// capEff returns the CapEff mask of a /proc/<pid>/status text.
func capEff(status []byte) (uint64, bool) {
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		v, ok := bytes.CutPrefix(line, []byte("CapEff:"))
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 16, 64)
		return mask, err == nil
	}
	return 0, false
}

// hasMKTMECapability reports whether an effective capability mask holds
// CAP_SYS_RESOURCE or CAP_SYS_ADMIN, which the RFC kernel accepts.
func hasMKTMECapability(mask uint64) bool {
	return mask&(1<<capSysResource|1<<capSysAdmin) != 0
}

// initialUserNS reports whether a /proc/<pid>/uid_map text is the initial
// user namespace's: the identity map of every uid, "0 0 4294967295".
// capable() checks the initial namespace, so capabilities held in any
// other user namespace do not count.
func initialUserNS(uidMap []byte) bool {
	f := bytes.Fields(uidMap)
	return len(f) == 3 && string(f[0]) == "0" && string(f[1]) == "0" && string(f[2]) == "4294967295"
}
