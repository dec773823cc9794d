package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
)

const localBackend = "local"

// LocalSealer seals with AES-256-GCM under keys kept in a file, for dev and
// single-node servers. The file is JSON holding every key version; it is
// created on first use, mode 0600, and always replaced atomically.
//
// Another process (agentd server rotate-seal) may add a version while this
// one runs: a value sealed under a version this process has not seen makes
// it read the file again.
type LocalSealer struct {
	path string
	mu   sync.Mutex
	keys map[int][]byte
	// latest is the version new seals use.
	latest int
}

// keyFile is the key file's JSON.
type keyFile struct {
	Keys []keyEntry `json:"keys"`
}

type keyEntry struct {
	Version int       `json:"version"`
	Key     []byte    `json:"key"`
	Created time.Time `json:"created"`
}

// NewLocalSealer loads the key file at path, creating it with a first key
// version when it does not exist.
func NewLocalSealer(path string) (*LocalSealer, error) {
	s := &LocalSealer{path: path}
	err := s.load()
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the directory of the seal key file: %w", err)
		}
		if err := s.addVersion(); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// load reads the key file; callers hold s.mu or own s alone.
func (s *LocalSealer) load() error {
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("reading the seal key file: %w", err)
	}
	// Like ssh with private keys: a key others can read may already be
	// copied, so refuse rather than seal with it.
	if info.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("seal key file %s is accessible by group or others (mode %04o); run chmod 600 on it", s.path, info.Mode().Perm())
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("reading the seal key file: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return fmt.Errorf("seal key file %s: %w", s.path, err)
	}
	if len(kf.Keys) == 0 {
		return fmt.Errorf("seal key file %s holds no keys", s.path)
	}
	keys := map[int][]byte{}
	latest := 0
	for i, k := range kf.Keys {
		if k.Version < 1 {
			return fmt.Errorf("seal key file %s: keys[%d].version %d must be at least 1", s.path, i, k.Version)
		}
		if len(k.Key) != 32 {
			return fmt.Errorf("seal key file %s: keys[%d].key is %d bytes, want 32 (AES-256)", s.path, i, len(k.Key))
		}
		if _, dup := keys[k.Version]; dup {
			return fmt.Errorf("seal key file %s: version %d appears twice", s.path, k.Version)
		}
		keys[k.Version] = k.Key
		latest = max(latest, k.Version)
	}
	s.keys, s.latest = keys, latest
	return nil
}

// addVersion re-reads the file (another process may have rotated), adds
// the next version and writes the file back; callers hold s.mu or own s.
func (s *LocalSealer) addVersion() error {
	var kf keyFile
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading the seal key file: %w", err)
	default:
		if err := s.load(); err != nil {
			return err
		}
		if err := json.Unmarshal(b, &kf); err != nil {
			return fmt.Errorf("seal key file %s: %w", s.path, err)
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generating a seal key: %w", err)
	}
	next := s.latest + 1
	kf.Keys = append(kf.Keys, keyEntry{Version: next, Key: key, Created: time.Now().UTC()})
	out, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the seal key file: %w", err)
	}
	if err := atomicfile.Write(s.path, append(out, '\n'), 0o600); err != nil {
		return err
	}
	if s.keys == nil {
		s.keys = map[int][]byte{}
	}
	s.keys[next], s.latest = key, next
	return nil
}

// key returns the key of version, reading the file again once if this
// process has not seen that version yet.
func (s *LocalSealer) key(version int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[version]; ok {
		return k, nil
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	if k, ok := s.keys[version]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("seal key version %d is not in %s (latest is %d): the value was sealed with another key file", version, s.path, s.latest)
}

func (s *LocalSealer) latestKey() (int, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest, s.keys[s.latest]
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating the cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating the cipher: %w", err)
	}
	return aead, nil
}

// additionalData authenticates the envelope header with the caller's aad;
// the NUL keeps header and aad from running into each other.
func additionalData(e envelope, aad []byte) []byte {
	return append(append([]byte(e.header()), 0), aad...)
}

// Seal encrypts under the latest version with a random 96-bit nonce.
func (s *LocalSealer) Seal(_ context.Context, plaintext, aad []byte) (string, error) {
	version, key := s.latestKey()
	aead, err := gcm(key)
	if err != nil {
		return "", fmt.Errorf("sealing: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealing: generating a nonce: %w", err)
	}
	e := envelope{backend: localBackend, version: version}
	ct := aead.Seal(nonce, nonce, plaintext, additionalData(e, aad))
	e.payload = base64.RawURLEncoding.EncodeToString(ct)
	return e.String(), nil
}

// Open decrypts; a wrong aad, key file or tampered value fails the same way,
// without saying which, as GCM cannot tell them apart.
func (s *LocalSealer) Open(_ context.Context, sealed string, aad []byte) ([]byte, error) {
	e, err := parseFor(localBackend, sealed)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: %w", err)
	}
	key, err := s.key(e.version)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: %w", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(e.payload)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: the payload is not base64url: %w", err)
	}
	aead, err := gcm(key)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: %w", err)
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("opening a sealed value: the payload is too short")
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], additionalData(e, aad))
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: authentication failed (wrong key, wrong context, or tampered): %w", err)
	}
	return pt, nil
}

// Rotate adds a key version to the file.
func (s *LocalSealer) Rotate(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addVersion(); err != nil {
		return fmt.Errorf("rotating the seal key: %w", err)
	}
	return nil
}

// Rewrap opens and seals again: the key file is in this process anyway.
func (s *LocalSealer) Rewrap(ctx context.Context, sealed string, aad []byte) (string, error) {
	pt, err := s.Open(ctx, sealed, aad)
	if err != nil {
		return "", fmt.Errorf("rewrapping: %w", err)
	}
	return s.Seal(ctx, pt, aad)
}

// KeyVersion reads the version from the envelope.
func (s *LocalSealer) KeyVersion(sealed string) (int, error) {
	e, err := parseFor(localBackend, sealed)
	if err != nil {
		return 0, err
	}
	return e.version, nil
}

// LatestVersion reads the key file again, so a rotation by another process
// counts.
func (s *LocalSealer) LatestVersion(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return 0, err
	}
	return s.latest, nil
}
