package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/run"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
)

// sealKeyFile is the local seal backend's key file in the data dir.
const sealKeyFile = "seal.key"

// newSealer builds the sealer cfg asks for. With the vault backend it
// logs in, checks that the transit key exists, and returns the client too,
// whose token the caller keeps alive.
func newSealer(ctx context.Context, cfg *config.Server, log hclog.Logger) (secrets.Sealer, *secrets.Vault, error) {
	if cfg.Seal.Backend != "vault" {
		path := cfg.Seal.KeyFile
		if path == "" {
			path = filepath.Join(cfg.DataDir, sealKeyFile)
		}
		s, err := secrets.NewLocalSealer(path)
		if err != nil {
			return nil, nil, fmt.Errorf("seal.key_file: %w", err)
		}
		return s, nil, nil
	}
	v, err := secrets.NewVaultClient(ctx, secrets.VaultConfig{
		Address:         cfg.Vault.Address,
		Namespace:       cfg.Vault.Namespace,
		CACertFile:      cfg.Vault.CACertFile,
		Token:           cfg.Vault.Token,
		AppRoleID:       cfg.Vault.AppRoleID,
		AppRoleSecretID: cfg.Vault.AppRoleSecretID,
		AppRoleMount:    cfg.Vault.AppRoleMount,
	}, log)
	if err != nil {
		return nil, nil, fmt.Errorf("vault: %w", err)
	}
	s := secrets.NewTransitSealer(v, cfg.Seal.TransitMount, cfg.Seal.TransitKey)
	// Checked at start so that a missing key or policy fails the start,
	// not the first tenant update.
	if _, err := s.LatestVersion(ctx); err != nil {
		return nil, nil, fmt.Errorf("seal: %w (create the key with: vault write -f %s/keys/%s)", err, cfg.Seal.TransitMount, cfg.Seal.TransitKey)
	}
	return s, v, nil
}

// openSeal builds the sealer and puts it between the control plane and the
// store.
func (in *instance) openSeal(ctx context.Context) error {
	s, v, err := newSealer(ctx, in.cfg, in.log)
	if err != nil {
		return err
	}
	in.sealer, in.vault = s, v
	in.st = sealed.Wrap(in.st, s)
	in.log.Info("secrets are sealed at rest", "backend", in.cfg.Seal.Backend)
	return nil
}

// addSealActor keeps the Vault token alive while the server runs; a token
// that can no longer be kept alive stops the server, which could not open
// sealed values without it.
func (in *instance) addSealActor(g *run.Group) {
	if in.vault == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.Add(func() error {
		if err := in.vault.Run(ctx); err != nil {
			return fmt.Errorf("keeping the vault token of the seal alive: %w", err)
		}
		return nil
	}, func(error) { cancel() })
}

// rotateSealCommand is `agentd server rotate-seal`.
var rotateSealCommand = offlineCommand("rotate-seal", "rotate the seal key and re-seal every sealed value under it", `
Rotates the seal key (a new version in the local key file, or a new
version of the Vault transit key) and re-seals every sealed value under it:
tenant webhook secrets, cloud-account external ids, the CA private key and
the server's TLS key.
Values still stored in clear are sealed too. Each row is rewritten on its
own with its version as a precondition, so a running server keeps working:
values it sealed under the old version keep opening, and a later run
re-seals them.

-data-dir reads the SQLite database and seal key of that data dir;
-config reads the server configuration (seal, vault and database_url).
SIRSI_* variables apply as they do to agentd server.`, runServerRotateSeal)

func runServerRotateSeal(env *environment, cfg *config.Server, sqlitePath string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn})
	if err := rotateSeal(ctx, env, cfg, sqlitePath, log); err != nil {
		fmt.Fprintf(env.stderr, "agentd server rotate-seal: %s\n", err)
		return exitFailure
	}
	return exitOK
}

