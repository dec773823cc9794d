package awstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one aws CLI run (Python start-up included).
const cliTimeout = 60 * time.Second

// CLIResult is what one aws CLI run produced.
type CLIResult struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// RunCLI runs the installed aws CLI against endpoint with dummy credentials,
// --output json and --region us-east-1 unless args name a region. It
// isolates the CLI from the user's configuration files.
func RunCLI(t testing.TB, endpoint string, args ...string) CLIResult {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		unavailable(t, fmt.Errorf("aws CLI: %w", ErrUnavailable))
	}
	full := []string{"--endpoint-url", endpoint, "--output", "json"}
	if !slices.Contains(args, "--region") {
		full = append(full, "--region", "us-east-1")
	}
	full = append(full, args...)
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	dir := t.TempDir()
	cmd.Env = append(withoutAWSEnv(os.Environ()),
		"AWS_ACCESS_KEY_ID=AKIDSIMTEST",
		"AWS_SECRET_ACCESS_KEY=simsecret",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_RETRY_MODE=standard",
		"AWS_MAX_ATTEMPTS=1",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := CLIResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		t.Fatalf("running aws %v: %v", args, err)
	}
	return res
}

// CLI runs the aws CLI (see RunCLI), fails the test unless it exits 0 and
// returns its stdout.
func CLI(t testing.TB, endpoint string, args ...string) []byte {
	t.Helper()
	res := RunCLI(t, endpoint, args...)
	if res.ExitCode != 0 {
		t.Fatalf("aws %v exited %d: %s", args, res.ExitCode, res.Stderr)
	}
	return res.Stdout
}

// withoutAWSEnv drops the caller's AWS_* settings so a developer's profile,
// session token or endpoint override cannot leak into the run.
func withoutAWSEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
}
