package awsclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
)

// Limiter keeps every attempt (retries included) inside AWS's published
// request-rate buckets, per service, region and API category, so a sweep
// slows down before AWS has to throttle it. One Limiter is shared by every
// client of an account.
type Limiter struct {
	scale   float64
	metrics *Metrics

	mu      sync.Mutex
	buckets map[limitKey]*rate.Limiter
}

type limitKey struct{ service, region, bucket string }

// Headroom is the share of a published bucket the limiter uses: the rest
// absorbs calls granted back to back that reach AWS in another order, and
// the adaptive retry absorbs what still gets throttled.
const Headroom = 0.95

// NewLimiter builds a limiter. scale multiplies every bucket's capacity and
// refill (1 = AWS's figures; a simulator that enforces scaled quotas needs
// the same scale). metrics may be nil.
func NewLimiter(scale float64, metrics *Metrics) (*Limiter, error) {
	if scale <= 0 || math.IsInf(scale, 0) || math.IsNaN(scale) {
		return nil, fmt.Errorf("limiter scale %v: must be a positive number", scale)
	}
	return &Limiter{scale: scale, metrics: metrics, buckets: map[limitKey]*rate.Limiter{}}, nil
}

func (l *Limiter) bucket(service, region string, spec awsquota.Bucket) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limitKey{service, region, spec.Name}
	b, ok := l.buckets[k]
	if !ok {
		// A little under AWS's figures: calls granted back to back can reach
		// AWS in another order and with other gaps than they left, and
		// AWS's bucket must still hold a token for each.
		burst := max(1, int(math.Floor(spec.Capacity*l.scale*Headroom)))
		b = rate.NewLimiter(rate.Limit(spec.Refill*l.scale*Headroom), burst)
		l.buckets[k] = b
	}
	return b
}

// wait takes the tokens one attempt needs: one from its request-rate
// bucket and, for the EC2 instance lifecycle actions, one per instance from
// the resource-rate bucket.
func (l *Limiter) wait(ctx context.Context, service, region, operation string, in any) error {
	start := time.Now()
	spec := awsquota.For(service, operation, unfiltered(in))
	if err := l.bucket(service, region, spec).Wait(ctx); err != nil {
		return fmt.Errorf("waiting for the %s %s rate limit: %w", service, spec.Name, err)
	}
	if res, ok := awsquota.EC2Resource(operation); ok && service == "EC2" {
		n := sliceLen(in, "InstanceIds")
		b := l.bucket(service, region, res)
		for n > 0 {
			take := min(n, b.Burst())
			if err := b.WaitN(ctx, take); err != nil {
				return fmt.Errorf("waiting for the EC2 %s rate limit: %w", res.Name, err)
			}
			n -= take
		}
	}
	if l.metrics != nil {
		l.metrics.limiterWait.WithLabelValues(service).Add(time.Since(start).Seconds())
	}
	return nil
}

// unfiltered reports whether an input carries none of the parameters that
// keep an EC2 Describe call out of the stricter "unfiltered and
// unpaginated" category.
func unfiltered(in any) bool {
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return true
	}
	for _, name := range []string{"Filters", "MaxResults", "NextToken", "InstanceIds", "VolumeIds", "SnapshotIds", "OwnerIds"} {
		if f := v.FieldByName(name); f.IsValid() && !f.IsZero() {
			return false
		}
	}
	return true
}

func sliceLen(in any, field string) int {
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	if f := v.FieldByName(field); f.IsValid() && f.Kind() == reflect.Slice {
		return f.Len()
	}
	return 0
}

// Metrics counts every attempt per service, operation and outcome, the
// throttles among them, and the time spent waiting for the limiter.
type Metrics struct {
	attempts    *prometheus.CounterVec
	throttles   *prometheus.CounterVec
	limiterWait *prometheus.CounterVec
}

// NewMetrics registers the AWS call metrics on r.
func NewMetrics(r prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_aws_requests_total",
			Help: "AWS API attempts (retries included) by service, operation and outcome (ok, throttled, error).",
		}, []string{"service", "operation", "outcome"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_aws_throttles_total",
			Help: "AWS API attempts answered with a throttling error, by service.",
		}, []string{"service"}),
		limiterWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_aws_limiter_wait_seconds_total",
			Help: "Time spent waiting for the client-side AWS rate limiter, by service.",
		}, []string{"service"}),
	}
	for _, c := range []prometheus.Collector{m.attempts, m.throttles, m.limiterWait} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("registering AWS client metrics: %w", err)
		}
	}
	return m, nil
}

// IsThrottle reports whether err is one of AWS's throttling answers.
func IsThrottle(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	_, ok := throttleCodes[ae.ErrorCode()]
	return ok
}

var throttleCodes = map[string]struct{}{
	"Throttling": {}, "ThrottlingException": {}, "ThrottledException": {}, "RequestThrottledException": {},
	"TooManyRequestsException": {}, "RequestLimitExceeded": {}, "SlowDown": {}, "LimitExceededException": {},
	"RequestThrottled": {}, "EC2ThrottledException": {}, "BandwidthLimitExceeded": {},
}

type inputKey struct{}

// attemptMiddleware adds two steps: Initialize remembers the operation's
// input (the limiter classifies EC2 calls by their parameters) and a
// Finalize step after the retry loop waits for the limiter and counts the
// outcome of every single attempt.
func attemptMiddleware(l *Limiter, m *Metrics) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("sirsiRememberInput",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(middleware.WithStackValue(ctx, inputKey{}, in.Parameters), in)
			}), middleware.Before); err != nil {
			return err
		}
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("sirsiAttempt",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
				if l != nil {
					if err := l.wait(ctx, service, awsmiddleware.GetRegion(ctx), op, middleware.GetStackValue(ctx, inputKey{})); err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, err
					}
				}
				out, md, err := next.HandleFinalize(ctx, in)
				if m != nil {
					outcome := "ok"
					switch {
					case IsThrottle(err):
						outcome = "throttled"
						m.throttles.WithLabelValues(service).Inc()
					case err != nil:
						outcome = "error"
					}
					m.attempts.WithLabelValues(service, op, outcome).Inc()
				}
				return out, md, err
			}), middleware.After)
	}
}
