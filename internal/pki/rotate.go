package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
)

// CA rotation, in three steps with restarts between them, so that no
// agent or client is ever presented a certificate it cannot verify:
//
//  1. StageNextCA creates the next CA beside the active one. From the next
//     start the server trusts both for client certificates and hands both
//     out as the CA bundle (Enroll, RenewCertificate, ca-bundle.pem), but
//     still signs with the active CA. Wait until every agent has renewed
//     (at most one agent certificate lifetime) and clients use the bundle.
//  2. PromoteNextCA makes the next CA the active one and keeps the old
//     certificate as the previous CA. From the next start new agent and
//     server certificates come from the new CA; certificates of the old
//     one keep working. Wait again one agent certificate lifetime.
//  3. RetirePreviousCA removes the old certificate: from the next start
//     certificates it signed are refused.
//
// The old CA's private key is replaced at step 2, so nothing can be signed
// with it afterwards even before step 3.

// Files of a rotation inside the PKI directory.
const (
	NextCACertFile     = "ca-next.pem"
	NextCAKeyFile      = "ca-next-key.pem"
	PreviousCACertFile = "ca-previous.pem"
	// CABundleFile holds every trusted CA certificate while a rotation is
	// under way; CA.CertPath names it then.
	CABundleFile = "ca-bundle.pem"
)

// loadTrusted adds the staged and previous CA certificates, when present,
// to what ca trusts and hands out, and writes the bundle file.
func (ca *CA) loadTrusted(dir string) error {
	bundle := append([]byte(nil), ca.CertPEM...)
	for _, name := range []string{NextCACertFile, PreviousCACertFile} {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the CA certificate %s: %w", path, err)
		}
		cert, err := parseCertPEM(b)
		if err != nil {
			return fmt.Errorf("CA certificate %s: %w", path, err)
		}
		if !cert.IsCA {
			return fmt.Errorf("CA certificate %s: not a CA certificate", path)
		}
		ca.trusted = append(ca.trusted, cert)
		if name == PreviousCACertFile {
			ca.previous = cert
		}
		if len(bundle) > 0 && bundle[len(bundle)-1] != '\n' {
			bundle = append(bundle, '\n')
		}
		bundle = append(bundle, b...)
	}
	bundlePath := filepath.Join(dir, CABundleFile)
	if len(ca.trusted) == 0 {
		// A bundle left from a finished rotation would still name the
		// retired CA.
		if err := os.Remove(bundlePath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the stale CA bundle: %w", err)
		}
		return nil
	}
	if err := atomicfile.Write(bundlePath, bundle, 0o644); err != nil {
		return err
	}
	ca.CertPEM, ca.CertPath = bundle, bundlePath
	return nil
}

// StageNextCA creates the next CA in o.Dir (step 1). It refuses while a
// next CA is staged or a previous one is still trusted, so at most two CAs
// are ever trusted.
func StageNextCA(o Options) (*x509.Certificate, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if ok, err := exists(filepath.Join(o.Dir, CACertFile)); err != nil || !ok {
		return nil, errors.Join(fmt.Errorf("staging a next CA: %s has no active CA (%s)", o.Dir, CACertFile), err)
	}
	for name, why := range map[string]string{
		NextCACertFile:     "a next CA is already staged; promote it first",
		PreviousCACertFile: "the previous CA is still trusted; retire it first",
	} {
		ok, err := exists(filepath.Join(o.Dir, name))
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, fmt.Errorf("staging a next CA: %s", why)
		}
	}
	next, err := createCA(filepath.Join(o.Dir, NextCACertFile), filepath.Join(o.Dir, NextCAKeyFile), o.Name, now, o.Sealer)
	if err != nil {
		return nil, fmt.Errorf("staging a next CA: %w", err)
	}
	return next.Cert, nil
}

// PromoteNextCA makes the staged CA the active one and keeps the active
// certificate as the previous CA (step 2). Run again after a crash, it
// finishes what it started.
func PromoteNextCA(dir string) error {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	nextCert, nextKey := filepath.Join(dir, NextCACertFile), filepath.Join(dir, NextCAKeyFile)
	if ok, err := exists(nextCert); err != nil || !ok {
		return errors.Join(fmt.Errorf("promoting the next CA: none is staged (%s)", nextCert), err)
	}
	keyStaged, err := exists(nextKey)
	if err != nil {
		return err
	}
	if keyStaged {
		old, err := os.ReadFile(certPath)
		if err != nil {
			return fmt.Errorf("promoting the next CA: reading the active CA: %w", err)
		}
		cur, err := parseCertPEM(old)
		if err != nil {
			return fmt.Errorf("promoting the next CA: active CA %s: %w", certPath, err)
		}
		if next, err := os.ReadFile(nextCert); err == nil && bytes.Equal(bytes.TrimSpace(next), bytes.TrimSpace(old)) {
			return fmt.Errorf("promoting the next CA: %s is the active CA %s", nextCert, cur.Subject)
		}
		if err := atomicfile.Write(filepath.Join(dir, PreviousCACertFile), old, 0o644); err != nil {
			return err
		}
		if err := os.Rename(nextKey, keyPath); err != nil {
			return fmt.Errorf("promoting the next CA: %w", err)
		}
	}
	if err := os.Rename(nextCert, certPath); err != nil {
		return fmt.Errorf("promoting the next CA: %w", err)
	}
	return nil
}

// RetirePreviousCA stops trusting the previous CA (step 3).
func RetirePreviousCA(dir string) error {
	err := os.Remove(filepath.Join(dir, PreviousCACertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("retiring the previous CA: there is none in %s", dir)
	}
	if err != nil {
		return fmt.Errorf("retiring the previous CA: %w", err)
	}
	return nil
}