func rotateSeal(ctx context.Context, env *environment, cfg *config.Server, sqlitePath string, log hclog.Logger) error {
	if cfg.Seal.Backend == "local" && cfg.Seal.KeyFile == "" && cfg.DataDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, sealKeyFile)); err != nil {
			return fmt.Errorf("the seal key file %s: %w (has a server with sealing run on this data dir?)", filepath.Join(cfg.DataDir, sealKeyFile), err)
		}
	}
	s, _, err := newSealer(ctx, cfg, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, sqlitePath, offlineMaxConns, log)
	if err != nil {
		return err
	}
	defer st.Close()

	if err := s.Rotate(ctx); err != nil {
		return err
	}
	latest, err := s.LatestVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "rotated the %s seal key to version %d\n", cfg.Seal.Backend, latest)
	r, err := sealed.Reseal(ctx, st, s)
	if err != nil {
		return fmt.Errorf("%w (the key is rotated; run rotate-seal again to finish, which rotates once more)", err)
	}
	fmt.Fprintf(env.stdout, "store: %d values rewrapped, %d sealed that were in clear, %d already current\n", r.Rewrapped, r.Sealed, r.Current)
	msg, err := resealCAKey(ctx, cfg, s, latest)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "CA key: %s\n", msg)
	msg, err = resealServerKey(ctx, cfg, s, latest)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "server TLS key: %s\n", msg)
	return nil
}

// rewrapBelow rewraps a sealed value unless it is already under version
// latest.
func rewrapBelow(ctx context.Context, s secrets.Sealer, latest int) func(v string, aad []byte) (string, error) {
	return func(v string, aad []byte) (string, error) {
		if n, err := s.KeyVersion(v); err == nil && n >= latest {
			return v, nil
		}
		return s.Rewrap(ctx, v, aad)
	}
}

// resealServerKey brings the sealed server TLS key in the data dir under
// version latest. One still in clear is left to the next start, which
// seals it in place with the certificate it belongs to.
func resealServerKey(ctx context.Context, cfg *config.Server, s secrets.Sealer, latest int) (string, error) {
	if cfg.DataDir == "" {
		return "no data dir, nothing to do", nil
	}
	dir := filepath.Join(cfg.DataDir, pkiDir)
	b, err := os.ReadFile(filepath.Join(dir, pki.ServerKeyFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "none in the data dir yet", nil
	case err != nil:
		return "", fmt.Errorf("reading the server key: %w", err)
	case !secrets.IsSealed(strings.TrimSpace(string(b))):
		return "in clear; the next server start seals it", nil
	}
	changed, err := pki.ResealServerKey(dir, rewrapBelow(ctx, s, latest))
	switch {
	case err != nil:
		return "", err
	case changed:
		return fmt.Sprintf("rewrapped to version %d", latest), nil
	default:
		return "already current", nil
	}
}

// resealCAKey brings the CA key in the data dir under version latest,
// sealing it first if it is still in clear.
func resealCAKey(ctx context.Context, cfg *config.Server, s secrets.Sealer, latest int) (string, error) {
	if cfg.DataDir == "" {
		return "no data dir, nothing to do", nil
	}
	dir := filepath.Join(cfg.DataDir, pkiDir)
	if _, err := os.Stat(filepath.Join(dir, pki.CAKeyFile)); errors.Is(err, os.ErrNotExist) {
		return "none in the data dir yet", nil
	}
	ca, _, err := pki.LoadOrCreateCA(pki.Options{Dir: dir, Name: cfg.TrustDomain, Sealer: s})
	if err != nil {
		return "", err
	}
	changed, err := pki.ResealCAKey(dir, rewrapBelow(ctx, s, latest))
	switch {
	case err != nil:
		return "", err
	case ca.SealedOnLoad:
		return fmt.Sprintf("sealed (it was in clear), version %d", latest), nil
	case changed:
		return fmt.Sprintf("rewrapped to version %d", latest), nil
	default:
		return "already current", nil
	}
}
