package version

import (
	"fmt"

	"golang.org/x/mod/semver"
)

// CheckAgent applies the version-skew policy of docs/production.md to an
// agent of version agent talking to a server of version server: the same
// major version, and the agent's minor version the server's or one less.
// An older agent may lack what the server relies on; a newer one may
// report what the server cannot store (upgrade servers first).
//
// Builds without a release version ("dev", a bare commit hash) cannot be
// placed, so either side being one passes: the policy is for releases.
func CheckAgent(agent, server string) error {
	if !semver.IsValid(agent) || !semver.IsValid(server) {
		return nil
	}
	am, sm := semver.Major(agent), semver.Major(server)
	amin, smin := minor(agent), minor(server)
	switch {
	case am != sm:
		return fmt.Errorf("agent %s and server %s differ in major version; run an agent of %s", agent, server, semver.MajorMinor(server))
	case amin > smin:
		return fmt.Errorf("agent %s is newer than server %s; upgrade the server first, or run an agent of %s", agent, server, semver.MajorMinor(server))
	case amin < smin-1:
		return fmt.Errorf("agent %s is more than one minor version older than server %s; upgrade the agent to %s or %s", agent, server, previousMinor(server), semver.MajorMinor(server))
	}
	return nil
}

// minor is the minor version number of a valid semantic version.
func minor(v string) int {
	var major, m int
	// MajorMinor is "vX.Y" for every valid version.
	_, _ = fmt.Sscanf(semver.MajorMinor(v), "v%d.%d", &major, &m)
	return m
}

// previousMinor names the oldest minor version CheckAgent accepts.
func previousMinor(server string) string {
	return fmt.Sprintf("%s.%d", semver.Major(server), max(minor(server)-1, 0))
}
