// Command archdoc writes docs/architecture.md from its template and the
// module's packages: each package's path and the first sentence of its doc
// comment, so the package table lists what exists. `make generate` runs it
// from the module root; a package without a doc comment fails the run.
package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"go/build"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
)

//go:embed architecture.md.tmpl
var tmpl string

type pkg struct{ Path, Synopsis string }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: archdoc OUTPUT.md (run from the module root)")
		os.Exit(2)
	}
	if err := run(".", os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "archdoc: %s\n", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	pkgs, err := packages(root)
	if err != nil {
		return err
	}
	t, err := template.New("architecture").Parse(tmpl)
	if err != nil {
		return fmt.Errorf("parsing the template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, pkgs); err != nil {
		return fmt.Errorf("rendering: %w", err)
	}
	return atomicfile.Write(out, b.Bytes(), 0o644)
}

// packages lists every directory under root holding Go files, by path
// relative to root ("." for the root), with its doc synopsis.
func packages(root string) ([]pkg, error) {
	var out []pkg
	var missing []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules" || name == "bin") {
			return filepath.SkipDir
		}
		if path != root {
			// Another module (tools/) is not part of this one.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		bp, err := build.ImportDir(path, build.ImportComment)
		if err != nil {
			var noGo *build.NoGoError
			if errors.As(err, &noGo) {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		syn := bp.Doc
		if syn == "" {
			syn = testDoc(path, bp.TestGoFiles)
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = "(module root)"
		}
		if syn == "" {
			missing = append(missing, rel)
		}
		out = append(out, pkg{Path: rel, Synopsis: strings.ReplaceAll(syn, "|", `\|`)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("packages without a doc comment: %s", strings.Join(missing, ", "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// testDoc is the doc synopsis of a package made of tests only.
func testDoc(dir string, files []string) string {
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err == nil && af.Doc != nil {
			return new(doc.Package).Synopsis(af.Doc.Text())
		}
	}
	return ""
}
