package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// motoStartTimeout bounds how long moto_server may take to import its
// Python modules and bind; on a loaded 2-core machine that is seconds.
const motoStartTimeout = 60 * time.Second

// StartMoto starts moto_server on a free 127.0.0.1 port, waits until it
// answers, stops it when the test ends and returns its endpoint URL. Outside
// CI a missing moto_server skips the test; under CI=true it fails it.
func StartMoto(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		unavailable(t, fmt.Errorf("moto_server: %w", ErrUnavailable))
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("starting moto: %v", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1")
	// Its own process group, so the cleanup also ends any child the Python
	// launcher may fork.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logFile, err := os.CreateTemp(t.TempDir(), "moto-*.log")
	if err != nil {
		t.Fatalf("starting moto: log file: %v", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting moto_server: %v", err)
	}
	// exitErr is read only after exited is closed. After the cleanup's
	// signals it says nothing; before readiness it says why moto died.
	var exitErr error
	exited := make(chan struct{})
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		_ = logFile.Close()
	})
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), motoStartTimeout)
	defer cancel()
	for {
		if motoReady(ctx, endpoint) {
			return endpoint
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logFile.Name())
			t.Fatalf("moto_server exited before it was ready (%v): %s", exitErr, out)
		case <-ctx.Done():
			out, _ := os.ReadFile(logFile.Name())
			t.Fatalf("moto_server not ready within %v: %s", motoStartTimeout, out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func motoReady(ctx context.Context, endpoint string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/moto-api/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
