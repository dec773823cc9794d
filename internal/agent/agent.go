package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent/spool"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/cpaddr"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// Agent is one running agent.
type Agent struct {
	cfg     Config
	log     hclog.Logger
	now     func() time.Time
	started time.Time
	metrics *metrics
	spool   *spool.Spool

	creds *credentials
	conn  atomic.Pointer[grpc.ClientConn]

	// assignment is the last answer of GetAssignment (or its copy from the
	// data dir): the cloud account's AWS id and regions, and the policies.
	assignment atomic.Pointer[sirsiv1.GetAssignmentResponse]
	assigned   chan struct{}
	assignOnce sync.Once

	sweeps *sweeps

	hbInterval atomic.Int64
	// hbNow asks for a heartbeat before the interval ends.
	hbNow      chan struct{}
	mu         sync.Mutex
	lastSweeps map[string]time.Time
	lastError  string
	// sweepErrors is each sweep's last failure, kept after a success.
	sweepErrors map[string]sweepError
	credCheck   credentialsCheck
}

const assignmentFile = "assignment.pb"

// New validates cfg and opens the spool. Nothing is dialled yet.
func New(cfg Config) (*Agent, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data dir: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(cfg.DataDir, "spool"), MaxBytes: cfg.SpoolMaxBytes,
		Logger: cfg.Logger.Named("spool"), Registerer: cfg.Registerer, Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("opening the spool: %w", err)
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, now: cfg.Clock, started: cfg.Clock(), metrics: m, spool: sp,
		assigned: make(chan struct{}), hbNow: make(chan struct{}, 1), lastSweeps: map[string]time.Time{},
		sweepErrors: map[string]sweepError{}}
	a.hbInterval.Store(int64(30 * time.Second))
	if err := registerSweepHealth(cfg.Registerer, a); err != nil {
		_ = sp.Close()
		return nil, err
	}
	if err := a.loadAssignment(); err != nil {
		_ = sp.Close()
		return nil, err
	}
	a.sweeps, err = newSweeps(a)
	if err != nil {
		_ = sp.Close()
		return nil, err
	}
	return a, nil
}

// Ready reports whether the agent is enrolled and knows its assignment.
func (a *Agent) Ready(context.Context) error {
	if a.creds == nil {
		return errors.New("not enrolled yet")
	}
	if a.assignment.Load() == nil {
		return errors.New("no assignment from the control plane yet")
	}
	return nil
}

// Identity is the enrolled identity, or zero before enrollment.
func (a *Agent) Identity() Identity {
	if a.creds == nil {
		return Identity{}
	}
	return a.creds.identity()
}

// Gatherer serves the agent's metrics, including those of the components
// rebuilt when the assignment changes.
func (a *Agent) Gatherer() prometheus.Gatherer { return a.sweeps.gatherer() }

// Run enrolls if needed and then runs renewal, heartbeats, the reporter
// and the sweeps until ctx ends. On ctx's end the reporter finishes the
// batch it is sending, the spool is closed, and Run returns nil.
func (a *Agent) Run(ctx context.Context) error {
	defer func() {
		if err := a.sweeps.optimizing.close(); err != nil {
			a.log.Error("closing the action journal", "error", err)
		}
		if err := a.spool.Close(); err != nil {
			a.log.Error("closing the spool", "error", err)
		}
	}()
	if err := a.identify(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer func() {
		if c := a.conn.Load(); c != nil {
			_ = c.Close()
		}
	}()
	id := a.creds.identity()
	a.log.Info("agent identity", "agent_id", id.AgentID, "tenant_id", id.TenantID, "cloud_account_id", id.CloudAccountID,
		"certificate_expires", a.creds.leafCert().NotAfter)

	var g run.Group
	for _, actor := range []func(context.Context) error{a.renewLoop, a.heartbeatLoop, a.assignmentLoop, a.reportLoop, a.sweeps.run} {
		actx, cancel := context.WithCancel(ctx)
		g.Add(func() error { return actor(actx) }, func(error) { cancel() })
	}
	return g.Run()
}

// identify loads the identity from the data dir or enrolls, retrying
// while the control plane is unreachable.
func (a *Agent) identify(ctx context.Context) error {
	c, err := loadCredentials(a.cfg.DataDir)
	if err != nil {
		return err
	}
	if c != nil {
		if leaf := c.leafCert(); !a.now().Before(leaf.NotAfter) {
			return fmt.Errorf("the agent certificate expired at %s (the agent was stopped for longer than the certificate lives); "+
				"revoke agent %s and enroll again with a new token into an empty data dir", leaf.NotAfter.Format(time.RFC3339), c.identity().AgentID)
		}
		a.creds = c
		return a.dial()
	}
	if a.cfg.EnrollToken == "" {
		return ErrNotEnrolled
	}
	if len(a.cfg.CACertPEM) == 0 {
		return errors.New("ca_cert_file: required to enroll (the control plane's CA certificate, e.g. <server data dir>/pki/ca.pem)")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(a.cfg.CACertPEM) {
		return errors.New("ca_cert_file: holds no PEM certificate")
	}
	conn, err := a.newConn(grpc.WithTransportCredentials(grpccreds.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool})))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := sirsiv1.NewAgentServiceClient(conn)
	bo := backoff{min: time.Second, max: 30 * time.Second}
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, err = enroll(cctx, a.cfg.DataDir, client, a.cfg.EnrollToken, a.cfg.Hostname, a.cfg.Version)
		cancel()
		if err == nil {
			a.creds = c
			a.log.Info("enrolled with the control plane", "agent_id", c.identity().AgentID)
			return a.dial()
		}
		if !transient(err) {
			return err
		}
		a.log.Warn("control plane unreachable; retrying enrollment", "error", err)
		if !sleep(ctx, bo.next()) {
			return ctx.Err()
		}
	}
}

