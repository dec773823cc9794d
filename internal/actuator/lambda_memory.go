package actuator

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// A Lambda memory change: UpdateFunctionConfiguration MemorySize, wait
// for LastUpdateStatus Successful, verify errors and duration over the
// verify window, and set the memory back on failure.

const (
	// errorRateSlack: the change fails verification when the share of
	// invocations that errored since is more than this above the share in
	// as long a window before; one point tolerates the noise of small
	// counts while catching out-of-memory errors.
	errorRateSlack = 0.01
	// timeoutShare: an average duration at or above this share of the
	// function's timeout means less memory (and so less CPU) pushes it to
	// time out.
	timeoutShare = 0.9
)

func (f *flow) lambda() LambdaAPI { return f.a.cfg.Lambda(f.rec.Req.Region) }

func (f *flow) functionConfig(ctx context.Context) (*lambda.GetFunctionConfigurationOutput, error) {
	name := f.rec.Req.ResourceID
	out, err := f.lambda().GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of function %s: %w", name, err)
	}
	return out, nil
}

func (f *flow) checkFunction(ctx context.Context) (string, string, error) {
	req := f.rec.Req
	out, err := f.lambda().GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(req.ResourceID)})
	if err != nil {
		return "", "", fmt.Errorf("reading function %s: %w", req.ResourceID, err)
	}
	if err := f.checkTags(out.Tags); err != nil {
		return "", "", err
	}
	c := out.Configuration
	if c == nil {
		return "", "", fmt.Errorf("function %s: AWS returned no configuration", req.ResourceID)
	}
	if c.State != lambdatypes.StateActive {
		return "", "", fmt.Errorf("function %s is %s: a memory change needs it Active", req.ResourceID, c.State)
	}
	if c.LastUpdateStatus == lambdatypes.LastUpdateStatusInProgress {
		return "", "", fmt.Errorf("function %s has an update in progress", req.ResourceID)
	}
	if mem := strconv.Itoa(int(aws.ToInt32(c.MemorySize))); mem != req.FromSize {
		return "", "", fmt.Errorf("function %s has %s MB, not from_size %s: the recommendation is stale", req.ResourceID, mem, req.FromSize)
	}
	f.rec.OrigType, f.rec.OrigState = req.FromSize, string(c.State)
	f.rec.TimeoutSec = int(aws.ToInt32(c.Timeout))
	return phaseUpdateMemory, fmt.Sprintf("function %s: %s MB, timeout %d s", req.ResourceID, req.FromSize, f.rec.TimeoutSec), nil
}

// updateMemory sets MemorySize to mb unless the function has it already.
func (f *flow) updateMemory(ctx context.Context, mb string) (result, error) {
	name := f.rec.Req.ResourceID
	c, err := f.functionConfig(ctx)
	if err != nil {
		return result{}, err
	}
	cur := strconv.Itoa(int(aws.ToInt32(c.MemorySize)))
	if cur == mb {
		return result{skipped: true, detail: "already " + mb + " MB"}, nil
	}
	size, err := strconv.Atoi(mb)
	if err != nil {
		return result{}, fmt.Errorf("memory %q: %w", mb, err)
	}
	_, err = f.lambda().UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name), MemorySize: aws.Int32(int32(size)), RevisionId: c.RevisionId,
	})
	if err != nil {
		return result{}, fmt.Errorf("changing function %s from %s to %s MB: %w", name, cur, mb, err)
	}
	return result{detail: cur + " -> " + mb + " MB"}, nil
}

