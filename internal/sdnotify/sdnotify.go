// Package sdnotify tells systemd about the daemon's state with the
// sd_notify protocol (systemd's documented interface, sd_notify(3)): one
// datagram of newline-separated KEY=VALUE assignments to the unix socket
// named by $NOTIFY_SOCKET. A service with Type=notify is "started" only
// once READY=1 arrives, so units ordered after agentd wait for its
// listeners rather than for its process. Without $NOTIFY_SOCKET (not
// started by systemd, or another Type) every call does nothing.
package sdnotify

import (
	"fmt"
	"net"
	"os"
)

// States the daemon sends.
const (
	// Ready: the listeners are bound and the components are starting.
	Ready = "READY=1"
	// Stopping: the daemon received a stop signal and drains.
	Stopping = "STOPPING=1"
	// Reloading: the daemon rereads its configuration (SIGHUP); Ready
	// follows when it is done.
	Reloading = "RELOADING=1"
)

// socketEnv is the variable systemd sets for Type=notify services.
const socketEnv = "NOTIFY_SOCKET"

// Notify sends state to systemd. It returns nil without $NOTIFY_SOCKET.
func Notify(state string) error {
	path := os.Getenv(socketEnv)
	if path == "" {
		return nil
	}
	// A leading '@' names a socket in Linux's abstract namespace;
	// net.UnixAddr takes that spelling as it is.
	addr := &net.UnixAddr{Name: path, Net: "unixgram"}
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return fmt.Errorf("sd_notify: connecting to %s=%s: %w", socketEnv, path, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: sending %q: %w", state, err)
	}
	return nil
}