// newConn is a client of the control plane's replicas: gRPC resolves
// every configured address (names again after a lost connection) and uses
// the first replica that answers. The TLS name each replica is verified
// against comes from the resolver (its entry's host, or server_name).
func (a *Agent) newConn(opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	servers, err := cpaddr.Parse(a.cfg.Servers)
	if err != nil {
		return nil, fmt.Errorf("servers: %w", err)
	}
	target, copts := cpaddr.DialOptions(servers, a.cfg.ServerName)
	conn, err := grpc.NewClient(target, append(append(copts, tracing.DialOption()), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("servers %v: %w", a.cfg.Servers, err)
	}
	return conn, nil
}

// dial replaces the mTLS connection: after a renewal, new calls must carry
// the new certificate, and a TLS session keeps the one it started with.
func (a *Agent) dial() error {
	conn, err := a.newConn(
		grpc.WithTransportCredentials(grpccreds.NewTLS(a.creds.tlsConfig())),
		// A replica that stops answering without closing the connection
		// is noticed within Time+Timeout, and the agent moves on.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: time.Minute, Timeout: 20 * time.Second}),
	)
	if err != nil {
		return err
	}
	if old := a.conn.Swap(conn); old != nil {
		// In-flight calls on the old connection may finish; it closes once
		// they had time to.
		time.AfterFunc(time.Minute, func() { _ = old.Close() })
	}
	a.metrics.certExpiry.Set(float64(a.creds.leafCert().NotAfter.Unix()))
	return nil
}

func (a *Agent) client() sirsiv1.AgentServiceClient {
	return sirsiv1.NewAgentServiceClient(a.conn.Load())
}

// renewLoop renews at two thirds of the certificate's life, retrying with
// backoff until it works or the certificate runs out.
func (a *Agent) renewLoop(ctx context.Context) error {
	bo := backoff{min: 5 * time.Second, max: 5 * time.Minute}
	for {
		leaf := a.creds.leafCert()
		wait := pki.RenewalTime(leaf).Sub(a.now())
		if !sleep(ctx, wait) {
			return nil
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		nl, err := a.creds.renew(cctx, a.client(), a.cfg.Hostname)
		cancel()
		if err != nil {
			a.log.Error("renewing the agent certificate failed", "error", err, "expires", leaf.NotAfter)
			a.metrics.renewals.WithLabelValues("failed").Inc()
			if !sleep(ctx, min(bo.next(), max(time.Second, time.Until(leaf.NotAfter)/4))) {
				return nil
			}
			continue
		}
		bo.reset()
		a.metrics.renewals.WithLabelValues("ok").Inc()
		a.log.Info("renewed the agent certificate", "expires", nl.NotAfter)
		if err := a.dial(); err != nil {
			return err
		}
	}
}

// heartbeatLoop tells the control plane the agent is alive, at the
// interval the server asks for.
func (a *Agent) heartbeatLoop(ctx context.Context) error {
	for {
		a.heartbeat(ctx)
		t := time.NewTimer(time.Duration(a.hbInterval.Load()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-a.hbNow:
			t.Stop()
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context) {
	a.mu.Lock()
	req := &sirsiv1.HeartbeatRequest{Version: a.cfg.Version, Hostname: a.cfg.Hostname,
		Uptime: durationpb.New(a.now().Sub(a.started)), LastError: a.lastError, LastSweepTimes: map[string]*timestamppb.Timestamp{}}
	for k, v := range a.lastSweeps {
		req.LastSweepTimes[k] = timestamppb.New(v)
	}
	for k, f := range a.sweepErrors {
		if req.LastSweepFailures == nil {
			req.LastSweepFailures = map[string]*sirsiv1.SweepFailure{}
		}
		req.LastSweepFailures[k] = &sirsiv1.SweepFailure{Time: timestamppb.New(f.at), Error: f.message}
	}
	req.CredentialsVerdict, req.CredentialsDetail = a.credCheck.verdict, truncate(a.credCheck.detail, maxCredentialsDetail)
	a.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := a.client().Heartbeat(cctx, req)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("heartbeat failed", "error", err)
		}
		return
	}
	if iv := resp.GetInterval().AsDuration(); iv >= time.Second && iv <= time.Hour {
		a.hbInterval.Store(int64(iv))
	}
}

// assignmentLoop refreshes the assignment every few minutes; the sweeps
// wait for the first one.
func (a *Agent) assignmentLoop(ctx context.Context) error {
	bo := backoff{min: time.Second, max: time.Minute}
	for {
		err := a.fetchAssignment(ctx)
		wait := 5 * time.Minute
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.log.Warn("fetching the assignment failed", "error", err)
			wait = bo.next()
		} else {
			bo.reset()
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// fetchAssignment asks the control plane for the assignment and keeps it;
// an unusable one is logged and the previous one kept.
func (a *Agent) fetchAssignment(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	resp, err := a.client().GetAssignment(cctx, &sirsiv1.GetAssignmentRequest{})
	cancel()
	if err != nil {
		return err
	}
	if err := a.setAssignment(resp, true); err != nil {
		a.log.Error("the control plane sent an unusable assignment", "error", err)
	}
	return nil
}

func (a *Agent) loadAssignment() error {
	b, err := os.ReadFile(filepath.Join(a.cfg.DataDir, assignmentFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the saved assignment: %w", err)
	}
	var resp sirsiv1.GetAssignmentResponse
	if err := proto.Unmarshal(b, &resp); err != nil {
		a.log.Warn("ignoring the saved assignment: it does not decode", "error", err)
		return nil
	}
	if err := a.setAssignment(&resp, false); err != nil {
		a.log.Warn("ignoring the saved assignment", "error", err)
	}
	return nil
}

func (a *Agent) setAssignment(resp *sirsiv1.GetAssignmentResponse, save bool) error {
	acct := resp.GetCloudAccount()
	if acct == nil || len(acct.GetAccountId()) != 12 || len(acct.GetRegions()) == 0 {
		return errors.New("the cloud account, its 12-digit AWS account id and at least one region are required")
	}
	if old := a.assignment.Load(); old != nil && proto.Equal(old, resp) {
		return nil
	}
	if save {
		b, err := proto.Marshal(resp)
		if err != nil {
			return fmt.Errorf("encoding the assignment: %w", err)
		}
		if err := atomicfile.Write(filepath.Join(a.cfg.DataDir, assignmentFile), b, 0o600); err != nil {
			a.log.Warn("could not save the assignment; a restart while the control plane is down will wait for it", "error", err)
		}
	}
	a.assignment.Store(resp)
	a.assignOnce.Do(func() { close(a.assigned) })
	a.log.Debug("assignment", "account_id", acct.GetAccountId(), "regions", acct.GetRegions(), "policies", len(resp.GetPolicies()))
	return nil
}

// maxCredentialsDetail is the control plane's bound on
// HeartbeatRequest.credentials_detail.
const maxCredentialsDetail = 1024

// setCredentialsCheck keeps the last verdict for the heartbeats; a change
// is logged, and sent at once so the account's status shows it.
func (a *Agent) setCredentialsCheck(c credentialsCheck) {
	a.mu.Lock()
	changed := a.credCheck != c
	a.credCheck = c
	a.mu.Unlock()
	if !changed {
		return
	}
	if c.verdict == sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_OK {
		a.log.Info("AWS credentials belong to the cloud account")
	} else {
		a.log.Error("AWS credentials do not serve the cloud account: sweeps and actions stop until they do", "verdict", c.verdict.String(), "detail", c.detail)
	}
	select {
	case a.hbNow <- struct{}{}:
	default:
	}
}

// credentialsOK says whether the last check passed (or none ran yet).
func (a *Agent) credentialsOK() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := a.credCheck.verdict
	return v == sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_UNSPECIFIED || v == sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_OK
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (a *Agent) recordSweep(name string, at time.Time, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.lastError = fmt.Sprintf("%s sweep: %v", name, err)
		a.sweepErrors[name] = sweepError{at: at, message: truncate(err.Error(), maxSweepError)}
		return
	}
	a.lastSweeps[name] = at
}

// transient says whether a call failed for a reason that may pass.
func transient(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted, codes.Internal, codes.Unknown, codes.Canceled:
		return true
	}
	return false
}

type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
