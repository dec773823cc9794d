# Who changed optimization policies during November, and from where.
data "sirsi_audit_events" "policy_changes" {
  method = "/sirsi.v1.ManagementService/UpdateOptimizationPolicy"
  from   = "2026-11-01T00:00:00Z"
  to     = "2026-12-01T00:00:00Z"
}

# The first 50 refusals of one API token.
data "sirsi_audit_events" "refused" {
  actor   = "token:0193f0a2-7c1e-7b3a-9d2e-5f4c3b2a1d0e"
  outcome = "PermissionDenied"
  limit   = 50
}

output "policy_changes" {
  value = [for e in data.sirsi_audit_events.policy_changes.events : "${e.time} ${e.actor} ${e.target} ${e.outcome}"]
}
