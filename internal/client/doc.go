// Package client is the provider's connection to the control plane's
// ManagementService: it validates the connection settings, builds TLS, adds
// the bearer token and user agent to every call, and retries transient
// failures (Unavailable, ResourceExhausted) with backoff inside a bounded
// time, so resources in the provider package only map between Terraform
// models and the API.
package client
