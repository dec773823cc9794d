// Package validation holds the domain rules of every SirsiNexus field that
// has one: names, AWS identifiers, regions, cron expressions, time zones,
// percentages, enums, durations and dates. The control plane applies them to
// every request; the Terraform provider reuses them at plan time so a bad
// value fails before anything is sent.
//
// Each check is a pure function returning nil or an error whose text is the
// reason (never the field name: the caller knows the field path). Errors
// collects (field path, reason) pairs for a whole request.
//
// Decisions worth knowing:
//   - Cron expressions are robfig/cron/v3 standard five-field expressions
//     (minute hour day-of-month month day-of-week). The calendar
//     descriptors @yearly, @annually, @monthly, @weekly, @daily, @midnight
//     and @hourly are accepted because they are five-field shorthands;
//     "@every <duration>" is refused (it describes an interval from process
//     start, not a window on the calendar), and so is a CRON_TZ=/TZ= prefix
//     (the time zone is its own field).
//   - Time zones are IANA names resolved against the embedded tz database
//     (time/tzdata), so a machine without zoneinfo validates the same way;
//     "Local" is refused because it means a different zone on every host.
//   - Regions are the AWS regions of the aws, aws-cn and aws-us-gov
//     partitions known when this was written; a new region needs a release.
package validation

// Blank import: the tz database must be embedded so LoadLocation gives the
// same answer on every machine, including minimal containers.
import _ "time/tzdata"
