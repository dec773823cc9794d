package controlplane

import (
	"context"
	"time"
)

// Agent presence events: presentAgent decides connected or stale at read
// time, but a webhook receiver must be told, so a watcher on every
// replica marks agents silent for longer than AgentStaleAfter stale in
// the store, which writes agent.stale in the same transaction; the next
// heartbeat clears the mark and writes agent.connected. The store's
// conditional update makes concurrent watchers on several replicas mark
// each silence once, so no leader lock is needed.

// staleWatchEvery is how often the watcher looks: a quarter of the stale
// threshold, so an agent.stale event follows the threshold by at most
// that much, between a second (tests use short thresholds) and a minute.
func staleWatchEvery(staleAfter time.Duration) time.Duration {
	return min(max(staleAfter/4, time.Second), time.Minute)
}

// startStaleWatch starts the watcher; it stops when ctx ends, and the
// returned function waits for it.
func (s *Server) startStaleWatch(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(staleWatchEvery(s.staleAfter))
		defer t.Stop()
		for {
			if n, err := s.st.MarkStaleAgents(ctx, s.now().Add(-s.staleAfter)); err != nil && ctx.Err() == nil {
				s.log.Error("mark stale agents", "error", err)
			} else if n > 0 {
				s.log.Info("agents went silent", "agents", n, "stale_after", s.staleAfter)
				s.hooks.wake()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { <-done }
}
