//go:build unix

package optimizer

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process has used, user plus
// system: on a shared machine it says what a benchmark costs where wall
// time says how busy the neighbours are.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
