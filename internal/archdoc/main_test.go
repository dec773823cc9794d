package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every package directory is listed with its synopsis (tests-only ones
// too), another module and testdata are not, and a package without a doc
// comment fails the run instead of leaving a blank row.
func TestPackages(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "go.mod"), "module example.com/m\n")
	write(t, filepath.Join(root, "a", "a.go"), "// Package a does one thing. More detail.\npackage a\n")
	write(t, filepath.Join(root, "b", "b_test.go"), "// Package b is tests only.\npackage b\n")
	write(t, filepath.Join(root, "tools", "go.mod"), "module example.com/tools\n")
	write(t, filepath.Join(root, "tools", "t.go"), "package tools\n")
	write(t, filepath.Join(root, "a", "testdata", "x.go"), "package x\n")
	got, err := packages(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []pkg{{"a", "Package a does one thing."}, {"b", "Package b is tests only."}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("packages = %v, want %v", got, want)
	}
	write(t, filepath.Join(root, "c", "c.go"), "package c\n")
	if _, err := packages(root); err == nil || !strings.Contains(err.Error(), "without a doc comment: c") {
		t.Errorf("undocumented package: %v", err)
	}
}
