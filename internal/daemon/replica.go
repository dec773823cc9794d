package daemon

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// Settings through which replicas on one database check that they share
// the CA and the seal key: a replica with its own would fail every agent
// (a certificate from an unknown authority) and every sealed read.
const (
	// caSetting is the fingerprint of the CA every replica must trust.
	caSetting = "replica.ca_sha256"
	// sealCheckSetting is a constant sealed by the first replica; a
	// replica that cannot open it holds another seal key.
	sealCheckSetting = "replica.seal_check"
)

var (
	sealCheckPlaintext = []byte("sirsi replica seal check")
	sealCheckAAD       = []byte(sealCheckSetting)
)

// checkSharedSeal records a value sealed at the database's first start
// and refuses a start whose seal key cannot open it, saying what to share.
// It runs before the CA is loaded, whose key is sealed too.
func (in *instance) checkSharedSeal(ctx context.Context) error {
	sealed, err := in.sealer.Seal(ctx, sealCheckPlaintext, sealCheckAAD)
	if err != nil {
		return fmt.Errorf("sealing the seal check value: %w", err)
	}
	stored, err := in.st.PutSettingIfAbsent(ctx, sealCheckSetting, []byte(sealed))
	if err != nil {
		return fmt.Errorf("checking the seal key against the database: %w", err)
	}
	if _, err := in.sealer.Open(ctx, string(stored), sealCheckAAD); err != nil {
		what := "copy " + sealKeyFile + " from the first replica's data dir into this one (or point seal.key_file at a shared copy)"
		if in.cfg.Seal.Backend == "vault" {
			what = "use the same Vault transit key (seal.transit_mount, seal.transit_key) as the other replicas"
		}
		return fmt.Errorf("the seal key of this replica cannot open what the other replicas on this database sealed (%w): "+
			"replicas sharing a database must share the seal key and the CA: %s", err, what)
	}
	return nil
}

// checkSharedCA records the CA's fingerprint at the database's first start
// and refuses a start whose CA differs, saying what to share. A CA
// rotation (rotate-ca) is followed: a replica whose signing CA superseded
// the recorded one records its own.
func (in *instance) checkSharedCA(ctx context.Context) error {
	fp := in.ca.Fingerprint()
	stored, err := in.st.PutSettingIfAbsent(ctx, caSetting, []byte(fp))
	if err != nil {
		return fmt.Errorf("checking the CA against the database: %w", err)
	}
	switch known, superseded := in.ca.Knows(string(stored)); {
	case !known:
		return fmt.Errorf("the CA in %s (sha256 %s) is not the CA of the other replicas on this database (sha256 %s): "+
			"replicas sharing a database must share the seal key and the CA: copy the %s directory of the first replica's data dir (%s, %s and any ca-next/ca-previous files) into this data dir",
			filepath.Join(in.cfg.DataDir, pkiDir), fp, stored, pkiDir, pki.CACertFile, pki.CAKeyFile)
	case superseded:
		if err := in.st.PutSetting(ctx, caSetting, []byte(fp)); err != nil {
			return fmt.Errorf("recording the promoted CA in the database: %w", err)
		}
		in.log.Info("recorded the promoted CA as the one replicas share", "sha256", fp)
	}
	return nil
}
