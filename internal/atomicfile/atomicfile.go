// Package atomicfile replaces files so that a crash leaves the old content
// or the new, never half of either: keys, certificates, seal keys and the
// agent's state files all go through it.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write writes to a temporary file in the same directory, syncs it and
// renames it over path, then syncs the directory, so a crash leaves the
// old file or the new one, never half of either.
func Write(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, TempPattern(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmpName := tmp.Name()
	cleanup := func(err error) error {
		_ = tmp.Close()
		_ = os.Remove(tmpName)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return cleanup(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return cleanup(err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		_ = os.Remove(tmpName)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir makes the renames done in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// TempPattern is the os.CreateTemp pattern of the temporary files that
// replace path: hidden, next to it, so that the rename stays within one
// file system.
func TempPattern(path string) string { return "." + filepath.Base(path) + ".tmp*" }

// RemoveLeftovers deletes the temporary files that writes of path killed
// before their rename left behind; each holds a whole copy of the file,
// so a process killed now and then would otherwise fill its directory.
// Call it before anything writes path.
func RemoveLeftovers(path string) error {
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), TempPattern(path)))
	if err != nil {
		return fmt.Errorf("looking for leftovers of %s: %w", path, err)
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing leftover %s: %w", m, err)
		}
	}
	return nil
}
