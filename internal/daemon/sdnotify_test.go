package daemon

import (
	"net"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/sdnotify"
)

// TestSystemdNotify runs agentd as systemd runs a Type=notify unit: with
// NOTIFY_SOCKET set. It must say READY=1 once it serves (its export lines
// are printed by then), RELOADING=1 then READY=1 around a SIGHUP, and
// STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("NOTIFY_SOCKET", socket)

	p := startAgentd(t, append(slices.Clone(devArgs), "-dev-fleet-size", "0")...)
	next := func() string {
		t.Helper()
		if err := ln.SetReadDeadline(time.Now().Add(waitBound)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no notification from agentd: %v", err)
		}
		return string(buf[:n])
	}
	if got := next(); got != sdnotify.Ready {
		t.Fatalf("first notification %q, want %q", got, sdnotify.Ready)
	}
	p.exports(4)
	p.signal(syscall.SIGHUP)
	for _, want := range []string{sdnotify.Reloading, sdnotify.Ready} {
		if got := next(); got != want {
			t.Fatalf("after SIGHUP: %q, want %q", got, want)
		}
	}
	p.signal(syscall.SIGTERM)
	if got := next(); got != sdnotify.Stopping {
		t.Fatalf("after SIGTERM: %q, want %q", got, sdnotify.Stopping)
	}
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d, want %d", code, exitOK)
	}
}
