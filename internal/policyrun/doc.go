// Package policyrun runs optimization policies on the agent: it decides,
// for each assigned policy and at a given instant, which actions may be
// taken now and hands them to an executor, within the policy's blast-radius
// limits.
//
// It owns the rules of when and how much: the policy's mode (recommend,
// approve, auto, dry run), its schedule window, saved dry-run plans and
// approved ones, off-hours firings, the cool-down, max_actions_per_run per
// window (counted across restarts) and the tenant-wide cap granted by the
// control plane. It owns none of the transport and none of the AWS calls:
// those come in through four small interfaces, Executor (the actuator),
// Reporter (the agent's spool and the control plane), Reserver (the
// tenant-wide cap) and Clock, so that every rule is tested here with fakes.
package policyrun
