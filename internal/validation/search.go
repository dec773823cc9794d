package validation

import (
	"fmt"
	"strings"
)

// Bounds of a free-text search (ListResourcesRequest.query): enough for a
// few words, small enough that every word is one cheap condition.
const (
	MaxSearchLen   = 256
	MaxSearchTerms = 8
)

// SearchTerms splits a free-text search into its words: runs of
// non-space characters, each of which a match must contain.
func SearchTerms(q string) []string { return strings.Fields(q) }

// Search checks a free-text search: optional, printable, one line, at most
// 256 characters and 8 words.
func Search(q string) error {
	if err := Text(q, MaxSearchLen, false); err != nil {
		return err
	}
	if n := len(SearchTerms(q)); n > MaxSearchTerms {
		return fmt.Errorf("has %d words, at most %d are allowed", n, MaxSearchTerms)
	}
	return nil
}

// ResourceIDs checks a list of resource ids filtering a list: at most one
// page of resources (MaxPageSize), each an id.
func ResourceIDs(ids []string) error {
	if len(ids) > MaxPageSize {
		return fmt.Errorf("has %d ids, at most %d are allowed", len(ids), MaxPageSize)
	}
	for i, id := range ids {
		if err := ID(id); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return nil
}
