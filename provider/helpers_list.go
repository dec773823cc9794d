package provider

import (
	"context"
	"fmt"
)

// Lists follow next_page_token with the largest page the API allows, up to
// listMaxPages pages (100,000 objects): past that a data source would make
// every plan slow and the state huge, so the read fails and asks for
// narrower filters instead of returning a silently truncated list.
const (
	listPageSize = 1000
	listMaxPages = 100
)

// listAll collects every page of a list call.
func listAll[T any](ctx context.Context, what string, fetch func(ctx context.Context, pageToken string) ([]T, string, error)) ([]T, error) {
	all := make([]T, 0)
	token := ""
	for page := 0; page < listMaxPages; page++ {
		items, next, err := fetch(ctx, token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if next == token {
			return nil, fmt.Errorf("listing %s: the server returned the same page token twice", what)
		}
		token = next
	}
	return nil, fmt.Errorf("listing %s: stopped after %d pages (%d objects) and there are more; narrow the filters", what, listMaxPages, len(all))
}
