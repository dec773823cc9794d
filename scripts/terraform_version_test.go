package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// versionCheckRuns is how often the check must pass in a row: the old
// `terraform version | grep -q` under pipefail failed in 5-25 % of runs.
const versionCheckRuns = 200

// fakeTerraform writes an executable that prints what `terraform version`
// prints (the version line first) followed by far more than a pipe buffer,
// so a reader that stops at the first match makes it die of SIGPIPE.
func fakeTerraform(t *testing.T, version string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "terraform")
	script := "#!/bin/sh\nprintf 'Terraform v" + version + "\\non linux_amd64\\n'\nyes padding | head -c 131072\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCheck(t *testing.T, tf, version string) (string, error) {
	t.Helper()
	out, err := exec.Command("bash", "terraform-version.sh", tf, version).CombinedOutput()
	return string(out), err
}

func TestTerraformVersionCheckNeverFailsOnTheRightVersion(t *testing.T) {
	tf := fakeTerraform(t, "1.5.7")

	// The control: the pipeline the check replaced does fail on this
	// output, so the runs below can tell the difference.
	naive := exec.Command("bash", "-euo", "pipefail", "-c", `"$0" version 2>&1 | grep -q "^Terraform v1.5.7$"`, tf)
	var exit *exec.ExitError
	if err := naive.Run(); !errors.As(err, &exit) || exit.ExitCode() != 141 {
		t.Fatalf("the old pipeline returned %v on the fake's output; want exit status 141 (SIGPIPE)", err)
	}

	for i := range versionCheckRuns {
		if out, err := runCheck(t, tf, "1.5.7"); err != nil {
			t.Fatalf("run %d of %d: %v\n%s", i+1, versionCheckRuns, err, out)
		}
	}
	// The real binary, when `make` has built it.
	if bin, err := filepath.Abs("../bin/terraform"); err == nil {
		if _, err := os.Stat(bin); err == nil {
			for i := range versionCheckRuns {
				if out, err := runCheck(t, bin, "1.5.7"); err != nil {
					t.Fatalf("bin/terraform, run %d of %d: %v\n%s", i+1, versionCheckRuns, err, out)
				}
			}
		}
	}
}

func TestTerraformVersionCheckRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, fake, want string
	}{
		{"another version", "1.11.0", "is not Terraform v1.5.7"},
		{"a prefix of the version", "1.5.70", "is not Terraform v1.5.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCheck(t, fakeTerraform(t, tc.fake), "1.5.7")
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("check = %v, %q; want a failure saying %q", err, out, tc.want)
			}
		})
	}
	t.Run("a binary that fails", func(t *testing.T) {
		out, err := runCheck(t, "/bin/false", "1.5.7")
		if err == nil || !strings.Contains(out, "version failed") {
			t.Fatalf("check = %v, %q; want a failure saying the command failed", err, out)
		}
	})
}
