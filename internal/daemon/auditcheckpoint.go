package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// checkpointer signs the audit chain's head every interval, and once more
// when the server stops, so entries cut from the end of the log are
// detected by verify alone (docs/security.md). With several replicas on
// one PostgreSQL database the leader lock lets one of them write per
// interval; if two still do (one lock released just before the other's
// tick), the checkpoint's id is its head's sequence and the second is not
// written.
type checkpointer struct {
	st    store.Store
	key   ed25519.PrivateKey
	every time.Duration
	log   hclog.Logger
	now   func() time.Time
}

// finalCheckpointTimeout bounds the checkpoint written at shutdown.
const finalCheckpointTimeout = 10 * time.Second

// Run checkpoints until ctx ends, then writes the final checkpoint. A
// failed checkpoint is logged and retried at the next tick: the chain
// keeps its older checkpoints, and a broken chain is what verify reports.
func (c *checkpointer) Run(ctx context.Context) error {
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalCheckpointTimeout)
			defer cancel()
			c.checkpoint(fctx)
			return nil
		case <-t.C:
			c.checkpoint(ctx)
		}
	}
}

func (c *checkpointer) checkpoint(ctx context.Context) {
	ran, err := c.st.TryLeader(ctx, "audit-checkpoint", func(ctx context.Context) error {
		cp, err := c.st.WriteAuditCheckpoint(ctx, c.key, c.now())
		if err == nil && cp != nil {
			c.log.Debug("audit checkpoint", "id", cp.ID, "sequence", cp.Sequence, "hash", cp.Hash)
		}
		return err
	})
	switch {
	case err != nil && errors.Is(err, store.ErrFailedPrecondition):
		c.log.Error("the audit chain is broken: not signing a checkpoint; run agentd server audit verify", "error", err)
	case err != nil && ctx.Err() == nil:
		c.log.Error("audit checkpoint", "error", err)
	case !ran:
		c.log.Debug("audit checkpoint left to another replica")
	}
}
