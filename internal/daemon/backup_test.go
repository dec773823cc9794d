package daemon

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestServerBackupRestore backs up the data dir of a running agentd (dev
// mode: the server with a tenant, an audit log, a CA and a seal key) with
// the real binary, then restores it by starting agentd on the backup: the
// tenant, the CA and the audit chain must be the ones backed up.
func TestServerBackupRestore(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	args := append(slices.Clone(devArgs), "-dev-fleet-size", "0", "-data-dir", dataDir)
	running := startAgentd(t, args...)
	before := running.exports(4)
	caBefore, err := os.ReadFile(before["SIRSI_CA_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}

	backup := filepath.Join(t.TempDir(), "backup")
	agentd := func(args ...string) (string, error) {
		out, err := exec.Command(agentdBin, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := agentd("server", "backup", "-data-dir", dataDir, "-out", backup); err != nil {
		t.Fatalf("backup of a running server: %v\n%s", err, out)
	}
	if out, err := agentd("server", "backup", "-data-dir", dataDir, "-out", backup); err == nil || !strings.Contains(out, "file exists") {
		t.Errorf("a second backup into the same directory: %v %q, want a refusal", err, out)
	}
	if out, err := agentd("server", "backup", "-data-dir", dataDir, "-out", filepath.Join(dataDir, "b")); err == nil || !strings.Contains(out, "inside the data dir") {
		t.Errorf("a backup into the data dir: %v %q, want a refusal", err, out)
	}
	running.signal(syscall.SIGTERM)
	if code := running.wait(); code != exitOK {
		t.Fatalf("agentd exit code %d", code)
	}
	info, err := os.Stat(filepath.Join(backup, sqliteFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("the database copy has mode %v, want 0600", info.Mode().Perm())
	}

	// Restore: the backup directory becomes a data dir.
	if out, err := agentd("server", "audit", "verify", "-data-dir", backup); err != nil {
		t.Fatalf("audit verify on the restored data dir: %v\n%s", err, out)
	}
	restored := startAgentd(t, append(slices.Clone(devArgs), "-dev-fleet-size", "0", "-data-dir", backup)...)
	after := restored.exports(4)
	if after["SIRSI_TENANT_ID"] != before["SIRSI_TENANT_ID"] {
		t.Errorf("restored tenant %q, backed up %q", after["SIRSI_TENANT_ID"], before["SIRSI_TENANT_ID"])
	}
	caAfter, err := os.ReadFile(after["SIRSI_CA_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	if string(caAfter) != string(caBefore) {
		t.Error("the restored server has another CA: agents enrolled before the backup would not trust it")
	}
	restored.signal(syscall.SIGTERM)
	if code := restored.wait(); code != exitOK {
		t.Fatalf("restored agentd exit code %d", code)
	}
}
