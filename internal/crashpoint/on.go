//go:build crashtest

package crashpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Enabled reports whether this binary can crash at its points.
const Enabled = true

var (
	mu     sync.Mutex
	hits   = map[string]int{}
	target string
	nth    = 1
)

func init() {
	v := os.Getenv(EnvVar)
	name, n, ok := strings.Cut(v, "#")
	target = name
	if ok {
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 {
			fmt.Fprintf(os.Stderr, "%s=%q: the count after # must be a positive integer\n", EnvVar, v)
			os.Exit(2)
		}
		nth = i
	}
}

// Hit kills the process when name is the selected point and this is its
// selected hit.
func Hit(name string) {
	if name != target {
		return
	}
	mu.Lock()
	hits[name]++
	n := hits[name]
	mu.Unlock()
	if n != nth {
		return
	}
	fmt.Fprintf(os.Stderr, "crashpoint: killing the process at %s (hit %d)\n", name, n)
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = p.Kill()
	}
	// Kill of oneself does not return on success; anything else must not
	// let the test believe the crash happened.
	panic(fmt.Sprintf("crashpoint %s: could not kill the process: %v", name, err))
}
