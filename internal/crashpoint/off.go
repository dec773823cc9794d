//go:build !crashtest

package crashpoint

// Hit does nothing without the crashtest build tag.
func Hit(string) {}

// Enabled reports whether this binary can crash at its points.
const Enabled = false
