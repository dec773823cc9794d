package awssim

import (
	"context"
	"fmt"
	"io"
	"net"
)

// StandaloneAccessKey and StandaloneSecretKey are the credentials RunStandalone
// prints. The simulator accepts any key; fixed ones make scripts repeatable.
const (
	StandaloneAccessKey = "AKIASIRSISIMULATOR01"
	StandaloneSecretKey = "sirsi-sim-secret-key-not-checked"
)

// RunStandalone serves the simulator on addr (loopback only; "" picks
// 127.0.0.1:0), prints shell export lines for the AWS CLI, SDKs and
// Terraform's AWS provider to out, and serves until ctx ends. ready, when
// not nil, runs once the simulator listens and before the export lines are
// printed (agentd sim seeds its fleet there, so a client reading the
// exports finds the fleet complete).
func RunStandalone(ctx context.Context, opts Options, addr string, out io.Writer, ready func(ctx context.Context, endpoint string) error) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("awssim: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("awssim: address %q: the simulator only listens on loopback", addr)
	}
	sim, err := New(opts)
	if err != nil {
		return err
	}
	srv, err := sim.Start(ctx, addr)
	if err != nil {
		return err
	}
	if ready != nil {
		if err := ready(ctx, srv.URL); err != nil {
			_ = srv.Close()
			return err
		}
	}
	region := sim.Regions()[0]
	_, err = fmt.Fprintf(out, "export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_REGION=%s\nexport AWS_DEFAULT_REGION=%s\n",
		srv.URL, StandaloneAccessKey, StandaloneSecretKey, region, region)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("awssim: printing the environment: %w", err)
	}
	<-ctx.Done()
	return srv.Close()
}
