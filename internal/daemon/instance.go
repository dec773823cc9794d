package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/console"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/retention"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/telemetry"
)

// Files inside the data dir.
const (
	sqliteFile        = "agentd.db"
	pkiDir            = "tls"
	operatorTokenFile = "operator-token"
)

// instance is one running control plane: store, gRPC API, HTTP endpoints.
// agentd server and agentd dev build it the same way.
type instance struct {
	cfg   *config.Server
	log   hclog.Logger
	reg   *prometheus.Registry
	ready *telemetry.Readiness

	st     store.Store
	cp     *controlplane.Server
	pruner *retention.Pruner
	grpc   *grpc.Server
	health *health.Server
	grpcLn net.Listener
	grpcUp *telemetry.Flag
	https  []*httpListener
	// changes carries what agents report to the web console's streams;
	// fanout, with PostgreSQL, carries it to the other replicas' too.
	changes *console.Hub
	fanout  *console.PGFanout

	// ca is the data dir CA: it signs agent certificates always, and the
	// listeners' certificates unless operator files serve the management
	// API. serverCert is its certificate for the listeners, made once.
	ca         *pki.CA
	serverCert *pki.ServerCert
	// agentGRPC serves AgentService alone, with mutual TLS, on agentLn;
	// both nil when agent_listen is empty.
	agentGRPC *grpc.Server
	agentLn   net.Listener

	// keyPair is set when serving operator-provided certificate files, so
	// SIGHUP can reload them.
	keyPair *pki.KeyPairFile
	// caCertPath is set when the daemon's own CA issued the server
	// certificate; clients need it to trust the listener.
	caCertPath string
	// tempDataDir is a data dir dev mode created and must remove, even on
	// a forced exit.
	tempDataDir string

	// sealer seals the store's secrets and the CA key at rest; vault is
	// its Vault client when the seal backend is vault, kept logged in by
	// an actor.
	sealer secrets.Sealer
	// auditKey signs audit checkpoints (and prunes); it is kept sealed in
	// the store.
	auditKey ed25519.PrivateKey
	vault    *secrets.Vault
}

type httpListener struct {
	name string
	ln   net.Listener
	srv  *http.Server
}

func newHTTPServer(h http.Handler, log hclog.Logger, pprof bool) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	if pprof {
		// CPU profiles and traces stream for as long as they were asked to.
		srv.WriteTimeout = 0
	}
	return srv
}

// addHTTPActor serves h until interrupted, then shuts it down within
// timeout.
func addHTTPActor(g *run.Group, log hclog.Logger, h *httpListener, timeout time.Duration) {
	g.Add(func() error {
		log.Info("HTTP listening", "listener", h.name, "addr", h.ln.Addr().String())
		if err := h.srv.Serve(h.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving %s: %w", h.name, err)
		}
		return nil
	}, func(error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := h.srv.Shutdown(ctx); err != nil {
			log.Warn("HTTP shutdown cut short", "listener", h.name, "error", err)
		}
	})
}

type instanceOptions struct {
	cfg *config.Server
	log hclog.Logger
	// rpcLatency delays every RPC (agentd dev -dev-rpc-latency), to try
	// client timeouts and the graceful drain by hand.
	rpcLatency time.Duration
}

// startTimeout bounds opening and migrating the store at start.
const startTimeout = time.Minute

