package actuator

import (
	"errors"
	"fmt"
)

// A resource that disappears mid-flow (someone deleted the DB instance or
// the function between two steps) ends the flow at the step that found it
// gone: that step fails with AWS's error code, no rollback or tagging is
// attempted against nothing, and the action fails saying so. Retrying
// cannot bring the resource back, and AWS has nothing left to undo.

// errGone marks a resource that is going away without AWS saying
// not-found yet (a DB instance in status deleting).
var errGone = errors.New("the resource is being deleted")

// goneCodes are AWS's error codes saying the flow's resource does not
// exist, by resource type. A volume gone at snapshot_and_delete's delete
// step counts as deleted instead (deleteVolume answers that itself: the
// snapshot holds the data); gone before its snapshot, it ends the flow.
var goneCodes = map[string]string{
	ResourceEBSVolume:      "InvalidVolume.NotFound",
	ResourceRDSInstance:    "DBInstanceNotFound",
	ResourceLambdaFunction: "ResourceNotFoundException",
	ResourceEC2Instance:    "InvalidInstanceID.NotFound",
}

// instanceGoing is the error for an instance found shutting-down or
// terminated where the flow needs it: terminated instances stay listed
// for about an hour, so EC2 answers with their state, not a not-found
// code, and the flow ends as for a resource gone.
func instanceGoing(id, state, doing string) error {
	if state == "shutting-down" || state == "terminated" {
		return fmt.Errorf("instance %s is %s: cannot %s it: %w", id, state, doing, errGone)
	}
	return nil
}

// goneReason says why err means the flow's resource is gone ("" when it
// does not): AWS's not-found code, or errGone.
func (r *record) goneReason(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, errGone) {
		return errGone.Error()
	}
	if code := awsCode(err); code != "" && code == goneCodes[r.Req.ResourceType] {
		return code
	}
	return ""
}

// goneError is the action's error when its resource went away after the
// flow began.
func (r *record) goneError() string {
	return fmt.Sprintf("%s failed: %s; %s %s is gone (%s): nothing left to roll back", r.Req.Action, r.Failure, r.Req.ResourceType, r.Req.ResourceID, r.Gone)
}
