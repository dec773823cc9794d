package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgChannel is the NOTIFY channel the replicas share.
const pgChannel = "sirsi_console_changes"

// pgRetry is how long the listener waits before connecting again after
// losing its connection; the streams it feeds stay open meanwhile.
const pgRetry = 2 * time.Second

// PGFanout carries changes between replicas through PostgreSQL's
// LISTEN/NOTIFY: Notify sends on a small pool, Run holds one connection
// listening and hands what arrives to the hub, so a browser connected to
// any replica sees what an agent reported to another.
type PGFanout struct {
	url  string
	pool *pgxpool.Pool
	log  hclog.Logger

	once      sync.Once
	listening chan struct{}
}

// NewPGFanout connects to the database at url (the server's database_url).
func NewPGFanout(ctx context.Context, url string, log hclog.Logger) (*PGFanout, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("console change fan-out: parsing the database URL: %w", err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("console change fan-out: connecting: %w", err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &PGFanout{url: url, pool: pool, log: log, listening: make(chan struct{})}, nil
}

// Notify sends c to every replica listening, this one included.
func (p *PGFanout) Notify(ctx context.Context, c Change) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding a console change: %w", err)
	}
	if _, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", pgChannel, string(b)); err != nil {
		return fmt.Errorf("notifying the replicas of a console change: %w", err)
	}
	return nil
}

// Close releases the notifying pool; Run must have returned.
func (p *PGFanout) Close() { p.pool.Close() }

// Listening is closed once the listener first listens.
func (p *PGFanout) Listening() <-chan struct{} { return p.listening }

// Run listens until ctx ends, delivering every change to hub, and
// reconnects when the connection drops.
func (p *PGFanout) Run(ctx context.Context, hub *Hub) error {
	for {
		err := p.listen(ctx, hub)
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("console change listener lost its connection; reconnecting", "error", err, "retry_in", pgRetry)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pgRetry):
		}
	}
}

func (p *PGFanout) listen(ctx context.Context, hub *Hub) error {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{pgChannel}.Sanitize()); err != nil {
		return fmt.Errorf("LISTEN: %w", err)
	}
	p.once.Do(func() { close(p.listening) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("waiting for a notification: %w", err)
		}
		var c Change
		if err := json.Unmarshal([]byte(n.Payload), &c); err != nil || c.TenantID == "" {
			// Only replicas write this channel; a bad payload is a bug
			// worth a log line, not a reason to stop listening.
			p.log.Error("ignoring a malformed console change", "payload", n.Payload, "error", errors.Join(err, errors.New("no tenant")))
			continue
		}
		hub.Deliver(c)
	}
}