// newInstance opens everything and binds the listeners, so a port in use
// or a bad certificate fails the start, not the first request. On error
// whatever was opened is closed again.
func newInstance(ctx context.Context, o instanceOptions) (_ *instance, err error) {
	in := &instance{
		cfg:    o.cfg,
		log:    o.log,
		reg:    telemetry.NewRegistry(),
		ready:  telemetry.NewReadiness(),
		grpcUp: telemetry.NewFlag("gRPC listener"),
	}
	defer func() {
		if err != nil {
			in.close()
		}
	}()
	if err := os.MkdirAll(in.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data dir: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := in.openStore(ctx); err != nil {
		return nil, err
	}
	if err := in.openSeal(ctx); err != nil {
		return nil, err
	}
	if err := in.checkSharedSeal(ctx); err != nil {
		return nil, err
	}
	if in.auditKey, err = sealed.AuditCheckpointKey(ctx, in.st, in.sealer); err != nil {
		return nil, err
	}
	if err := in.loadCA(); err != nil {
		return nil, err
	}
	if err := in.checkSharedCA(ctx); err != nil {
		return nil, err
	}
	var agentCA *pki.CA
	if in.cfg.AgentListen != "" {
		agentCA = in.ca
	}
	in.cp, err = controlplane.New(controlplane.Options{
		Store:                in.st,
		Sealer:               in.sealer,
		Logger:               in.log.Named("controlplane"),
		Registerer:           in.reg,
		AgentStaleAfter:      in.cfg.AgentStaleAfter,
		WebhookAllowLoopback: in.cfg.WebhookAllowLoopback,
		WebhookTimeout:       in.cfg.WebhookTimeout,
		ListCacheBytes:       listCacheBytes(in.cfg.ListCacheBytes),
		OperatorToken:        in.cfg.OperatorToken,
		AgentCA:              agentCA,
		TrustDomain:          in.cfg.TrustDomain,
		AgentCertTTL:         in.cfg.AgentCertTTL,
		HeartbeatInterval:    in.cfg.AgentHeartbeatInterval,
		RateLimits: controlplane.RateLimits{
			ManagementPerMinute:      in.cfg.RateLimit.ManagementPerMinute,
			OperatorPerMinute:        in.cfg.RateLimit.OperatorPerMinute,
			AgentPerMinute:           in.cfg.RateLimit.AgentPerMinute,
			UnauthenticatedPerMinute: in.cfg.RateLimit.UnauthenticatedPerMinute,
			TenantPerMinute:          in.cfg.RateLimit.TenantPerMinute,
		},
		MaxAPITokensPerTenant: in.cfg.RateLimit.MaxAPITokensPerTenant,
		Lockout: controlplane.LockoutPolicy{
			Window: in.cfg.Lockout.Window, DelayAfter: in.cfg.Lockout.FailuresBeforeDelay,
			BlockAfter: in.cfg.Lockout.FailuresBeforeBlock, BlockFor: in.cfg.Lockout.BlockFor,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	in.pruner, err = retention.New(retention.Options{
		Store: in.st,
		Defaults: retention.Days{
			Utilization: in.cfg.Retention.UtilizationDays, Actions: in.cfg.Retention.ActionDays, Anomalies: in.cfg.Retention.AnomalyDays,
			Audit: in.cfg.Retention.AuditDays,
		},
		AuditKey: in.auditKey,
		Interval: in.cfg.Retention.Interval, BatchSize: in.cfg.Retention.BatchSize,
		Logger: in.log.Named("retention"), Registerer: in.reg,
	})
	if err != nil {
		return nil, fmt.Errorf("starting the retention pruner: %w", err)
	}
	if err := in.saveInitialOperatorToken(); err != nil {
		return nil, err
	}
	creds, err := in.transportCredentials()
	if err != nil {
		return nil, err
	}
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sirsi_grpc_requests_in_flight",
		Help: "gRPC requests being handled; a graceful shutdown waits for them.",
	})
	if err := in.reg.Register(inflight); err != nil {
		return nil, fmt.Errorf("registering daemon metrics: %w", err)
	}
	common := []grpc.ServerOption{grpc.ChainUnaryInterceptor(countInFlight(inflight), accessLog(in.log.Named("grpc")))}
	common = append(common, in.cp.ServerOptions()...)
	// Innermost, where the caller is known: tell the console's browsers,
	// those of every replica when they share a PostgreSQL database.
	if in.cfg.DatabaseURL != "" {
		if in.fanout, err = console.NewPGFanout(ctx, in.cfg.DatabaseURL, in.log.Named("console")); err != nil {
			return nil, err
		}
		in.changes = console.NewHub(in.fanout)
	} else {
		in.changes = console.NewHub(nil)
	}
	common = append(common, grpc.ChainUnaryInterceptor(in.changes.Interceptor()))
	if o.rpcLatency > 0 {
		common = append(common, grpc.ChainUnaryInterceptor(addLatency(o.rpcLatency)))
	}
	in.grpc = grpc.NewServer(append([]grpc.ServerOption{grpc.Creds(creds), grpc.MaxRecvMsgSize(controlplane.MaxManagementMessageBytes)}, common...)...)
	in.cp.Register(in.grpc)
	in.health = health.NewServer()
	healthpb.RegisterHealthServer(in.grpc, in.health)

	in.grpcLn, err = net.Listen("tcp", in.cfg.GRPCListen)
	if err != nil {
		return nil, fmt.Errorf("grpc_listen: %w", err)
	}
	if err := in.listenAgents(common); err != nil {
		return nil, err
	}
	if err := in.listenHTTP(); err != nil {
		return nil, err
	}
	in.ready.Add("store", func(ctx context.Context) error {
		if _, err := in.st.SchemaVersion(ctx); err != nil {
			return fmt.Errorf("store unreachable: %w", err)
		}
		return nil
	})
	in.ready.Add("grpc", in.grpcUp.Check)
	return in, nil
}

func (in *instance) openStore(ctx context.Context) error {
	path := filepath.Join(in.cfg.DataDir, sqliteFile)
	st, err := openStore(ctx, in.cfg, path, 0, in.log)
	if err != nil {
		return err
	}
	in.st = st
	if in.cfg.DatabaseURL != "" {
		in.log.Info("store opened", "backend", "postgresql")
	} else {
		in.log.Info("store opened", "backend", "sqlite", "path", path)
	}
	return nil
}

// saveInitialOperatorToken writes a token the control plane generated on
// first start to <data-dir>/operator-token, once: an existing file is never
// replaced, and the token itself is never logged.
func (in *instance) saveInitialOperatorToken() error {
	tok := in.cp.InitialOperatorToken()
	if tok == "" {
		return nil
	}
	path := filepath.Join(in.cfg.DataDir, operatorTokenFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("the database had no operator token, so a new one was generated, but %s already exists and is never overwritten: "+
			"move it away and supply a token with -operator-token-file (or restore the database that file belongs to)", path)
	}
	if err != nil {
		return fmt.Errorf("writing the operator token: %w", err)
	}
	_, werr := f.WriteString(tok + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing the operator token to %s: %w", path, err)
	}
	in.log.Info("generated the operator token on first start; it is in a file readable only by this user", "path", path)
	return nil
}

func (in *instance) transportCredentials() (credentials.TransportCredentials, error) {
	if in.cfg.Insecure {
		in.log.Warn("serving gRPC WITHOUT TLS: tokens cross the network in clear text", "source", in.cfg.SourceOf("insecure").String())
		return insecure.NewCredentials(), nil
	}
	var clientCAs *x509.CertPool
	if in.cfg.TLS.ClientCAFile != "" {
		var err error
		if clientCAs, err = pki.LoadCertPool(in.cfg.TLS.ClientCAFile); err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
	}
	if in.cfg.TLS.CertFile != "" {
		kp, err := pki.LoadKeyPairFile(in.cfg.TLS.CertFile, in.cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		in.keyPair = kp
		return credentials.NewTLS(pki.ServerTLSConfig(kp.GetCertificate, clientCAs)), nil
	}
	sc, err := in.listenerCert(true)
	if err != nil {
		return nil, err
	}
	in.caCertPath = in.ca.CertPath
	in.log.Info("serving TLS with a certificate from the data dir CA", "ca_cert", in.ca.CertPath, "not_after", sc.Leaf().NotAfter)
	return credentials.NewTLS(pki.ServerTLSConfig(sc.GetCertificate, clientCAs)), nil
}

// loadCA loads or creates the data dir CA. It is needed whatever serves
// the management API, because it signs agent certificates.
func (in *instance) loadCA() error {
	ca, created, err := pki.LoadOrCreateCA(pki.Options{Dir: filepath.Join(in.cfg.DataDir, pkiDir), Name: in.cfg.TrustDomain, Sealer: in.sealer})
	if err != nil {
		return err
	}
	if created {
		in.log.Info("created the certificate authority", "cert", ca.CertPath)
	}
	if ca.SealedOnLoad {
		in.log.Info("sealed the CA private key, which was stored in clear", "backend", in.cfg.Seal.Backend)
	}
	in.ca = ca
	return nil
}

// listenerCert is the CA-issued certificate of the listeners that use
// one: a single certificate for the management API (when management is
// true) and the agent listener, since both live in the same files of the
// data dir.
func (in *instance) listenerCert(management bool) (*pki.ServerCert, error) {
	if in.serverCert != nil {
		return in.serverCert, nil
	}
	names := append([]string(nil), in.cfg.ServerNames...)
	addrs := []string{in.cfg.AgentListen}
	if management {
		addrs = append(addrs, in.cfg.GRPCListen)
	}
	for _, addr := range addrs {
		if host, _, err := net.SplitHostPort(addr); err == nil && host != "" && !net.ParseIP(host).IsUnspecified() {
			names = append(names, host)
		}
	}
	sc, err := pki.NewServerCert(in.ca, filepath.Join(in.cfg.DataDir, pkiDir), names)
	if err != nil {
		return nil, err
	}
	log := in.log.Named("pki")
	sc.OnRenew(func(c *x509.Certificate) {
		log.Info("renewed the server certificate", "not_after", c.NotAfter)
	})
	in.serverCert = sc
	return sc, nil
}

// listenAgents binds the agent listener: AgentService and health only,
// always mutual TLS with the data dir CA (client certificates are optional
// at the handshake because Enroll has none, and verified when given).
func (in *instance) listenAgents(common []grpc.ServerOption) error {
	if in.cfg.AgentListen == "" {
		in.log.Info("agent listener off (agent_listen is empty)")
		return nil
	}
	sc, err := in.listenerCert(in.keyPair == nil && !in.cfg.Insecure)
	if err != nil {
		return err
	}
	cfg := pki.ServerTLSConfig(sc.GetCertificate, nil)
	cfg.ClientAuth, cfg.ClientCAs = tls.VerifyClientCertIfGiven, in.ca.Pool()
	opts := append([]grpc.ServerOption{grpc.Creds(in.cp.ObserveHandshakes(credentials.NewTLS(cfg))), grpc.MaxRecvMsgSize(controlplane.MaxAgentMessageBytes)}, common...)
	in.agentGRPC = grpc.NewServer(opts...)
	in.cp.RegisterAgentService(in.agentGRPC)
	healthpb.RegisterHealthServer(in.agentGRPC, in.health)
	in.agentLn, err = net.Listen("tcp", in.cfg.AgentListen)
	if err != nil {
		return fmt.Errorf("agent_listen: %w", err)
	}
	return nil
}

func (in *instance) listenHTTP() error {
	var err error
	ui := console.New(console.Options{API: in.cp, Changes: in.changes, Log: in.log.Named("console")})
	in.https, err = openHTTPListeners(in.log, httpAddrs{main: in.cfg.HTTPListen, metrics: in.cfg.MetricsListen, pprof: in.cfg.PprofListen, ui: ui}, in.ready, in.reg)
	return err
}

// httpAddrs are a daemon's HTTP listeners: health, readiness and (unless
// metrics has its own) /metrics on main, with the web console (ui, the
// server's) under console.Prefix; pprof only when asked for.
type httpAddrs struct {
	main, metrics, pprof string
	ui                   http.Handler
}

// openHTTPListeners binds the listeners, so a port in use fails the start;
// on error the ones already bound are closed.
func openHTTPListeners(log hclog.Logger, a httpAddrs, ready *telemetry.Readiness, g prometheus.Gatherer) ([]*httpListener, error) {
	var out []*httpListener
	add := func(name, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range out {
				_ = l.ln.Close()
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, &httpListener{name: name, ln: ln, srv: newHTTPServer(h, log, name == "pprof_listen")})
		return nil
	}
	main := telemetry.HTTPOptions{Health: true, Ready: ready}
	if a.metrics == "" {
		main.Gatherer = g
	}
	mainHandler := telemetry.NewHTTPHandler(main)
	if a.ui != nil {
		mux := http.NewServeMux()
		mux.Handle(console.Prefix, a.ui)
		mux.Handle("/", mainHandler)
		mainHandler = mux
	}
	if err := add("http_listen", a.main, mainHandler); err != nil {
		return nil, err
	}
	if a.metrics != "" {
		if err := add("metrics_listen", a.metrics, telemetry.NewHTTPHandler(telemetry.HTTPOptions{Gatherer: g})); err != nil {
			return nil, err
		}
	}
	if a.pprof != "" {
		if err := add("pprof_listen", a.pprof, telemetry.NewPprofHandler()); err != nil {
			return nil, err
		}
		log.Warn("pprof is enabled; keep its listener private", "addr", a.pprof)
	}
	return out, nil
}

// consoleURL is the web console's address on the main HTTP listener,
// with a loopback host when it listens on every interface.
func (in *instance) consoleURL() string {
	for _, h := range in.https {
		if h.name != "http_listen" {
			continue
		}
		addr := h.ln.Addr().(*net.TCPAddr)
		host := addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)) + console.Prefix
	}
	return ""
}

// grpcAddr is the bound gRPC address (the real port when listening on :0).
func (in *instance) grpcAddr() string { return in.grpcLn.Addr().String() }

// endpoint is the URL clients use: https when serving TLS, http otherwise,
// with a loopback host when the listener is on every interface.
func (in *instance) endpoint() string {
	host, port, _ := net.SplitHostPort(in.grpcAddr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "https"
	if in.cfg.Insecure {
		scheme = "http"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// agentEndpoint is the agent listener's URL (always https), with a
// loopback host when it listens on every interface; "" when it is off.
func (in *instance) agentEndpoint() string {
	if in.agentLn == nil {
		return ""
	}
	host, port, _ := net.SplitHostPort(in.agentLn.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, port)
}

// agentCACertPath is the CA file agents trust for the agent listener.
func (in *instance) agentCACertPath() string { return in.ca.CertPath }

// addActors puts the listeners and background jobs into g.
func (in *instance) addActors(g *run.Group) {
	glog := in.log.Named("grpc")
	g.Add(func() error {
		in.grpcUp.Set(true)
		in.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		glog.Info("gRPC API listening", "addr", in.grpcAddr(), "endpoint", in.endpoint())
		if err := in.grpc.Serve(in.grpcLn); err != nil {
			return fmt.Errorf("serving gRPC: %w", err)
		}
		return nil
	}, func(error) {
		in.grpcUp.Set(false)
		in.health.Shutdown()
		in.drain(glog, in.grpc)
	})
	if in.agentGRPC != nil {
		alog := in.log.Named("agents")
		g.Add(func() error {
			alog.Info("agent listener ready", "addr", in.agentLn.Addr().String(), "endpoint", in.agentEndpoint(), "ca_cert", in.agentCACertPath())
			if err := in.agentGRPC.Serve(in.agentLn); err != nil {
				return fmt.Errorf("serving the agent listener: %w", err)
			}
			return nil
		}, func(error) {
			in.drain(alog, in.agentGRPC)
		})
	}
	for _, h := range in.https {
		addHTTPActor(g, in.log.Named("http"), h, in.cfg.ShutdownTimeout)
	}
	in.addSealActor(g)
	if in.fanout != nil {
		fctx, fcancel := context.WithCancel(context.Background())
		g.Add(func() error { return in.fanout.Run(fctx, in.changes) }, func(error) { fcancel() })
	}
	cpCtx, cpCancel := context.WithCancel(context.Background())
	cp := &checkpointer{st: in.st, key: in.auditKey, every: in.cfg.AuditCheckpointInterval, log: in.log.Named("audit"), now: time.Now}
	g.Add(func() error { return cp.Run(cpCtx) }, func(error) { cpCancel() })
	ctx, cancel := context.WithCancel(context.Background())
	g.Add(func() error {
		if err := in.cp.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("control plane background jobs: %w", err)
		}
		return nil
	}, func(error) { cancel() })
	pctx, pcancel := context.WithCancel(context.Background())
	g.Add(func() error { return in.pruner.Run(pctx) }, func(error) { pcancel() })
}

// drain lets in-flight RPCs finish for up to ShutdownTimeout, then cuts
// whatever is left.
func (in *instance) drain(log hclog.Logger, srv *grpc.Server) {
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(in.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
		log.Info("gRPC drained")
	case <-timer.C:
		log.Warn("in-flight RPCs outlived the shutdown timeout; cutting them", "shutdown_timeout", in.cfg.ShutdownTimeout)
		srv.Stop()
		<-done
	}
}

// forceStop cuts every connection at once (the second signal).
func (in *instance) forceStop() {
	in.grpc.Stop()
	if in.agentGRPC != nil {
		in.agentGRPC.Stop()
	}
	for _, h := range in.https {
		_ = h.srv.Close()
	}
	in.removeTempDataDir()
}

func (in *instance) removeTempDataDir() {
	if in.tempDataDir == "" {
		return
	}
	if err := os.RemoveAll(in.tempDataDir); err != nil {
		in.log.Warn("removing the temporary data dir", "dir", in.tempDataDir, "error", err)
	}
}

// close releases what newInstance opened; safe on a partial instance.
func (in *instance) close() {
	if in.grpcLn != nil {
		_ = in.grpcLn.Close()
	}
	if in.agentLn != nil {
		_ = in.agentLn.Close()
	}
	for _, h := range in.https {
		_ = h.ln.Close()
	}
	if in.fanout != nil {
		in.fanout.Close()
	}
	if in.st != nil {
		if err := in.st.Close(); err != nil {
			in.log.Error("closing the store", "error", err)
		}
	}
}

// reload applies what SIGHUP may change: the log level and operator-provided
// certificate files.
func (in *instance) reload(load func() (*config.Server, error)) {
	cfg, err := load()
	if err != nil {
		in.log.Error("SIGHUP: configuration not reloaded; keeping the running one", "error", err)
		return
	}
	if !reloadLevel(in.log, cfg.LogLevel, "source", cfg.SourceOf("log_level").String()) {
		return
	}
	if in.keyPair != nil {
		if err := in.keyPair.Reload(); err != nil {
			in.log.Error("SIGHUP: TLS certificate not reloaded; keeping the old one", "error", err)
		} else {
			in.log.Info("SIGHUP: reloaded the TLS certificate")
		}
	}
}

func countInFlight(g prometheus.Gauge) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		g.Inc()
		defer g.Dec()
		return handler(ctx, req)
	}
}

// accessLog logs every RPC at debug level: method, outcome and duration,
// never the request, which can carry secrets.
func accessLog(log hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !log.IsDebug() {
			return handler(ctx, req)
		}
		start := time.Now()
		resp, err := handler(ctx, req)
		log.Debug("rpc", "method", info.FullMethod, "code", status.Code(err).String(), "duration", time.Since(start))
		return resp, err
	}
}

func addLatency(d time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return handler(ctx, req)
	}
}

// listCacheBytes maps list_cache_size (0 is off) onto
// controlplane.Options.ListCacheBytes (0 is the default, negative off).
func listCacheBytes(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}
