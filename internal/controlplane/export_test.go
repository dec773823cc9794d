package controlplane

import (
	"context"
	"errors"
)

// RunJob runs fn as the background job name, under the leader lock, the
// way Run does.
func (s *Server) RunJob(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	return s.runJob(ctx, job{name: name, run: fn})
}

// PruneJobName is the enrollment-token pruning job's lock name.
const PruneJobName = "prune-enrollment-tokens"

// PruneNow runs the pruning job once, under the leader lock.
func (s *Server) PruneNow(ctx context.Context) (bool, error) {
	for _, j := range s.jobs {
		if j.name == PruneJobName {
			return s.runJob(ctx, j)
		}
	}
	return false, errors.New("no prune job")
}

// RunJobNamed runs the background job name once, under the leader lock.
func (s *Server) RunJobNamed(ctx context.Context, name string) (bool, error) {
	for _, j := range s.jobs {
		if j.name == name {
			return s.runJob(ctx, j)
		}
	}
	return false, errors.New("no job " + name)
}
