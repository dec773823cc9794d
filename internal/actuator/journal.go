package actuator

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
)

const (
	journalFile = "actions.db"
	// recordVersion is the first byte of every stored value; a value with
	// another version is treated as corrupt rather than guessed at.
	recordVersion = 1
	// retention is how long terminal flows stay for LastAction and cool-down.
	retention = 30 * 24 * time.Hour
	// lockTimeout bounds the wait for another process's lock on the journal,
	// so a second agent on the same directory fails fast.
	lockTimeout = 2 * time.Second
)

var (
	flowsBucket      = []byte("flows")
	quarantineBucket = []byte("quarantine")
	crcTable         = crc32.MakeTable(crc32.Castagnoli)
)

// Flow outcomes as journaled; "" means the flow has not finished.
const (
	outcomeSucceeded  = "succeeded"
	outcomeFailed     = "failed"
	outcomeRolledBack = "rolled_back"
)

// step is one journaled step of a flow, as reported in ActionStep.
type step struct {
	Name   string    `json:"name"`
	Status string    `json:"status"`
	Time   time.Time `json:"time"`
	Detail string    `json:"detail,omitempty"`
}

// record is one flow's durable state. Phase is the next step to run; every
// phase is idempotent, so after a crash the flow reruns the phase it was in.
type record struct {
	Req       Request `json:"request"`
	Phase     string  `json:"phase"`
	OrigType  string  `json:"orig_type,omitempty"`
	OrigState string  `json:"orig_state,omitempty"`
	// Acted is set before the first mutation, so that refused requests do
	// not count towards cool-down.
	Acted bool `json:"acted,omitempty"`
	// RunningSince is when the instance came up at the new size: the start
	// of the CPU verification window.
	RunningSince time.Time `json:"running_since,omitzero"`
	// SnapshotID is the snapshot a snapshot_and_delete took; Deleted is
	// set once the volume is gone; Restore says how to get it back.
	SnapshotID string `json:"snapshot_id,omitempty"`
	Deleted    bool   `json:"deleted,omitempty"`
	Restore    string `json:"restore,omitempty"`
	// MultiAZ is whether the DB instance was Multi-AZ before the change;
	// TimeoutSec the function's timeout, for verification.
	MultiAZ    bool `json:"multi_az,omitempty"`
	TimeoutSec int  `json:"timeout_sec,omitempty"`
	// Failure is the error that sent the flow into rollback; RollbackErr
	// the error that ended the rollback; RescueErr the last failure to
	// start the instance again after that, RescueTries how often it failed.
	Failure string `json:"failure,omitempty"`
	// FailureCode is AWS's error code in Failure ("" when AWS did not
	// answer): the control plane turns repeated authorization refusals
	// into the cloud account's status.
	FailureCode string `json:"failure_code,omitempty"`
	RollbackErr string `json:"rollback_error,omitempty"`
	RescueErr   string `json:"rescue_error,omitempty"`
	RescueTries int    `json:"rescue_tries,omitempty"`
	// Gone is set when the resource disappeared mid-flow: AWS's not-found
	// code, or why it is going (see goneReason).
	Gone    string    `json:"gone,omitempty"`
	Steps   []step    `json:"steps"`
	Outcome string    `json:"outcome,omitempty"`
	Error   string    `json:"error,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	// Reported is set once the caller has the finished flow's report in
	// durable hands (MarkReported); until then Unreported returns it, so a
	// crash between the end of a flow and its report loses nothing.
	Reported bool `json:"reported,omitempty"`
}

func (r *record) terminal() bool { return r.Outcome != "" }

// lastActed is when the flow last acted on its resource, for cool-down.
func (r *record) lastActed() time.Time {
	if r.End.IsZero() {
		return r.Start
	}
	return r.End
}

func encodeRecord(r *record) ([]byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding flow %s: %w", r.Req.ID, err)
	}
	out := make([]byte, 5, 5+len(body))
	out[0] = recordVersion
	crc := crc32.Checksum(body, crcTable)
	out[1], out[2], out[3], out[4] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	return append(out, body...), nil
}

func decodeRecord(v []byte) (*record, error) {
	if len(v) < 5 {
		return nil, fmt.Errorf("value of %d bytes is shorter than its header", len(v))
	}
	if v[0] != recordVersion {
		return nil, fmt.Errorf("unknown record version %d", v[0])
	}
	want := uint32(v[1])<<24 | uint32(v[2])<<16 | uint32(v[3])<<8 | uint32(v[4])
	if got := crc32.Checksum(v[5:], crcTable); got != want {
		return nil, fmt.Errorf("checksum %08x does not match stored %08x", got, want)
	}
	var r record
	if err := json.Unmarshal(v[5:], &r); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if r.Req.ID == "" {
		return nil, errors.New("record has no action id")
	}
	return &r, nil
}

// journal is the durable store of flows, one bbolt file. bbolt fsyncs on
// every commit, so each saved step survives a SIGKILL or power loss.
type journal struct {
	db  *bolt.DB
	log hclog.Logger
}

func openJournal(dir string, log hclog.Logger, now time.Time) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the journal directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, journalFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("opening the action journal %s: %w", path, err)
	}
	j := &journal{db: db, log: log}
	if err := j.prepare(now); err != nil {
		_ = db.Close()
		return nil, err
	}
	return j, nil
}

// prepare creates the buckets, quarantines corrupt records and prunes
// terminal flows past retention.
func (j *journal) prepare(now time.Time) error {
	err := j.db.Update(func(tx *bolt.Tx) error {
		flows, err := tx.CreateBucketIfNotExists(flowsBucket)
		if err != nil {
			return err
		}
		quarantine, err := tx.CreateBucketIfNotExists(quarantineBucket)
		if err != nil {
			return err
		}
		var drop [][]byte
		err = flows.ForEach(func(k, v []byte) error {
			r, derr := decodeRecord(v)
			switch {
			case derr != nil:
				j.log.Error("quarantining a corrupt action journal record", "key", string(k), "error", derr)
				if err := quarantine.Put(append([]byte(nil), k...), append([]byte(nil), v...)); err != nil {
					return err
				}
				drop = append(drop, append([]byte(nil), k...))
			case r.terminal() && now.Sub(r.End) > retention:
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := flows.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("preparing the action journal: %w", err)
	}
	return nil
}

func (j *journal) put(r *record) error {
	v, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if err := j.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(flowsBucket).Put([]byte(r.Req.ID), v)
	}); err != nil {
		return fmt.Errorf("journaling flow %s: %w", r.Req.ID, err)
	}
	return nil
}

// get returns the flow with id, nil when there is none; a corrupt record is
// quarantined and reported as absent.
func (j *journal) get(id string) (*record, error) {
	var raw []byte
	if err := j.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(flowsBucket).Get([]byte(id)); v != nil {
			raw = append([]byte(nil), v...)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading flow %s: %w", id, err)
	}
	if raw == nil {
		return nil, nil
	}
	r, err := decodeRecord(raw)
	if err != nil {
		j.quarantine(id, raw, err)
		return nil, nil
	}
	return r, nil
}

// update applies change to the flow with id in one transaction; a missing
// flow is left alone.
func (j *journal) update(id string, change func(*record)) error {
	err := j.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(flowsBucket)
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		r, err := decodeRecord(v)
		if err != nil {
			return err
		}
		change(r)
		nv, err := encodeRecord(r)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), nv)
	})
	if err != nil {
		return fmt.Errorf("updating flow %s: %w", id, err)
	}
	return nil
}

func (j *journal) quarantine(id string, raw []byte, cause error) {
	j.log.Error("quarantining a corrupt action journal record", "key", id, "error", cause)
	err := j.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(quarantineBucket).Put([]byte(id), raw); err != nil {
			return err
		}
		return tx.Bucket(flowsBucket).Delete([]byte(id))
	})
	if err != nil {
		j.log.Error("quarantining failed", "key", id, "error", err)
	}
}

// all returns every readable flow.
func (j *journal) all() ([]*record, error) {
	var out []*record
	bad := map[string][]byte{}
	err := j.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(flowsBucket).ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				bad[string(k)] = append([]byte(nil), v...)
				return nil
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the action journal: %w", err)
	}
	for k, v := range bad {
		j.quarantine(k, v, errors.New("record failed to decode"))
	}
	return out, nil
}

func (j *journal) close() error {
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("closing the action journal: %w", err)
	}
	return nil
}
