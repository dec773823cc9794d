package awssim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// DefaultAccountID is the account every access key maps to unless
// Options.Accounts says otherwise.
const DefaultAccountID = "123456789012"

// DefaultRegions are the regions the simulator serves when Options.Regions is
// empty; they match the regions the price catalogue covers.
var DefaultRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"}

// DevStateDelay is the transition delay dev mode and `agentd sim` should
// use: long enough that callers see pending and stopping, as on AWS, short
// enough not to slow anyone down.
const DevStateDelay = 2 * time.Second

// Clock is the simulator's source of time. Tests use a *ManualClock to step
// through state transitions and throttle refills without sleeping.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now().UTC() }

// ManualClock is a Clock that only moves when told to.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock frozen at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start.UTC()} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Options configures a Sim. The zero value is usable.
type Options struct {
	// AccountID is the account of every access key not listed in Accounts.
	AccountID string
	// Accounts maps access key ids to account ids, for multi-account tests.
	Accounts map[string]string
	// RoleExternalIDs makes AssumeRole of a role ARN require this ExternalId,
	// as the role's trust policy would.
	RoleExternalIDs map[string]string
	// Regions the simulator serves; requests for others get the service's
	// "unknown endpoint" error. Defaults to DefaultRegions.
	Regions []string
	// Seed makes ids, utilisation profiles and injected faults repeatable.
	Seed int64
	// Clock defaults to the wall clock.
	Clock Clock
	// StateDelay is how long transitional states (pending, stopping,
	// shutting-down, creating, ...) last. Zero makes transitions immediate;
	// dev mode uses a couple of seconds so callers see the real state machine.
	StateDelay time.Duration
	// TerminatedRetention is how long terminated instances stay visible in
	// DescribeInstances, as on AWS (about an hour). Defaults to one hour.
	TerminatedRetention time.Duration
	// Backfill pretends every resource created through the API has existed
	// (and run) this long already, so dev mode shows weeks of metrics and
	// costs immediately. Zero records resources from their real creation.
	Backfill time.Duration
	// NoResourceLevelCosts answers GetCostAndUsageWithResources with
	// DataUnavailableException, as AWS does for an account that has not
	// opted in to resource-level data (an opt-in AWS bills for).
	NoResourceLevelCosts bool
	// Throttle configures the token buckets.
	Throttle ThrottleOptions
	// Logger defaults to a null logger.
	Logger hclog.Logger
}

// Sim is one simulated AWS partition: accounts, regions and services.
type Sim struct {
	opts    Options
	log     hclog.Logger
	clock   Clock
	regions map[string]bool

	mu       sync.Mutex
	accounts map[string]*Account
	creds    map[string]session // temporary access key -> session (STS)
	// denied is, by role ARN, the IAM actions its sessions may not call
	// (DenyRoleActions).
	denied map[string]map[string]bool
	rng    *rand.Rand // ids; guarded by mu
	// imageRoots is the root device type of images that are not EBS-backed.
	imageRoots map[string]string

	throttle *throttler
	faults   *faults
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// New validates opts and returns a simulator with empty state.
func New(opts Options) (*Sim, error) {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if !accountIDPattern.MatchString(opts.AccountID) {
		return nil, fmt.Errorf("awssim: Options.AccountID %q: must be 12 digits", opts.AccountID)
	}
	for key, acct := range opts.Accounts {
		if !accountIDPattern.MatchString(acct) {
			return nil, fmt.Errorf("awssim: Options.Accounts[%q] = %q: must be 12 digits", key, acct)
		}
	}
	if len(opts.Regions) == 0 {
		opts.Regions = append([]string(nil), DefaultRegions...)
	}
	regions := make(map[string]bool, len(opts.Regions))
	for _, r := range opts.Regions {
		if !regionPattern.MatchString(r) {
			return nil, fmt.Errorf("awssim: Options.Regions: %q is not a region name", r)
		}
		regions[r] = true
	}
	if opts.StateDelay < 0 || opts.TerminatedRetention < 0 || opts.Backfill < 0 {
		return nil, errors.New("awssim: Options.StateDelay, TerminatedRetention and Backfill must not be negative")
	}
	if opts.TerminatedRetention == 0 {
		opts.TerminatedRetention = time.Hour
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	th, err := newThrottler(opts.Throttle)
	if err != nil {
		return nil, fmt.Errorf("awssim: Options.Throttle: %w", err)
	}
	seed := uint64(opts.Seed)
	return &Sim{
		opts:     opts,
		log:      opts.Logger.Named("awssim"),
		clock:    opts.Clock,
		regions:  regions,
		accounts: map[string]*Account{},
		creds:    map[string]session{},
		denied:   map[string]map[string]bool{},
		rng:      rand.New(rand.NewPCG(seed, 0x5151_aaaa)),
		throttle: th,
		faults:   newFaults(seed),
	}, nil
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)

// Now is the simulator's current time.
func (s *Sim) Now() time.Time { return s.clock.Now().UTC() }

// AccountID is the default account.
func (s *Sim) AccountID() string { return s.opts.AccountID }

// Regions lists the served regions in the configured order.
func (s *Sim) Regions() []string { return append([]string(nil), s.opts.Regions...) }

// shutdownGrace bounds how long Close waits for in-flight requests.
const shutdownGrace = time.Second

// Server is a running simulator listener.
type Server struct {
	// URL is the base endpoint, e.g. http://127.0.0.1:43123.
	URL    string
	Addr   net.Addr
	cancel context.CancelFunc
	done   chan error
}

// Start serves the simulator on addr (use "127.0.0.1:0" for a free port)
// until ctx ends or Close is called.
func (s *Sim) Start(ctx context.Context, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("awssim: listening on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	srv := &Server{URL: "http://" + ln.Addr().String(), Addr: ln.Addr(), cancel: cancel, done: make(chan error, 1)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	go func() {
		var err error
		select {
		case <-ctx.Done():
			// In-flight requests get a grace period; after it the remaining
			// connections are cut. net/http counts a connection that never
			// sent a request as busy for its first 5 seconds, and the SDK's
			// transport opens such spares under concurrency.
			shutdownCtx, stop := context.WithTimeout(context.Background(), shutdownGrace)
			err = hs.Shutdown(shutdownCtx)
			stop()
			if errors.Is(err, context.DeadlineExceeded) {
				err = hs.Close()
			}
			// Serve returns http.ErrServerClosed after Shutdown or Close;
			// anything else is why serving ended.
			if serr := <-serveErr; err == nil && !errors.Is(serr, http.ErrServerClosed) {
				err = serr
			}
		case err = <-serveErr:
			cancel()
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		srv.done <- err
		close(srv.done)
	}()
	s.log.Info("serving simulated AWS", "url", srv.URL)
	return srv, nil
}

// Close stops the listener, waits for in-flight requests and reports why
// serving ended, if not because of Close.
func (srv *Server) Close() error {
	srv.cancel()
	err := <-srv.done
	if err != nil {
		return fmt.Errorf("awssim: serving: %w", err)
	}
	return nil
}
