package sdnotify

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a notify socket the way systemd does and returns it.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func receive(t *testing.T, ln *net.UnixConn) string {
	t.Helper()
	// A bound on waiting for a datagram that should already be queued.
	if err := ln.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := ln.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	for name, socket := range map[string]string{
		"path":     filepath.Join(t.TempDir(), "notify"),
		"abstract": "@sirsi-sdnotify-test-" + strconv.FormatInt(time.Now().UnixNano(), 36),
	} {
		t.Run(name, func(t *testing.T) {
			ln := listen(t, socket)
			t.Setenv(socketEnv, socket)
			for _, state := range []string{Ready, Reloading, Stopping} {
				if err := Notify(state); err != nil {
					t.Fatal(err)
				}
				if got := receive(t, ln); got != state {
					t.Errorf("systemd received %q, want %q", got, state)
				}
			}
		})
	}
}

func TestNotifyWithoutSocketDoesNothing(t *testing.T) {
	t.Setenv(socketEnv, "")
	if err := Notify(Ready); err != nil {
		t.Fatalf("Notify without %s = %v, want nil", socketEnv, err)
	}
}

func TestNotifyNamesTheSocketWhenItCannotSend(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent")
	t.Setenv(socketEnv, missing)
	err := Notify(Ready)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Notify to a missing socket = %v, want an error naming %s", err, missing)
	}
}
