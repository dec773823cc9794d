package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrKVNotFound: the KV v2 secret does not exist, or its latest version is
// deleted or destroyed.
var ErrKVNotFound = errors.New("kv secret not found")

// KVMetadata is what KV v2 keeps about a secret across its versions.
type KVMetadata struct {
	CurrentVersion int
	OldestVersion  int
	MaxVersions    int
	CASRequired    bool
	CreatedTime    time.Time
	UpdatedTime    time.Time
	// Versions holds, by version number, when each was deleted (zero when
	// live) and whether it was destroyed.
	Versions map[int]KVVersion
}

// KVVersion is one version's state.
type KVVersion struct {
	CreatedTime  time.Time
	DeletionTime time.Time
	Destroyed    bool
}

func kvPath(mount, kind, path string) (string, error) {
	mount, path = strings.Trim(mount, "/"), strings.Trim(path, "/")
	if mount == "" {
		return "", errors.New("kv mount must not be empty")
	}
	if path == "" {
		return "", errors.New("kv secret path must not be empty")
	}
	return mount + "/" + kind + "/" + path, nil
}

// KVGet reads the latest version of the secret at path on the KV v2 engine
// mounted at mount.
func (v *Vault) KVGet(ctx context.Context, mount, path string) (map[string]any, int, error) {
	p, err := kvPath(mount, "data", path)
	if err != nil {
		return nil, 0, err
	}
	s, err := v.client.Logical().ReadWithContext(ctx, p)
	if err != nil {
		return nil, 0, fmt.Errorf("reading kv secret %s: %w", p, apiError(err))
	}
	if s == nil || s.Data == nil {
		return nil, 0, fmt.Errorf("reading kv secret %s: %w", p, ErrKVNotFound)
	}
	data, _ := s.Data["data"].(map[string]any)
	meta, _ := s.Data["metadata"].(map[string]any)
	version, err := jsonInt(meta["version"])
	if err != nil {
		return nil, 0, fmt.Errorf("reading kv secret %s: metadata.version: %w", p, err)
	}
	if data == nil {
		// A deleted or destroyed latest version answers with null data.
		return nil, version, fmt.Errorf("reading kv secret %s: version %d: %w", p, version, ErrKVNotFound)
	}
	return data, version, nil
}

// KVPut writes a new version of the secret; with cas set, only if the
// current version is *cas (0: only if the secret does not exist yet). It
// returns the version written.
func (v *Vault) KVPut(ctx context.Context, mount, path string, data map[string]any, cas *int) (int, error) {
	p, err := kvPath(mount, "data", path)
	if err != nil {
		return 0, err
	}
	if data == nil {
		data = map[string]any{}
	}
	body := map[string]any{"data": data}
	if cas != nil {
		body["options"] = map[string]any{"cas": *cas}
	}
	s, err := v.client.Logical().WriteWithContext(ctx, p, body)
	if err != nil {
		return 0, fmt.Errorf("writing kv secret %s: %w", p, apiError(err))
	}
	if s == nil || s.Data == nil {
		return 0, fmt.Errorf("writing kv secret %s: vault answered without data", p)
	}
	version, err := jsonInt(s.Data["version"])
	if err != nil {
		return 0, fmt.Errorf("writing kv secret %s: version: %w", p, err)
	}
	return version, nil
}

// KVMetadata reads the secret's metadata.
func (v *Vault) KVMetadata(ctx context.Context, mount, path string) (*KVMetadata, error) {
	p, err := kvPath(mount, "metadata", path)
	if err != nil {
		return nil, err
	}
	s, err := v.client.Logical().ReadWithContext(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("reading kv metadata %s: %w", p, apiError(err))
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("reading kv metadata %s: %w", p, ErrKVNotFound)
	}
	m := &KVMetadata{Versions: map[int]KVVersion{}}
	if m.CurrentVersion, err = jsonInt(s.Data["current_version"]); err != nil {
		return nil, fmt.Errorf("reading kv metadata %s: current_version: %w", p, err)
	}
	if m.OldestVersion, err = jsonInt(s.Data["oldest_version"]); err != nil {
		return nil, fmt.Errorf("reading kv metadata %s: oldest_version: %w", p, err)
	}
	if m.MaxVersions, err = jsonInt(s.Data["max_versions"]); err != nil {
		return nil, fmt.Errorf("reading kv metadata %s: max_versions: %w", p, err)
	}
	m.CASRequired, _ = s.Data["cas_required"].(bool)
	m.CreatedTime = jsonTime(s.Data["created_time"])
	m.UpdatedTime = jsonTime(s.Data["updated_time"])
	versions, _ := s.Data["versions"].(map[string]any)
	for k, raw := range versions {
		n, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("reading kv metadata %s: version key %q is not a number", p, k)
		}
		ver, _ := raw.(map[string]any)
		destroyed, _ := ver["destroyed"].(bool)
		m.Versions[n] = KVVersion{
			CreatedTime:  jsonTime(ver["created_time"]),
			DeletionTime: jsonTime(ver["deletion_time"]),
			Destroyed:    destroyed,
		}
	}
	return m, nil
}

func jsonInt(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("missing or not a number (%T)", v)
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", n)
	}
	return int(i), nil
}

// jsonTime reads an RFC 3339 time; KV answers "" for times not set.
func jsonTime(v any) time.Time {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
