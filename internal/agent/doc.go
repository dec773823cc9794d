// Package agent is the runtime of `agentd agent`, the daemon that runs
// inside a customer's AWS account: it enrolls with the control plane
// (single-use token + CSR, then mTLS only, renewing at two thirds of the
// certificate's life), discovers resources, measures utilisation and
// costs on cron schedules, and reports everything through an on-disk spool
// so that neither a control-plane outage nor a crash loses or duplicates a
// batch.
//
// The agent only ever dials out: to the control plane's agent listener and
// to AWS.
package agent
