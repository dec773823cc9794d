// Package awsclient builds the aws.Config every agent component uses: the
// SDK's default credential chain (or a supplied provider, such as Vault's
// leased credentials), an optional STS role assumption with an external id,
// adaptive retries that keep retrying throttles instead of failing a sweep,
// client-side token buckets from AWS's published quotas (internal/awsquota),
// per-service call and throttle metrics, and an HTTP client that works
// around aws-sdk-go-v2 #2737.
package awsclient
