package sqlstore

import (
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// searchMatch returns the conditions (each starting " AND ") and their
// arguments of a free-text search over resources (store.ResourceFilter's
// Query): every word must occur in the name, the resource id, the type,
// or a tag key or value, ignoring the case of ASCII letters.
func (s *Store) searchMatch(query string) (string, []any) {
	var b strings.Builder
	var args []any
	lower := s.d.LowerASCII
	for _, term := range validation.SearchTerms(query) {
		pat := "%" + likeEscaper.Replace(lowerASCII(term)) + "%"
		b.WriteString(` AND (` + lower("name") + ` LIKE ? ESCAPE '\' OR ` + lower("resource_id") + ` LIKE ? ESCAPE '\' OR ` +
			lower("type") + ` LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM ` + s.d.JSONEach("tags") + ` AS t WHERE ` +
			lower("t.key") + ` LIKE ? ESCAPE '\' OR ` + lower("t.value") + ` LIKE ? ESCAPE '\'))`)
		args = append(args, pat, pat, pat, pat, pat)
	}
	return b.String(), args
}

// likeEscaper makes a search word match itself only: LIKE's wildcards and
// its escape character lose their meaning.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// lowerASCII is the Go side of Dialect.LowerASCII.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
