package backend

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sirsi.db")
	s, err := Open(context.Background(), Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateTenant(context.Background(), &sirsiv1.Tenant{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no database file at the configured path: %v", err)
	}
}

func TestOpenPostgresWhenURLSet(t *testing.T) {
	url := pgtest.Database(t)
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{DatabaseURL: url, SQLitePath: filepath.Join(dir, "unused.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateTenant(context.Background(), &sirsiv1.Tenant{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused.db")); !os.IsNotExist(err) {
		t.Fatalf("SQLite file created although a database URL is set: %v", err)
	}
}

func TestOpenNothingConfigured(t *testing.T) {
	if s, err := Open(context.Background(), Config{}); err == nil {
		s.Close()
		t.Fatal("opened a store without any configuration")
	}
}

func TestOpenBadURL(t *testing.T) {
	if s, err := Open(context.Background(), Config{DatabaseURL: "postgres://%zz"}); err == nil {
		s.Close()
		t.Fatal("opened a store with a malformed URL")
	}
}
