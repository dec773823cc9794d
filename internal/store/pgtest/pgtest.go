// Package pgtest runs a throwaway PostgreSQL cluster for tests: initdb and
// pg_ctl from the Debian postgresql package, a free loopback port, the
// socket and data in a temporary directory that is removed afterwards.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means initdb, pg_ctl or postgres could not be found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found")

// Cluster is one running server.
type Cluster struct {
	bin  string
	dir  string
	port int
	cred *syscall.Credential
	dbs  atomic.Int64
}

// FindBinaries returns the directory holding initdb, pg_ctl and postgres:
// the one initdb on PATH resolves to, else the newest
// /usr/lib/postgresql/<version>/bin.
func FindBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(r))
		}
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgVersion(versions[i]) > pgVersion(versions[j]) })
	dirs = append(dirs, versions...)
	for _, d := range dirs {
		ok := true
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if st, err := os.Stat(filepath.Join(d, b)); err != nil || st.IsDir() {
				ok = false
			}
		}
		if ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w (looked for initdb on PATH and in /usr/lib/postgresql/*/bin; install the Debian package postgresql)", ErrNoBinaries)
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// serverCredential is who runs the server: initdb refuses root, so as root
// the binaries run as the postgres system user.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and initdb refuses root: need the postgres system user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres user has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Start initialises and starts a cluster.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	// A short path: the socket path must fit in sun_path (108 bytes). As
	// root the postgres user must reach it, which a private TMPDIR may
	// not allow; /tmp always does.
	base := ""
	if cred != nil {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "pgtest")
	if err != nil {
		return nil, fmt.Errorf("pgtest: temp dir: %w", err)
	}
	c := &Cluster{bin: bin, dir: dir, cred: cred}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: hand %s to the postgres user: %w", dir, err)
		}
	}
	if out, err := c.run(ctx, "initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	// The port is picked free and then handed to the server, so another
	// process may grab it in between; a few attempts cover that.
	for attempt := 0; ; attempt++ {
		c.port, err = freePort()
		if err != nil {
			break
		}
		var out []byte
		out, err = c.run(ctx, "pg_ctl", "-D", c.data(), "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o",
			fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", c.port, dir),
			"start")
		if err == nil {
			return c, nil
		}
		err = fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, c.serverLog())
		if attempt == 2 {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("pgtest: %w", err)
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) serverLog() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the connection URL of database name.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// CreateDatabase creates a new, empty database and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.dbs.Add(1))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// PID is the postmaster's process id, from its postmaster.pid file: the
// process whose children are the cluster's backends.
func (c *Cluster) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("pgtest: the postmaster's pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("pgtest: postmaster.pid starts with %q, not a pid", line)
	}
	return pid, nil
}

// Stop stops the server and removes its files.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	if err != nil {
		err = fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// Database returns the URL of a fresh database in the test binary's shared
// cluster, starting the cluster on first use. Without the server binaries
// the test is skipped with the reason, unless CI=true, where it fails.
// Test binaries that call it must run Main from their TestMain so the
// cluster is stopped.
func Database(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.cluster, shared.err = Start(ctx)
	})
	if shared.err != nil {
		if errors.Is(shared.err, ErrNoBinaries) && os.Getenv("CI") != "true" {
			tb.Skipf("SKIPPING PostgreSQL tests: %v", shared.err)
		}
		tb.Fatalf("PostgreSQL test cluster: %v", shared.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, err := shared.cluster.CreateDatabase(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return url
}

// Main runs the tests and then stops the shared cluster, if one started.
func Main(m *testing.M) {
	code := m.Run()
	if err := StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// StopShared stops the shared cluster, if one started; for a TestMain that
// has its own cleanup to do after m.Run and so cannot use Main.
func StopShared() error {
	if shared.cluster == nil {
		return nil
	}
	return shared.cluster.Stop()
}
