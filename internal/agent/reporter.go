package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent/spool"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// enqueue puts one report into the spool under a fresh batch id. The batch
// id travels with the record, so a batch re-sent after a crash or an
// outage is the same batch to the server, which applies it once.
func (a *Agent) enqueue(kind spool.Kind, req proto.Message) error {
	return a.enqueueBatch(kind, uuid.NewString(), req)
}

// enqueueBatch spools req under the given batch id: a report that may be
// spooled twice (after a crash) carries an id derived from its content, so
// the server applies it once.
func (a *Agent) enqueueBatch(kind spool.Kind, batchID string, req proto.Message) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("encoding a %s batch: %w", kind, err)
	}
	if _, err := a.spool.Append(kind, batchID, b); err != nil {
		return fmt.Errorf("spooling a %s batch: %w", kind, err)
	}
	return nil
}

// reportLoop drains the spool in order. A batch stays in the spool until
// the server acknowledged it (or refused it for good); while the server is
// unreachable the loop backs off and tries the same batch again.
func (a *Agent) reportLoop(ctx context.Context) error {
	bo := backoff{min: 500 * time.Millisecond, max: time.Minute}
	for {
		recs, err := a.spool.Peek(16)
		if err != nil {
			return fmt.Errorf("reading the spool: %w", err)
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-a.spool.Wait():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		for _, rec := range recs {
			if err := a.deliver(ctx, rec); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d := bo.next()
				a.log.Warn("reporting to the control plane failed; the batch stays in the spool", "kind", rec.Kind.String(),
					"batch_id", rec.BatchID, "error", err, "retry_in", d)
				if !sleep(ctx, d) {
					return nil
				}
				break
			}
			bo.reset()
			if ctx.Err() != nil {
				return nil
			}
		}
	}
}

// deliver sends one record. The call gets its own deadline and is not
// cancelled by a shutdown: a drain finishes the batch in flight rather
// than leave the server guessing. A permanent refusal (the batch is
// invalid, its policy deleted) acknowledges the record with an error log,
// since re-sending it can never succeed.
//
// Each delivery is the root of a trace that the report RPC carries to the
// server's ingest: the sweep that spooled the batch ended long before
// (perhaps in an earlier process), so the batch id, not a span link,
// ties the two together.
func (a *Agent) deliver(ctx context.Context, rec spool.Record) error {
	kind := rec.Kind.String()
	cctx, span := tracer.Start(context.WithoutCancel(ctx), "agent.report", trace.WithNewRoot(), trace.WithAttributes(
		attribute.String("sirsi.batch.kind", kind), attribute.String("sirsi.batch.id", rec.BatchID)))
	cctx, cancel := context.WithTimeout(cctx, time.Minute)
	defer cancel()
	dup, err := a.send(cctx, rec)
	span.SetAttributes(attribute.Bool("sirsi.batch.duplicate", dup))
	tracing.End(span, err)
	switch {
	case err == nil:
		outcome := "sent"
		if dup {
			outcome = "duplicate"
		}
		a.metrics.batches.WithLabelValues(kind, outcome).Inc()
		a.metrics.bytesSent.WithLabelValues(kind).Add(float64(len(rec.Payload)))
		a.metrics.lastReport.SetToCurrentTime()
	case permanent(err):
		a.metrics.batches.WithLabelValues(kind, "rejected").Inc()
		a.log.Error("the control plane refused a batch for good; dropping it", "kind", kind, "batch_id", rec.BatchID, "error", err)
	default:
		return err
	}
	if err := a.spool.Ack(rec.Seq); err != nil {
		return fmt.Errorf("acknowledging batch %s in the spool: %w", rec.BatchID, err)
	}
	if rec.Kind == spool.KindInventory {
		crashpoint.Hit(crashpoint.AgentAfterAck)
	}
	return nil
}

func permanent(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.OutOfRange, codes.AlreadyExists:
		return true
	}
	return false
}

func (a *Agent) send(ctx context.Context, rec spool.Record) (duplicate bool, err error) {
	c := a.client()
	switch rec.Kind {
	case spool.KindInventory:
		var req sirsiv1.ReportInventoryRequest
		if err := unmarshal(rec, &req); err != nil {
			return false, err
		}
		resp, err := c.ReportInventory(ctx, &req)
		if err != nil {
			return false, err
		}
		crashpoint.Hit(crashpoint.AgentAfterSend)
		// The batch is applied: the sweep it came from may become the
		// baseline before the spool forgets the batch, since a re-send
		// is a duplicate to the server.
		if err := a.sweeps.inventoryAccepted(rec.BatchID, resp.GetMissing()); err != nil {
			return false, err
		}
		return resp.GetDuplicate(), nil
	case spool.KindUtilization:
		var req sirsiv1.ReportUtilizationRequest
		if err := unmarshal(rec, &req); err != nil {
			return false, err
		}
		resp, err := c.ReportUtilization(ctx, &req)
		return resp.GetDuplicate(), err
	case spool.KindCosts:
		var req sirsiv1.ReportCostsRequest
		if err := unmarshal(rec, &req); err != nil {
			return false, err
		}
		resp, err := c.ReportCosts(ctx, &req)
		return resp.GetDuplicate(), err
	case spool.KindRecommendations:
		var req sirsiv1.ReportRecommendationsRequest
		if err := unmarshal(rec, &req); err != nil {
			return false, err
		}
		resp, err := c.ReportRecommendations(ctx, &req)
		return resp.GetDuplicate(), err
	case spool.KindActions:
		var req sirsiv1.ReportActionsRequest
		if err := unmarshal(rec, &req); err != nil {
			return false, err
		}
		resp, err := c.ReportActions(ctx, &req)
		return resp.GetDuplicate(), err
	}
	return false, status.Errorf(codes.InvalidArgument, "spool record %d has unknown kind %d", rec.Seq, rec.Kind)
}

// unmarshal decodes a spooled request and stamps the record's batch id on
// it; a record that does not decode is refused for good.
func unmarshal(rec spool.Record, m interface {
	proto.Message
	GetBatchId() string
}) error {
	if err := proto.Unmarshal(rec.Payload, m); err != nil {
		return status.Errorf(codes.InvalidArgument, "spool record %d (%s) does not decode: %v", rec.Seq, rec.Kind, err)
	}
	f := m.ProtoReflect().Descriptor().Fields().ByName("batch_id")
	m.ProtoReflect().Set(f, protoreflect.ValueOfString(rec.BatchID))
	return nil
}
