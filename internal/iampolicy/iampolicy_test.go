package iampolicy

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// TestFilesAreGenerated fails when deploy/iam differs from what the code's
// lists render: run `make generate`.
func TestFilesAreGenerated(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "iam", name))
		if err != nil {
			t.Fatalf("%v (run make generate)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/iam/%s is out of date: run make generate\nwant:\n%s", name, want)
		}
	}
}

// sdkServicePath is where the AWS SDK's service clients live.
const sdkServicePath = "github.com/aws/aws-sdk-go-v2/service/"

// TestPoliciesCoverEveryCall reads every non-test Go file outside the
// simulator and finds each AWS call by the input it builds
// (`&ec2.StopInstancesInput{…}`): the call's IAM action must be in one of
// the generated policies. It fails when someone adds a call without adding
// it to discovery's, monitoring's or the actuator's list.
func TestPoliciesCoverEveryCall(t *testing.T) {
	allowed := append(ReadOnlyActions(), ActingActions()...)
	calls := sdkCalls(t, filepath.Join(repoRoot, "internal"))
	if len(calls) == 0 {
		t.Fatal("found no AWS calls at all: the scan is broken")
	}
	for action, where := range calls {
		if !slices.Contains(allowed, action) {
			t.Errorf("%s calls %s, which no generated policy allows: add it to the list of the package that calls it (discovery, monitor or an actuator client interface), then run make generate", where, action)
		}
	}
	// The scan must see the actuator's and monitoring's calls, or it
	// proves nothing.
	for _, want := range []string{"ec2:StopInstances", "ce:GetCostAndUsage", "ec2:DescribeInstances"} {
		if _, ok := calls[want]; !ok {
			t.Errorf("the scan did not find %s; found %v", want, calls)
		}
	}
}

// sdkCalls maps each IAM action whose SDK input some file builds to the
// first such file.
func sdkCalls(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "awssim" {
			return filepath.SkipDir // the simulator serves the calls, it does not make them
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		services := map[string]string{} // local import name -> SDK service
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			svc, ok := strings.CutPrefix(p, sdkServicePath)
			if !ok || strings.Contains(svc, "/") {
				continue
			}
			local := svc
			if imp.Name != nil {
				local = imp.Name.Name
			}
			services[local] = svc
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			svc, ok := services[pkg.Name]
			op, isInput := strings.CutSuffix(sel.Sel.Name, "Input")
			if !ok || !isInput {
				return true
			}
			action := awsclient.IAMAction(svc, op)
			if _, seen := out[action]; !seen {
				out[action] = path
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
