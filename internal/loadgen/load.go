package loadgen

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Model is one way of offering load. Open loop: every client sends a page
// every Interval from a random phase for Duration, whatever the replies
// do, and a request's latency counts from its scheduled time, so a slow
// reply is also charged to the requests queued behind it (no coordinated
// omission). Closed loop (Interval 0): every client sends Pages requests
// back to back; that saturates the server by construction and gives the
// throughput ceiling.
type Model struct {
	Name     string
	Interval time.Duration
	Duration time.Duration
	Pages    int
}

// Offered is the request rate an open model offers with n clients; 0 for
// closed loop.
func (m Model) Offered(n int) float64 {
	if m.Interval <= 0 {
		return 0
	}
	return float64(n) / m.Interval.Seconds()
}

// Open is the open-loop model offering rate requests a second from n
// clients for d.
func Open(rate float64, n int, d time.Duration) Model {
	return Model{Name: fmt.Sprintf("open, %g req/s", rate), Interval: time.Duration(float64(n) / rate * float64(time.Second)), Duration: d}
}

// Closed is the closed-loop model: each client reads that many pages back to
// back.
func Closed(n, pages int) Model {
	return Model{Name: fmt.Sprintf("closed, %d clients", n), Pages: pages}
}

// schedule gives the send time of a client's k-th request as an offset
// from the run's start (0: as soon as the previous reply is in); ok is
// false after its last request.
func (m Model) schedule(rng *mrand.Rand) func(k int) (at time.Duration, ok bool) {
	if m.Interval <= 0 {
		return func(k int) (time.Duration, bool) { return 0, k < m.Pages }
	}
	phase := time.Duration(rng.Int64N(int64(m.Interval)))
	return func(k int) (time.Duration, bool) {
		at := phase + time.Duration(k)*m.Interval
		return at, at < m.Duration
	}
}

// Client is one caller: its connection's stub and the page token it
// starts from ("" is the first page). Each client walks the list page by
// page and starts again at the first page after the last.
type Client struct {
	API   sirsiv1.ManagementServiceClient
	Start string
	// Target is the index of the server (replica) API is connected to.
	Target int
}

// Result is one run: every request's latency, the wall time from the
// start to the last reply, and when it ran.
type Result struct {
	Latencies []time.Duration
	// PerClient is how many requests each client made.
	PerClient []int
	Wall      time.Duration
	Began     time.Time
}

// Rate is the requests per second the run completed.
func (r Result) Rate() float64 { return float64(len(r.Latencies)) / r.Wall.Seconds() }

// requestTimeout bounds one request, so a wedged server fails the run
// instead of hanging it.
const requestTimeout = 2 * time.Minute

// Run has every client read pages of pageSize by the model and returns
// every latency; the first failed request, or a page of another size than
// pageSize, ends it with an error: a figure over failed calls would
// flatter the server.
func Run(ctx context.Context, clients []Client, m Model, pageSize int32) (Result, error) {
	var (
		mu   sync.Mutex
		all  []time.Duration
		wg   sync.WaitGroup
		fail error
		once sync.Once
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := make(chan struct{})
	var t0 time.Time
	perClient := make([]int, len(clients))
	for i, c := range clients {
		plan := m.schedule(mrand.New(mrand.NewPCG(uint64(i), 1)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			mine := make([]time.Duration, 0, 8)
			tok := c.Start
			for k := 0; ; k++ {
				at, ok := plan(k)
				if !ok {
					break
				}
				sent := time.Now()
				if at > 0 {
					sent = t0.Add(at)
					select {
					case <-time.After(time.Until(sent)):
					case <-ctx.Done():
						return
					}
				}
				rctx, rcancel := context.WithTimeout(ctx, requestTimeout)
				r, err := c.API.ListResources(rctx, &sirsiv1.ListResourcesRequest{PageSize: pageSize, PageToken: tok})
				rcancel()
				mine = append(mine, time.Since(sent))
				if err == nil && len(r.GetResources()) != int(pageSize) {
					err = fmt.Errorf("client %d: page %d has %d resources, want %d", i, k, len(r.GetResources()), pageSize)
				}
				if err != nil {
					once.Do(func() { fail = fmt.Errorf("client %d: ListResources: %w", i, err); cancel() })
					return
				}
				tok = r.GetNextPageToken()
			}
			mu.Lock()
			all = append(all, mine...)
			perClient[i] = len(mine)
			mu.Unlock()
		}()
	}
	t0 = time.Now()
	close(start)
	wg.Wait()
	if fail != nil {
		return Result{}, fail
	}
	return Result{Latencies: all, PerClient: perClient, Wall: time.Since(t0), Began: t0}, nil
}
