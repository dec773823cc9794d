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
// exist, by resource type. Volumes are absent on purpose: a volume gone
// during snapshot_and_delete counts as deleted (see deleteVolume).
var goneCodes = map[string]string{
	ResourceRDSInstance:    "DBInstanceNotFound",
	ResourceLambdaFunction: "ResourceNotFoundException",
	ResourceEC2Instance:    "InvalidInstanceID.NotFound",
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
