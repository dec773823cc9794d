package daemon

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/backend"
)

// offlineMaxConns bounds the PostgreSQL connections of a one-shot command
// working beside a running server.
const offlineMaxConns = 2

// openStore opens and migrates the store cfg names: PostgreSQL with
// database_url, else the SQLite file at sqlitePath. maxConns 0 is the
// back end's default. Errors name the setting to fix.
func openStore(ctx context.Context, cfg *config.Server, sqlitePath string, maxConns int, log hclog.Logger) (store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	st, err := backend.Open(ctx, backend.Config{DatabaseURL: cfg.DatabaseURL, SQLitePath: sqlitePath, MaxConns: maxConns, Logger: log})
	if err != nil {
		if cfg.DatabaseURL != "" {
			return nil, fmt.Errorf("database_url: %w", err)
		}
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	return st, nil
}
