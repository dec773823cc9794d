package controlplane

import (
	"context"
	"fmt"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// job is a periodic task that must run on one replica at a time.
type job struct {
	name string
	run  func(ctx context.Context) error
}

// Run runs the background jobs until ctx ends: once at start, then every
// JobInterval, each under the store's leader lock so replicas sharing a
// database take turns. Tenant webhook deliveries run alongside on every
// replica (each delivers what its own agents reported), and so do the
// watch for silent agents (agent_presence.go) and the
// flush of sampled authentication failures (authsample.go). It returns
// nil when ctx is cancelled, after the deliveries in flight have stopped
// and the open failure samples are written.
func (s *Server) Run(ctx context.Context) error {
	defer s.startWebhookDelivery(ctx)()
	defer s.startStaleWatch(ctx)()
	defer s.startRefusalFlush(ctx)()
	t := time.NewTicker(s.jobEvery)
	defer t.Stop()
	for {
		for _, j := range s.jobs {
			if _, err := s.runJob(ctx, j); err != nil && ctx.Err() == nil {
				s.log.Error("background job failed", "job", j.name, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// runJob runs j if this replica can take its lock now; ran reports whether
// it did.
func (s *Server) runJob(ctx context.Context, j job) (ran bool, err error) {
	ran, err = s.st.TryLeader(ctx, "job:"+j.name, j.run)
	outcome := "ran"
	switch {
	case err != nil:
		outcome = "failed"
	case !ran:
		outcome = "skipped"
	}
	s.metrics.jobRuns.WithLabelValues(j.name, outcome).Inc()
	if err != nil {
		return ran, fmt.Errorf("job %s: %w", j.name, err)
	}
	return ran, nil
}

// pruneEnrollmentTokens deletes enrollment tokens that expired or were used
// up more than the retention ago; until then they stay listable so people
// can see what happened to them.
func (s *Server) pruneEnrollmentTokens(ctx context.Context) error {
	cutoff := s.now().Add(-s.retention)
	pruned := 0
	tenantPage := store.Page{Size: store.MaxPageSize}
	for {
		tenants, next, err := s.st.ListTenants(ctx, tenantPage)
		if err != nil {
			return fmt.Errorf("prune enrollment tokens: list tenants: %w", err)
		}
		for _, t := range tenants {
			n, err := s.pruneTenantEnrollmentTokens(ctx, s.st.Tenant(t.Id), cutoff)
			pruned += n
			if err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		tenantPage.Token = next
	}
	if pruned > 0 {
		s.log.Info("pruned enrollment tokens", "count", pruned, "older_than", cutoff)
	}
	return nil
}

func (s *Server) pruneTenantEnrollmentTokens(ctx context.Context, ts store.TenantStore, cutoff time.Time) (int, error) {
	var dead []string
	page := store.Page{Size: store.MaxPageSize}
	for {
		list, next, err := ts.ListEnrollmentTokens(ctx, page)
		if err != nil {
			return 0, fmt.Errorf("prune enrollment tokens of tenant %s: list: %w", ts.TenantID(), err)
		}
		for _, t := range list {
			if prunable(t, cutoff) {
				dead = append(dead, t.Id)
			}
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	// Deleting after listing keeps page tokens valid while we walk.
	for i, id := range dead {
		if err := ts.DeleteEnrollmentToken(ctx, id); err != nil && !isNotFound(err) {
			return i, fmt.Errorf("prune enrollment token %s of tenant %s: %w", id, ts.TenantID(), err)
		}
	}
	return len(dead), nil
}

// prunable: expired before cutoff, or used up and created before cutoff
// (the store keeps no time of last use).
func prunable(t *sirsiv1.EnrollmentToken, cutoff time.Time) bool {
	if t.ExpireTime != nil && t.ExpireTime.AsTime().Before(cutoff) {
		return true
	}
	return t.MaxUses > 0 && t.Uses >= t.MaxUses && t.CreateTime != nil && t.CreateTime.AsTime().Before(cutoff)
}