// waitFunction waits for LastUpdateStatus Successful at mb.
func (f *flow) waitFunction(ctx context.Context, mb, next string) (result, error) {
	res, err := f.poll(ctx, func() (bool, string, error) {
		c, err := f.functionConfig(ctx)
		if err != nil {
			return false, "", err
		}
		cur := strconv.Itoa(int(aws.ToInt32(c.MemorySize)))
		switch c.LastUpdateStatus {
		case lambdatypes.LastUpdateStatusFailed:
			if cur == mb {
				// A failed update leaves the function on its previous
				// configuration: when that is mb (a rollback after the
				// failure), there is nothing left to wait for.
				return true, "last update failed; the function runs " + mb + " MB", nil
			}
			return false, "", fmt.Errorf("update of function %s failed: %s: %s", f.rec.Req.ResourceID, c.LastUpdateStatusReasonCode, aws.ToString(c.LastUpdateStatusReason))
		case lambdatypes.LastUpdateStatusInProgress:
			return false, "update in progress", nil
		}
		if cur != mb {
			return false, "", fmt.Errorf("function %s has %s MB after its update, not %s", f.rec.Req.ResourceID, cur, mb)
		}
		f.rec.RunningSince = f.a.cfg.Now().UTC()
		return true, "update successful: " + mb + " MB", nil
	})
	res.next = next
	return res, err
}

// verifyFunction compares errors and duration since the change with as
// long a window before the flow started.
func (f *flow) verifyFunction(ctx context.Context) (result, error) {
	req := f.rec.Req
	if err := f.waitVerify(ctx); err != nil {
		return result{}, err
	}
	// Judged as the function is at the end of the wait: one deleted
	// meanwhile is not a success.
	c, err := f.functionConfig(ctx)
	if err != nil {
		return result{}, err
	}
	if mem := strconv.Itoa(int(aws.ToInt32(c.MemorySize))); mem != req.ToSize {
		return result{}, fmt.Errorf("function %s has %s MB at verification, not %s", req.ResourceID, mem, req.ToSize)
	}
	if req.VerifyWait <= 0 {
		return result{skipped: true, detail: "verify wait is 0: errors and duration not checked"}, nil
	}
	from, to, ok := f.verifyWindow()
	if !ok {
		return result{skipped: true, detail: "no complete 5-minute period since the change: errors and duration not checked"}, nil
	}
	dim := map[string]string{"FunctionName": req.ResourceID}
	// rate is the share of invocations that errored, and how many there
	// were.
	rate := func(f0, t0 time.Time) (float64, float64, error) {
		e, en, err := f.metricMean(ctx, "AWS/Lambda", "Errors", dim, "Sum", f0, t0)
		if err != nil {
			return 0, 0, err
		}
		inv, in, err := f.metricMean(ctx, "AWS/Lambda", "Invocations", dim, "Sum", f0, t0)
		if err != nil || in == 0 || inv == 0 {
			return 0, 0, err
		}
		return e * float64(en) / (inv * float64(in)), inv * float64(in), nil
	}
	span := to.Sub(from)
	after, invocations, err := rate(from, to)
	if err != nil {
		return result{}, err
	}
	if invocations == 0 {
		return result{detail: "no invocations since the change: not judged"}, nil
	}
	before, _, err := rate(f.beforeWindow(span))
	if err != nil {
		return result{}, err
	}
	if after > before+errorRateSlack {
		return result{}, fmt.Errorf("function %s errors rose from %.1f%% to %.1f%% of invocations at %s MB", req.ResourceID, before*100, after*100, req.ToSize)
	}
	dur, _, err := f.metricMean(ctx, "AWS/Lambda", "Duration", dim, "Average", from, to)
	if err != nil {
		return result{}, err
	}
	if limit := float64(f.rec.TimeoutSec) * 1000 * timeoutShare; f.rec.TimeoutSec > 0 && dur >= limit {
		return result{}, fmt.Errorf("function %s runs %.0f ms on average at %s MB, at least %.0f%% of its %d s timeout", req.ResourceID, dur, req.ToSize, timeoutShare*100, f.rec.TimeoutSec)
	}
	return result{detail: fmt.Sprintf("errors %.1f%% (before %.1f%%), duration %.0f ms over %.0f invocations", after*100, before*100, dur, invocations)}, nil
}

func (f *flow) tagFunction(ctx context.Context, tags map[string]string) error {
	c, err := f.functionConfig(ctx)
	if err != nil {
		return err
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = truncateTag(v)
	}
	if _, err := f.lambda().TagResource(ctx, &lambda.TagResourceInput{Resource: c.FunctionArn, Tags: out}); err != nil {
		return fmt.Errorf("tagging function %s: %w", f.rec.Req.ResourceID, err)
	}
	return nil
}
