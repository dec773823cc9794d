package pgtest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestClusterLifecycle(t *testing.T) {
	if _, err := FindBinaries(); errors.Is(err, ErrNoBinaries) && os.Getenv("CI") != "true" {
		t.Skipf("SKIPPING: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			if err := c.Stop(); err != nil {
				t.Error(err)
			}
		}
	}()
	url1, err := c.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url2, err := c.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if url1 == url2 {
		t.Fatalf("two databases share the URL %s", url1)
	}
	conn, err := pgx.Connect(ctx, url1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE marker (x int)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	conn, err = pgx.Connect(ctx, url2)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'marker'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("second database is not fresh: %d marker tables, %v", n, err)
	}
	conn.Close(ctx)

	stopped = true
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Fatalf("cluster directory %s left behind: %v", c.dir, err)
	}
	short, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	if conn, err := pgx.Connect(short, url1); err == nil {
		conn.Close(ctx)
		t.Fatal("server still accepts connections after Stop")
	}
}
