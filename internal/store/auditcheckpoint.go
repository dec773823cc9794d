package store

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// An audit checkpoint is the chain's head (sequence and hash) at one
// moment, signed with the server's Ed25519 checkpoint key. The key is kept
// sealed in the store (sealed.AuditCheckpointKey), so whoever can write
// the database but not open the seal cannot make one: deleting the newest
// entries, or rewriting the chain from some entry on, no longer matches a
// checkpoint at or after that entry, and verify reports it without a head
// kept elsewhere. This file is the one home of the checkpoint format and
// its signature.

// Checkpoint kinds.
const (
	// CheckpointPeriodic is written by the server every
	// audit_checkpoint_interval.
	CheckpointPeriodic = "periodic"
	// CheckpointPrune is written by PruneAudit in the transaction that
	// prunes; it also signs which entries it pruned (Scope, Before,
	// Pruned, Digest), so a pruned entry is accepted only where a
	// signed prune says it was pruned.
	CheckpointPrune = "prune"
)

// AuditCheckpoint is one signed checkpoint. The fields up to KeyID are
// signed (Message); its JSON form is what `agentd server audit checkpoint`
// exports for shipping elsewhere.
type AuditCheckpoint struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Sequence int64     `json:"sequence"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
	// Scope is the tenant id whose entries a prune removed ("" for the
	// operator-level entries); empty for periodic checkpoints.
	Scope string `json:"scope"`
	// Before is a prune's cutoff: it removed the scope's entries older
	// than it, up to Sequence.
	Before time.Time `json:"before"`
	// Pruned counts the entries a prune removed; Digest is SHA-256 over
	// what it kept of them (AuditPruneDigest).
	Pruned int64  `json:"pruned"`
	Digest string `json:"digest"`
	// KeyID names the public key that signs (AuditKeyID).
	KeyID     string `json:"key_id"`
	Signature []byte `json:"signature"`
	// PublicKey is the signer's key; it is only informative in an export
	// (a verifier trusts the server's key, not the one a file carries).
	PublicKey ed25519.PublicKey `json:"public_key,omitempty"`
}

// Head is the chain head the checkpoint vouches for.
func (c *AuditCheckpoint) Head() AuditHead { return AuditHead{Sequence: c.Sequence, Hash: c.Hash} }

// checkpointDomain separates checkpoint signatures from anything else the
// key could ever sign.
const checkpointDomain = "sirsi audit checkpoint v1\x00"

// Message is the signed content: every field but the signature and the
// public key, times in Unix nanoseconds, as JSON (struct fields encode in
// their declared order, so the encoding is fixed).
func (c *AuditCheckpoint) Message() []byte {
	b, err := json.Marshal(struct {
		ID       string `json:"id"`
		Kind     string `json:"kind"`
		Sequence int64  `json:"sequence"`
		Hash     string `json:"hash"`
		Time     int64  `json:"time"`
		Scope    string `json:"scope"`
		Before   int64  `json:"before"`
		Pruned   int64  `json:"pruned"`
		Digest   string `json:"digest"`
		KeyID    string `json:"key_id"`
	}{c.ID, c.Kind, c.Sequence, c.Hash, unixNanos(c.Time), c.Scope, unixNanos(c.Before), c.Pruned, c.Digest, c.KeyID})
	if err != nil {
		panic(err) // strings and integers always encode
	}
	return append([]byte(checkpointDomain), b...)
}

func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Sign sets KeyID and Signature with key.
func (c *AuditCheckpoint) Sign(key ed25519.PrivateKey) {
	pub := key.Public().(ed25519.PublicKey)
	c.KeyID = AuditKeyID(pub)
	c.Signature = ed25519.Sign(key, c.Message())
}

// Verify checks the signature against pub, the server's key.
func (c *AuditCheckpoint) Verify(pub ed25519.PublicKey) error {
	if c.KeyID != AuditKeyID(pub) {
		return fmt.Errorf("checkpoint %s is signed by key %q, not by this server's key %q", c.ID, c.KeyID, AuditKeyID(pub))
	}
	if !ed25519.Verify(pub, c.Message(), c.Signature) {
		return fmt.Errorf("checkpoint %s: the signature does not match its contents", c.ID)
	}
	return nil
}

// AuditKeyID is a short name of a checkpoint public key: the first 8
// bytes of its SHA-256, in hex.
func AuditKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// ParseAuditCheckpoint reads an exported checkpoint (its JSON form).
func ParseAuditCheckpoint(b []byte) (*AuditCheckpoint, error) {
	var c AuditCheckpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("audit checkpoint: %w", err)
	}
	if c.ID == "" || c.Sequence < 1 || len(c.Hash) != 2*sha256.Size || len(c.Signature) != ed25519.SignatureSize {
		return nil, errors.New("audit checkpoint: want id, a sequence of at least 1, a 64-digit hash and a signature")
	}
	return &c, nil
}

// AuditPruneDigest is SHA-256 over the (sequence, previous hash, hash) a
// prune kept of each entry it removed, in sequence order: the signed
// checkpoint of the prune carries it, so the kept links can be neither
// edited nor added to (a live entry passed off as pruned).
func AuditPruneDigest(links []AuditLink) string {
	h := sha256.New()
	for _, l := range links {
		fmt.Fprintf(h, "%d %s %s\n", l.Sequence, l.PrevHash, l.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditLink is what remains of a pruned entry: its place in the chain.
type AuditLink struct {
	Sequence int64
	PrevHash string
	Hash     string
}

// AuditPrune reports what PruneAudit did.
type AuditPrune struct {
	// Pruned counts the entries removed; 0 writes no checkpoint.
	Pruned int64
	// Checkpoint is the signed checkpoint written first, in the same
	// transaction; nil when nothing was pruned.
	Checkpoint *AuditCheckpoint
}

// AuditVerdict is what verifying the chain found.
type AuditVerdict struct {
	// Break is the first problem, nil when the chain is intact.
	Break *AuditBreak
	// Head is the newest intact entry walked.
	Head AuditHead
	// Entries counts the entries present; Pruned the pruned ones
	// whose links remain.
	Entries, Pruned int64
	// Checkpoints counts the signed checkpoints checked; Newest is the
	// one with the highest sequence (nil when none).
	Checkpoints int
	Newest      *AuditCheckpoint
}
