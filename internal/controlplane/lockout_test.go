package controlplane

import (
	"context"
	"testing"
	"time"
)

func TestLockoutTableThresholdsAndExpiry(t *testing.T) {
	l, err := newLockout(LockoutPolicy{Window: time.Minute, DelayAfter: 2, Delay: time.Second, BlockAfter: 3, BlockFor: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if started, _ := l.fail("a", now); started {
		t.Fatal("blocked after one failure")
	}
	if _, d := l.state("a", now); d != 0 {
		t.Fatalf("delay %s after one failure, want none", d)
	}
	l.fail("a", now.Add(time.Second))
	if b, d := l.state("a", now.Add(time.Second)); b != 0 || d != time.Second {
		t.Fatalf("after two failures: blocked %s, delay %s; want delay 1s", b, d)
	}
	if _, d := l.state("b", now); d != 0 {
		t.Fatal("another source is delayed")
	}
	// The first failure leaves the window: back under the threshold.
	if _, d := l.state("a", now.Add(61*time.Second)); d != 0 {
		t.Fatalf("delay %s once a failure left the window", d)
	}
	// Only failures inside the window count: 1s has left it by 62s.
	l.fail("a", now.Add(62*time.Second))
	if started, _ := l.fail("a", now.Add(63*time.Second)); started {
		t.Fatal("blocked with two failures inside the window")
	}
	started, n := l.fail("a", now.Add(64*time.Second))
	if !started || n != 3 {
		t.Fatalf("third failure in the window: started %v (%d), want a block", started, n)
	}
	if started, _ := l.fail("a", now.Add(65*time.Second)); started {
		t.Fatal("a failure during the block started another")
	}
	if b, _ := l.state("a", now.Add(65*time.Second)); b != 10*time.Minute-time.Second {
		t.Fatalf("blocked for %s, want 9m59s", b)
	}
	if b, d := l.state("a", now.Add(64*time.Second+10*time.Minute)); b != 0 || d != 0 {
		t.Fatalf("after the block: blocked %s, delay %s; want neither", b, d)
	}
}

func TestLockoutPolicyRejectsBadValues(t *testing.T) {
	for name, p := range map[string]LockoutPolicy{
		"negative window":      {Window: -time.Second},
		"delay after block":    {DelayAfter: 5, BlockAfter: 4},
		"negative block after": {BlockAfter: -1},
	} {
		if _, err := newLockout(p); err == nil {
			t.Errorf("%s: accepted %+v", name, p)
		}
	}
	if _, err := newAbuseGuard(Options{RateLimits: RateLimits{AgentPerMinute: -1}}); err == nil {
		t.Error("negative AgentPerMinute accepted")
	}
}

func TestRateLimitBucketRefillsAndEvicts(t *testing.T) {
	b := buckets{m: map[string]*bucket{}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 6 {
		if _, ok := b.take("k", 6, now); !ok {
			t.Fatalf("call %d of 6 refused", i+1)
		}
	}
	wait, ok := b.take("k", 6, now)
	if ok || wait < 10*time.Second || wait > 10*time.Second+5*time.Millisecond {
		t.Fatalf("seventh call: ok %v, wait %s; want refused with about 10s", ok, wait)
	}
	if _, ok := b.take("k", 6, now.Add(10*time.Second)); !ok {
		t.Fatal("refused after a refill interval")
	}
	// A clock stepping back does not mint calls.
	if _, ok := b.take("k", 6, now); ok {
		t.Fatal("a backwards clock refilled the bucket")
	}
	b.take("other", 6, now.Add(3*time.Minute))
	if _, kept := b.m["k"]; kept || len(b.m) != 1 {
		t.Fatalf("idle bucket kept after the sweep: %v", b.m)
	}
}

func TestDeadlineBoundsCalls(t *testing.T) {
	ctx, cancel := boundDeadline(context.Background(), time.Minute)
	defer cancel()
	dl, ok := ctx.Deadline()
	if !ok || time.Until(dl) > time.Minute {
		t.Fatalf("no deadline sent: got %v %v, want at most a minute", dl, ok)
	}
	long, cancelLong := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLong()
	ctx, cancel = boundDeadline(long, time.Minute)
	defer cancel()
	if dl, _ := ctx.Deadline(); time.Until(dl) > time.Minute {
		t.Fatalf("an hour-long client deadline was kept: %v", dl)
	}
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	want, _ := short.Deadline()
	ctx, cancel = boundDeadline(short, time.Minute)
	defer cancel()
	if dl, _ := ctx.Deadline(); !dl.Equal(want) {
		t.Fatalf("a shorter client deadline was replaced: %v, want %v", dl, want)
	}
}

func TestLockoutReservesAttempts(t *testing.T) {
	l, err := newLockout(LockoutPolicy{Window: time.Minute, DelayAfter: 1, Delay: time.Second, BlockAfter: 2, BlockFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, refuse, _, _ := l.reserve("s", now)
	b, _, _, _ := l.reserve("s", now)
	if a == nil || b == nil || refuse != 0 {
		t.Fatal("the first two attempts were not reserved")
	}
	c, refuse, _, full := l.reserve("s", now)
	if c != nil || refuse != 0 || full == nil {
		t.Fatalf("third attempt with two in flight: %v, refuse %s, full %v; want to wait for one to settle", c, refuse, full)
	}
	select {
	case <-full:
		t.Fatal("the wait ended with both attempts still in flight")
	default:
	}
	// A good credential gives its attempt back and wakes the waiter.
	a.settle(false, now)
	select {
	case <-full:
	default:
		t.Fatal("giving an attempt back did not wake the waiter")
	}
	c, _, delay, _ := l.reserve("s", now)
	if c == nil || delay != 0 {
		t.Fatalf("attempt after one was given back: %v, delay %s", c, delay)
	}
	if started, _ := b.settle(true, now); started {
		t.Fatal("one failure started a block")
	}
	c.settle(false, now)
	c.settle(true, now) // settled twice: the second is ignored
	d, _, delay, _ := l.reserve("s", now)
	if d == nil || delay != time.Second {
		t.Fatalf("after one failure: %v, delay %s; want reserved and delayed", d, delay)
	}
	if started, n := d.settle(true, now); !started || n != 2 {
		t.Fatalf("second failure: started %v (%d), want a block", started, n)
	}
	if _, refuse, _, _ := l.reserve("s", now); refuse != time.Hour {
		t.Fatalf("blocked source: refuse %s, want 1h", refuse)
	}
	l.sweptAt = time.Time{}
	l.reserve("other", now.Add(2*time.Hour))
	if _, ok := l.m["s"]; ok {
		t.Fatal("a source with nothing left was not swept")
	}
}
