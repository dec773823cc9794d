package actuator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// TestResourceGoneAtEveryStep deletes the DB instance or the function
// (through the simulator's DeleteDBInstance and DeleteFunction, as a
// person would) at every step boundary of the RDS class and Lambda memory
// flows, on the way to success and through a rollback (verification
// failing at the new size). The step after the deletion fails with AWS's
// code (or, for a DB instance still deleting, says so), nothing is rolled
// back or tagged against the missing resource, the action fails saying the
// resource is gone, the flow ends in no more steps than it had, and the
// actuator carries out the next action. Once verification has passed or
// the rollback is done, only the tag is left: the action keeps the
// outcome it had and the tag is skipped.
func TestResourceGoneAtEveryStep(t *testing.T) {
	type variant struct {
		kind kind
		// vanish deletes the resource.
		vanish func(t testing.TB, c clients, req Request, settle func())
		// codes is what the step after the deletion may report: a DB
		// instance still deleting says so, unless the verify wait outlasts
		// the deletion.
		codes []string
	}
	variants := map[string]variant{
		"rds/deleting": {kinds[1], vanishDB, []string{errGone.Error(), "DBInstanceNotFound"}},
		"rds/gone":     {kinds[1], vanishDB, []string{"DBInstanceNotFound"}},
		"lambda/gone":  {kinds[2], vanishFunction, []string{"ResourceNotFoundException"}},
	}
	for name, v := range variants {
		for _, degrade := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/degraded=%t", name, degrade), func(t *testing.T) {
				e := newEnv(t)
				c := newClients(t, e.url)
				service := strings.SplitN(name, "/", 2)[0]
				run := func(vanishAfter string) (*sirsiv1.Action, Request, *Actuator) {
					req := v.kind.create(t, c, func() { e.clock.Advance(time.Hour) })
					req.VerifyWait = 15 * time.Minute
					if degrade {
						if err := e.sim.DegradeAtSize(service, req.ResourceID, req.ToSize); err != nil {
							t.Fatal(err)
						}
					}
					a := e.actuator(t, c.withServices(e.config(t, t.TempDir())))
					a.beforeJournal = func(phase string) {
						if phase != vanishAfter {
							return
						}
						v.vanish(t, c, req, func() {
							if name == "rds/gone" {
								e.clock.Advance(time.Hour) // the deletion completes
							}
						})
					}
					return a.Execute(context.Background(), req), req, a
				}
				ref, _, _ := run("")
				want := sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED
				if degrade {
					want = sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK
				}
				if ref.Status != want {
					t.Fatalf("uninterrupted flow: %v %q, want %v", ref.Status, ref.Error, want)
				}
				names := stepNames(ref)
				for i, after := range names[:len(names)-1] {
					act, req, a := run(after)
					next := names[i+1]
					if next == phaseTag || next == phaseTagError {
						// Only the tag was left: the outcome stands.
						if act.Status != want || stepStatus(act, next) != statusSkipped && name != "rds/deleting" {
							t.Errorf("gone after %s: %v %q, tag %s; want %v with the tag skipped", after, act.Status, act.Error, stepStatus(act, next), want)
						}
						continue
					}
					rec, err := a.j.get(req.ID)
					if err != nil || rec == nil || !rec.terminal() || !slices.Contains(v.codes, rec.Gone) {
						t.Errorf("gone after %s: journal %v, outcome %v, gone %q; want a finished flow recording one of %v", after, err, rec != nil && rec.terminal(), rec.Gone, v.codes)
						continue
					}
					if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || !strings.Contains(act.Error, "is gone ("+rec.Gone+")") {
						t.Errorf("gone after %s: %v %q, want failed naming %s", after, act.Status, act.Error, rec.Gone)
					}
					last := act.Steps[len(act.Steps)-1]
					if last.Status != statusFailed || !strings.Contains(last.Detail, rec.Gone) {
						t.Errorf("gone after %s: the flow ended with %s %s %q, want the step that found it gone failed with %s", after, last.Name, last.Status, last.Detail, rec.Gone)
					}
					if len(act.Steps) > len(ref.Steps) {
						t.Errorf("gone after %s: %d steps, more than the %d of the uninterrupted flow: %v", after, len(act.Steps), len(ref.Steps), stepNames(act))
					}
				}
				t.Logf("deleted after each of %v", names[:len(names)-1])
				// The actuator is still in service.
				if next, _, _ := run(""); next.Status != want {
					t.Fatalf("the next action after the vanished ones: %v %q", next.Status, next.Error)
				}
			})
		}
	}
}

func stepStatus(a *sirsiv1.Action, name string) string {
	for _, s := range a.Steps {
		if s.Name == name {
			return s.Status
		}
	}
	return ""
}
