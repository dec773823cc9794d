package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func bearerInterceptor(token string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

func newBackoff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 200 * time.Millisecond
	b.MaxInterval = 10 * time.Second
	b.Multiplier = 2
	b.RandomizationFactor = 0.5
	// The interceptor enforces the overall deadline itself.
	b.MaxElapsedTime = 0
	b.Reset()
	return b
}

// MaxAttempts bounds the calls one request makes, retries included.
const MaxAttempts = 5

// retryInterceptor retries until MaxAttempts calls were made, timeout has
// passed since the first attempt, or ctx ends. A RetryInfo delay from the
// server takes precedence over the computed backoff, stretched by up to a
// fifth so that clients refused together do not come back together; a
// delay reaching past timeout ends the retries at once.
//
// ResourceExhausted is retried for every method: the server refuses
// rate-limited and locked-out calls before their handler runs, so nothing
// was done. Unavailable is retried only for reads (Get*, List*), because
// a connection lost mid-call may have carried out a create or update.
func retryInterceptor(timeout time.Duration, newBackOff func() backoff.BackOff) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		deadline := time.Now().Add(timeout)
		b := newBackOff()
		for attempt := 1; ; attempt++ {
			err := invoker(ctx, method, req, reply, cc, opts...)
			if err == nil || !retryable(method, err) || attempt >= MaxAttempts {
				return err
			}
			wait := b.NextBackOff()
			if d, ok := retryDelay(err); ok {
				wait = d + rand.N(d/5+1)
			}
			if wait == backoff.Stop || time.Now().Add(wait).After(deadline) {
				return err
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(err, ctx.Err())
			case <-t.C:
			}
		}
	}
}

func retryable(method string, err error) bool {
	switch status.Code(err) {
	case codes.ResourceExhausted:
		return true
	case codes.Unavailable:
		name := method[strings.LastIndex(method, "/")+1:]
		return strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List")
	}
	return false
}

func retryDelay(err error) (time.Duration, bool) {
	st, ok := status.FromError(err)
	if !ok {
		return 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			if delay := ri.GetRetryDelay().AsDuration(); delay > 0 {
				return delay, true
			}
		}
	}
	return 0, false
}
