package scripts

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeTimeout bounds the by-hand steps: a build (warm cache), agentd dev
// starting, and an apply and destroy of the quickstart.
const readmeTimeout = 5 * time.Minute

// readmeSection is the README heading whose sh blocks the test runs.
const readmeSection = "## Trying it by hand"

// TestReadmeByHand runs the README's "Trying it by hand" blocks verbatim, in
// order, in one bash (so `cd`, exports and `%1` carry over as they do for a
// person), from the repository's root as the README says, with bin/terraform
// (1.5.7) as `terraform` on the PATH. The steps build into bin/ and keep
// agentd dev's state in .sirsi-dev/ (both ignored by git); the test removes
// the quickstart's state files Terraform leaves behind.
func TestReadmeByHand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs agentd dev")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(root, "bin", "terraform")
	if _, err := os.Stat(tf); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("bin/terraform is missing (make test builds it first): %v", err)
		}
		t.Skipf("bin/terraform is missing; run make terraform: %v", err)
	}
	script := readmeBlocks(t, filepath.Join(root, "README.md"), readmeSection)
	leftovers := []string{
		filepath.Join(root, ".sirsi-dev"),
		filepath.Join(root, "examples", "quickstart", "terraform.tfstate"),
		filepath.Join(root, "examples", "quickstart", "terraform.tfstate.backup"),
	}
	for _, p := range leftovers {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%s exists (from running the README by hand?): remove it; the test starts from a fresh state", p)
		}
	}
	t.Cleanup(func() {
		for _, p := range leftovers {
			if err := os.RemoveAll(p); err != nil {
				t.Error(err)
			}
		}
	})
	pathDir := t.TempDir()
	if err := os.Symlink(tf, filepath.Join(pathDir, "terraform")); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), readmeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	cmd.Env = append(cleanEnv(), "PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"), "CHECKPOINT_DISABLE=1")
	// Its own process group, so a timeout also ends the agentd dev it
	// started in the background.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(root, ".sirsi-dev", "log"))
		t.Fatalf("the README's steps failed: %v\nscript:\n%s\noutput:\n%s\nagentd dev's log:\n%s", err, script, out, log)
	}
	for _, want := range []string{"Apply complete! Resources: ", "Destroy complete! Resources: "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(leftovers[0]); !os.IsNotExist(err) {
		t.Errorf(".sirsi-dev is still there after the last step (stat: %v)", err)
	}
}

// readmeBlocks returns the ```sh blocks under heading, up to the next
// heading of the same level, joined in order.
func readmeBlocks(t *testing.T, path, heading string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	in, inBlock, blocks := false, false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case inBlock && line == "```":
			inBlock = false
		case inBlock:
			b.WriteString(line + "\n")
		case line == heading:
			in = true
		case in && strings.HasPrefix(line, "## "):
			in = false
		case in && line == "```sh":
			inBlock = true
			blocks++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if blocks == 0 {
		t.Fatalf("%s has no sh blocks under %q", path, heading)
	}
	return b.String()
}

// cleanEnv is the test's environment without SIRSI_* and TF_* variables, so
// the README's steps see what a fresh shell would.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SIRSI_") && !strings.HasPrefix(kv, "TF_") {
			env = append(env, kv)
		}
	}
	return env
}
