package controlplane

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// scheduleFields are the policy fields FuzzCronAndTimezone fills; every
// other field of its policy is valid, so these are the only ones a
// rejection may name.
var scheduleFields = map[string]bool{
	"optimization_policy.schedule":            true,
	"optimization_policy.timezone":            true,
	"optimization_policy.offhours.stop_cron":  true,
	"optimization_policy.offhours.start_cron": true,
	"optimization_policy.offhours.timezone":   true,
}

// FuzzCronAndTimezone feeds arbitrary schedules and time zone names to the
// policy validator, as a tenant can through CreateOptimizationPolicy. It
// must not panic, must reject with InvalidArgument naming only the fields
// at fault, and whatever it accepts the agent must be able to run: the
// expressions parse and their next firing can be computed in the zone.
func FuzzCronAndTimezone(f *testing.F) {
	for _, s := range [][5]string{
		{"0 2 * * *", "Europe/Berlin", "0 20 * * 1-5", "0 7 * * 1-5", "America/New_York"},
		{"*/15 * * * *", "UTC", "30 18 * * MON-FRI", "0 8 * * MON-FRI", ""},
		{"0 0 30 2 *", "Asia/Kathmandu", "0 0 1 1 *", "59 23 31 12 *", "Etc/GMT+12"},
		{"@daily", "Local", "@every 1h", "CRON_TZ=UTC 0 7 * * *", "../../etc/passwd"},
		{"0 2 * * * *", "/etc/localtime", "", " ", "Europe/Berlin\x00"},
		{"60 24 32 13 8", "europe/berlin", "0-59/0 * * * *", "1-0 * * * *", "UTC "},
		{"0 2 ? * *", "EST5EDT", "0 2 L * *", "0 2 * * 7", "Pacific/Chatham"},
		{"\xff\xfe", strings.Repeat("A/", 200), "0 2 * * * ", "0,,1 * * * *", "Z"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	from := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, schedule, tz, stopCron, startCron, offTZ string) {
		p := &sirsiv1.OptimizationPolicy{
			TenantId: "t1", Name: "nightly", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO,
			ResourceTypes: []string{"aws_ec2_instance"},
			Schedule:      schedule, Timezone: tz,
			Offhours: &sirsiv1.OffHoursSettings{StopCron: stopCron, StartCron: startCron, Timezone: offTZ},
		}
		var e validation.Errors
		validPolicy(&e, "optimization_policy", p, false)
		err := errOrInvalid(&e)
		if err != nil {
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("code %s, want InvalidArgument: %v", st.Code(), err)
			}
			var named int
			for _, d := range st.Details() {
				br, ok := d.(*errdetails.BadRequest)
				if !ok {
					continue
				}
				for _, v := range br.FieldViolations {
					if !scheduleFields[v.Field] || v.Description == "" {
						t.Fatalf("violation %q (%q) names a field that was valid, or gives no reason", v.Field, v.Description)
					}
					named++
				}
			}
			if named > 0 {
				return
			}
			// Without details the message must still name a field. Details
			// are lost when a reason is not valid UTF-8 (the cron parser
			// quotes raw input), which proto refuses to marshal; valid
			// input must always get them.
			allUTF8 := true
			for _, in := range []string{schedule, tz, stopCron, startCron, offTZ} {
				allUTF8 = allUTF8 && utf8.ValidString(in)
			}
			if allUTF8 || !namesScheduleField(st.Message()) {
				t.Fatalf("rejected without field violations: %v", err)
			}
			return
		}
		zones := []*time.Location{time.UTC}
		for _, z := range []string{tz, offTZ} {
			if z == "" {
				continue
			}
			loc, lerr := time.LoadLocation(z)
			if lerr != nil {
				t.Fatalf("accepted time zone %q that does not load: %v", z, lerr)
			}
			zones = append(zones, loc)
		}
		for _, c := range []string{schedule, stopCron, startCron} {
			sched, perr := validation.ParseCron(c)
			if perr != nil {
				t.Fatalf("accepted cron %q that does not parse: %v", c, perr)
			}
			for _, loc := range zones {
				// Only that it can be computed: a calendar that never
				// fires (February 30) yields the zero time.
				sched.Next(from.In(loc))
			}
		}
	})
}

func namesScheduleField(msg string) bool {
	for f := range scheduleFields {
		if strings.Contains(msg, f+": ") {
			return true
		}
	}
	return false
}
