// Package optimizer turns inventory, utilisation summaries, the price
// catalogue and an optimization policy into recommendations: pure
// functions, no I/O, deterministic for the same inputs, so the agent, the
// tests and the benchmarks all get the same answer.
//
// Decisions, per resource type:
//
//   - EC2: an idle running instance (CPU Maximum, or p99, and network
//     below the idle floors over the whole idle lookback) is stopped;
//     otherwise it is right-sized to the cheapest type that fits the
//     observed CPU statistic plus headroom (see rightsize.go for the rules).
//   - EBS: an unattached volume older than the idle lookback is snapshotted
//     and deleted; a gp2 volume is migrated to gp3.
//   - Elastic IP: an unassociated address is released.
//   - RDS: the instance class is right-sized from CPU, connections and
//     freeable memory, same engine and architecture.
//   - Lambda: memory is right-sized from the Lambda Insights
//     memory_utilization Maximum.
//   - Commitments: the Savings Plans and RDS reserved instances Cost
//     Explorer recommends for the policy's term and payment option, with
//     its figures (net of the commitments the account already has). Only
//     when Cost Explorer cannot answer is a Compute Savings Plan estimated
//     per region from the steady EC2 on-demand baseline left after the
//     other recommendations, at list prices less the existing coverage,
//     labelled as a fallback.
//
// Every price comes from the pricing catalogue; every dollar figure is
// rounded to cents and monthly means hourly × 730.
package optimizer
