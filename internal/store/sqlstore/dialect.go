package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strconv"
	"strings"
)

// Dialect is what differs between the SQL back ends. Queries are written
// once with '?' placeholders; Rebind turns them into the dialect's form.
type Dialect struct {
	Name string
	// Dollar placeholders ($1, $2...) instead of '?'.
	Dollar bool
	// IsUniqueViolation reports a unique or primary key constraint failure.
	IsUniqueViolation func(error) bool
	// JSONField returns an expression reading the top-level string member
	// key of a JSON object column (NULL when absent), with its single
	// placeholder's argument.
	JSONField func(column, key string) (expr string, arg any)
	// TagsContain, when set, returns a condition true when the resources
	// table's JSON tags column contains every member of the JSON object
	// bound to its single placeholder: one indexable test instead of a
	// JSONField comparison per filter key.
	TagsContain func(column string) string
	// LowerASCII returns expr with its ASCII letters, and only those, in
	// lower case (what a free-text search ignores), the same in every
	// dialect whatever the database's collation.
	LowerASCII func(expr string) string
	// JSONEach returns a table expression of the members of a JSON object
	// column, with text columns key and value.
	JSONEach func(column string) string
	// LockAudit serialises audit appends across connections and processes
	// for the rest of tx; nil when the back end has one writer anyway.
	LockAudit func(ctx context.Context, tx *sql.Tx) error
	// SkipLocked ends a SELECT that claims rows so replicas claiming at
	// once take different rows instead of waiting for each other (" FOR
	// UPDATE SKIP LOCKED"); empty when the back end has one writer anyway.
	SkipLocked string
	// ForUpdate ends a SELECT whose rows the transaction locks until it
	// ends (" FOR UPDATE"), so replicas checking a count and then writing
	// take turns; empty when the back end has one writer anyway.
	ForUpdate string
	// TenantTablesQuery lists the names of the tables that have a
	// tenant_id column.
	TenantTablesQuery string
	// Snapshot are the options of a read transaction that sees one
	// snapshot from its first read to its end (PostgreSQL needs
	// REPEATABLE READ; a SQLite read transaction is one by itself).
	Snapshot *sql.TxOptions
	// Lock and Unlock take a session-level cluster-wide lock on conn for
	// migrations and leader election; TryLock does not wait. Nil means
	// the store is the only process using the database.
	Lock    func(ctx context.Context, conn *sql.Conn, key int64) error
	TryLock func(ctx context.Context, conn *sql.Conn, key int64) (bool, error)
	Unlock  func(ctx context.Context, conn *sql.Conn, key int64) error
}

// Rebind rewrites '?' placeholders for the dialect. Queries in this package
// never contain '?' inside literals.
func (d *Dialect) Rebind(q string) string {
	if !d.Dollar {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// errBadConn makes database/sql discard a connection, ending its session
// (and any advisory lock it still holds).
var errBadConn = driver.ErrBadConn
