// Package release holds the checks of the release configuration
// (.goreleaser.yml) made with GoReleaser's own configuration loader.
package release
