package monitor

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

// epoch is the simulated "now" of the tests on a manual clock: a
// Wednesday noon, so windows are not day-aligned.
var epoch = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func startSim(t testing.TB, o awssim.Options) (*awssim.Sim, string) {
	t.Helper()
	sim, err := awssim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return sim, srv.URL
}

// calls counts SDK operation invocations (pages, not retries) by operation
// name, and remembers how many queries each GetMetricData carried.
type calls struct {
	mu      sync.Mutex
	ops     map[string]int
	queries []int
}

func (c *calls) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op]
}

func (c *calls) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			if c.ops == nil {
				c.ops = map[string]int{}
			}
			c.ops[awsmiddleware.GetOperationName(ctx)]++
			if q, ok := in.Parameters.(*cloudwatch.GetMetricDataInput); ok {
				c.queries = append(c.queries, len(q.MetricDataQueries))
			}
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// loadConfig builds an agent-style config against the simulator, with a
// call counter.
func loadConfig(t testing.TB, url string, o awsclient.Options) (aws.Config, *calls) {
	t.Helper()
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	o.Endpoint = url
	o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	cfg, err := awsclient.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	c := &calls{}
	cfg.APIOptions = append(cfg.APIOptions, c.middleware)
	return cfg, c
}

// counterValue reads a counter by name from a registry.
func counterValue(t testing.TB, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func bufferLogger(buf *syncBuffer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: buf, Level: hclog.Debug})
}
