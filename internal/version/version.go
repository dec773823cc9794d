// Package version holds the build's version, set at link time with
// -ldflags "-X github.com/sirsinexus/terraform-provider-sirsi/internal/version.Version=v1.2.3".
package version

// Version is "dev" in builds that did not set it.
var Version = "dev"
