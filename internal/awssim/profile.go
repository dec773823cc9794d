package awssim

import (
	"fmt"
	"math"
	"time"
)

// Profile is a resource's utilisation pattern. Tests know the right answer
// for each: an idle instance should be stopped, an over-provisioned one
// downsized, a right-sized one left alone.
type Profile string

// The profiles the fleet generator assigns.
const (
	ProfileIdle            Profile = "idle"             // CPU ~1-3 %, almost no network
	ProfileOverProvisioned Profile = "over-provisioned" // CPU ~5-15 %, p95 below 20 %
	ProfileRightSized      Profile = "right-sized"      // CPU ~40-70 %
	ProfileSpiky           Profile = "spiky"            // ~10 % with short bursts to ~90 % every few hours
	ProfileBusinessHours   Profile = "business-hours"   // ~60 % 09:00-18:00 UTC Mon-Fri, ~3 % otherwise
)

// ProfileTag is the tag through which a fleet created over the API conveys
// an instance's profile; the simulator reads it at RunInstances/CreateTags.
const ProfileTag = "sirsi-sim:profile"

// Profiles lists every profile, in a fixed order.
var Profiles = []Profile{ProfileIdle, ProfileOverProvisioned, ProfileRightSized, ProfileSpiky, ProfileBusinessHours}

// ParseProfile validates a profile name.
func ParseProfile(s string) (Profile, error) {
	for _, p := range Profiles {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown utilisation profile %q (want one of %v)", s, Profiles)
}

// sampleStep is the granularity of the deterministic noise: one value per
// minute, the finest CloudWatch detailed-monitoring resolution.
const sampleStep = time.Minute

// noise returns a deterministic value in [0, 1) for (seed, minute, salt).
func noise(seed int64, t time.Time, salt uint64) float64 {
	x := uint64(seed) ^ uint64(t.Unix()/int64(sampleStep/time.Second))*0x9e3779b97f4a7c15 ^ salt*0xbf58476d1ce4e5b9
	// splitmix64 finaliser.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / float64(1<<53)
}

// CPUAt is the CPU utilisation in percent (0..100) of a resource with this
// profile and seed at time t, constant within each minute. The empty profile
// behaves as right-sized, so untagged instances look like ordinary load.
func (p Profile) CPUAt(seed int64, t time.Time) float64 {
	n := noise(seed, t, 1)
	var v float64
	switch p {
	case ProfileIdle:
		v = 1 + 2*n
	case ProfileOverProvisioned:
		v = 5 + 10*n
	case ProfileSpiky:
		// A 20-minute burst every 4 hours, phase-shifted per resource.
		phase := time.Duration(uint64(seed)%240) * time.Minute
		if m := t.Add(phase).Unix() / 60 % 240; m < 20 {
			v = 80 + 15*n
		} else {
			v = 6 + 8*n
		}
	case ProfileBusinessHours:
		if businessHours(t) {
			v = 50 + 20*n
		} else {
			v = 2 + 2*n
		}
	default:
		v = 40 + 30*n
	}
	return math.Min(100, v)
}

// NetworkAt is the network traffic in bytes per minute (in, out) at t,
// following the CPU curve: busy machines move more data.
func (p Profile) NetworkAt(seed int64, t time.Time) (in, out float64) {
	cpu := p.CPUAt(seed, t)
	base := 2_000.0 // heartbeat traffic even when idle
	in = base + cpu*1_500_000*(0.5+noise(seed, t, 2))
	out = base + cpu*900_000*(0.5+noise(seed, t, 3))
	return in, out
}

func businessHours(t time.Time) bool {
	t = t.UTC()
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday && t.Hour() >= 9 && t.Hour() < 18
}
