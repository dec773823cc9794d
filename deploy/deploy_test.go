package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/iampolicy"
)

// needTool finds a tool CI must have; elsewhere a missing one skips.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s is not installed: %v", name, err)
	}
	return path
}

// unitBinary is where the units expect agentd.
const unitBinary = "/usr/local/bin/agentd"

// TestSystemdUnitsVerify runs `systemd-analyze verify` on each unit, with
// the binary's path pointed at an executable that exists here (verify
// checks it). Any output is a failure: verify only warns about unknown or
// misspelt settings.
func TestSystemdUnitsVerify(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	units, err := filepath.Glob("systemd/*.service")
	if err != nil || len(units) != 2 {
		t.Fatalf("units: %v %v, want the server's and the agent's", units, err)
	}
	verify := func(name, text string) (string, error) {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, unitBinary, self)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
		return string(out), err
	}
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, want := range []string{"Type=notify", "DynamicUser=yes", "StateDirectory=", "ProtectSystem=strict", "NoNewPrivileges=yes", unitBinary} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %s", u, want)
			}
		}
		if out, err := verify(filepath.Base(u), text); err != nil || out != "" {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
		}
		// The control: verify does notice a wrong setting.
		if out, err := verify(filepath.Base(u), text+"ProtectSystem=bogus\n"); err == nil && out == "" {
			t.Errorf("systemd-analyze verify accepted a bogus setting in %s: the check proves nothing", u)
		}
	}
}

// moduleDir is the Terraform module for the AWS side of an agent.
const moduleDir = "terraform/aws-agent"

// TestTerraformModuleFormatted runs `terraform fmt -check` with the
// Terraform the acceptance tests use.
func TestTerraformModuleFormatted(t *testing.T) {
	tf, err := filepath.Abs("../bin/terraform")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tf); err != nil {
		tf = needTool(t, "terraform")
	}
	cmd := exec.Command(tf, "fmt", "-check", "-diff", "-recursive", moduleDir)
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform fmt -check: %v\n%s", err, out)
	}
}

// TestTerraformModuleUsesTheGeneratedPolicies checks that the module takes
// every policy from deploy/iam (never a copy that could drift) and
// substitutes exactly the trust policy's placeholders.
func TestTerraformModuleUsesTheGeneratedPolicies(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleDir, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	main := string(b)
	files, err := iampolicy.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name := range files {
		if !strings.Contains(main, `file("${local.iam_dir}/`+name+`")`) {
			t.Errorf("main.tf does not read deploy/iam/%s", name)
		}
	}
	for _, placeholder := range []string{iampolicy.TrustPrincipalPlaceholder, iampolicy.TrustExternalIDPlaceholder} {
		if !strings.Contains(main, `"`+placeholder+`"`) {
			t.Errorf("main.tf does not substitute the trust policy's placeholder %s", placeholder)
		}
	}
	if !strings.Contains(main, `"${path.module}/../../iam"`) {
		t.Error("main.tf's iam_dir is not deploy/iam")
	}
}

// TestTerraformModuleAgentConfigLoads renders the agent configuration the
// module's instance gets and loads it the way agentd agent does.
func TestTerraformModuleAgentConfigLoads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleDir, "agent.hcl.tftpl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The user data writes the CA there; the loader checks it is readable.
	ca := filepath.Join(dir, "server-ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rendered := strings.NewReplacer(
		"/etc/agentd/server-ca.pem", ca,
		"${server}", "sirsi.example.com:7444",
		"${region}", "eu-west-1",
		"${assume_role_arn}", "arn:aws:iam::123456789012:role/sirsi-agent",
		"${external_id}", "ext-0123456789",
	).Replace(string(b))
	if strings.Contains(rendered, "${") {
		t.Fatalf("the template has variables the test does not know:\n%s", rendered)
	}
	path := filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(path, []byte(rendered), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SIRSI_DATA_DIR": dir, "SIRSI_ENROLL_TOKEN": "token"}
	cfg, err := config.AgentLoader{
		Defaults: config.AgentDefaults(), File: path,
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}.Load()
	if err != nil {
		t.Fatalf("agentd agent would refuse the module's configuration: %v\n%s", err, rendered)
	}
	if strings.Join(cfg.Servers, ",") != "sirsi.example.com:7444" || cfg.AWS.AssumeRoleARN != "arn:aws:iam::123456789012:role/sirsi-agent" || cfg.AWS.ExternalID != "ext-0123456789" {
		t.Errorf("loaded %+v, not what the template says", cfg)
	}
}

// pluginMirror is where this machine keeps the AWS provider (a filesystem
// mirror): `terraform validate` needs the provider's schema, and tests
// never reach a registry.
const pluginMirror = "/opt/tf-plugins"

// TestTerraformModuleValidates runs `terraform init` from the mirror and
// `terraform validate` on a copy of the module beside the files it reads
// (deploy/iam, deploy/systemd), so nothing is written into the tree.
func TestTerraformModuleValidates(t *testing.T) {
	tf := needTool(t, "terraform")
	if _, err := os.Stat(filepath.Join(pluginMirror, "registry.terraform.io/hashicorp/aws")); err != nil {
		t.Skipf("no AWS provider in %s to validate against offline: %v", pluginMirror, err)
	}
	root := t.TempDir()
	for _, dir := range []string{"iam", "systemd", moduleDir} {
		if err := os.CopyFS(filepath.Join(root, dir), os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(tf, args...)
		cmd.Dir = filepath.Join(root, moduleDir)
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("init", "-backend=false", "-input=false", "-no-color", "-plugin-dir="+pluginMirror)
	run("validate", "-no-color")
}
