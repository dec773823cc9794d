// Package backend picks the store back end from configuration: PostgreSQL
// when a database URL is set, else the embedded SQLite file.
package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

// Config is the storage part of the server configuration.
type Config struct {
	// DatabaseURL selects PostgreSQL (postgres://...).
	DatabaseURL string
	// SQLitePath is the database file used without DatabaseURL.
	SQLitePath string
	// MaxConns bounds PostgreSQL connections per replica; 0 means 20.
	MaxConns int
	Logger   hclog.Logger
}

// Open opens and migrates the configured store.
func Open(ctx context.Context, cfg Config) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{MaxConns: cfg.MaxConns, Logger: cfg.Logger})
	}
	if cfg.SQLitePath == "" {
		return nil, errors.New("open store: neither database_url nor a SQLite path is configured")
	}
	s, err := sqlite.Open(ctx, cfg.SQLitePath, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}
