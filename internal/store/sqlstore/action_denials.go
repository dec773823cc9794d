package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// deniedCodes are AWS's authorization refusals: the agent's role lacks a
// permission, which no retry fixes and a person has to.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"UnauthorizedOperation": true,
}

// deniedInARow is how many actions AWS must refuse in a row before the
// cloud account shows actions_denied: one refusal can be a policy being
// rolled out; two in a row is a role that lacks the permission.
const deniedInARow = 2

// noteActionOutcome keeps the cloud account's count of actions AWS refused
// in a row and its actions_denied status: a refusal counts, whether the
// action then failed or was rolled back (a resize whose stop AWS refuses
// is rolled back: the instance is left as it was), an action that
// succeeded or was rolled back after another failure (so AWS let the
// agent change things) resets both, and any other outcome (a live check
// refusing, a resource gone) says nothing about permissions. A credentials status (mismatch,
// role refused) stays: it is the graver one and the heartbeat owns it.
func (t *tenantStore) noteActionOutcome(ctx context.Context, tx *sql.Tx, accountID string, a *sirsiv1.Action) error {
	rolledBack := a.Status == sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK
	denied := (a.Status == sirsiv1.ActionStatus_ACTION_STATUS_FAILED || rolledBack) && deniedCodes[a.ErrorCode]
	allowed := !denied && (a.Status == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || rolledBack)
	if !denied && !allowed {
		return nil
	}
	connected, deniedStatus := int64(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED), int64(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ACTIONS_DENIED)
	var err error
	if denied {
		detail := fmt.Sprintf("AWS refused %s of %s %s: %s", a.Action, a.ResourceType, a.ResourceId, a.ErrorCode)
		_, err = tx.ExecContext(ctx, t.q(`UPDATE cloud_accounts SET action_denials = action_denials + 1,
status_detail = CASE WHEN action_denials + 1 >= ? AND status IN (?, ?) THEN ? ELSE status_detail END,
status = CASE WHEN action_denials + 1 >= ? AND status = ? THEN ? ELSE status END
WHERE tenant_id = ? AND id = ?`),
			deniedInARow, connected, deniedStatus, detail, deniedInARow, connected, deniedStatus, t.id, accountID)
	} else {
		_, err = tx.ExecContext(ctx, t.q(`UPDATE cloud_accounts SET action_denials = 0,
status_detail = CASE WHEN status = ? THEN '' ELSE status_detail END,
status = CASE WHEN status = ? THEN ? ELSE status END
WHERE tenant_id = ? AND id = ?`),
			deniedStatus, deniedStatus, connected, t.id, accountID)
	}
	if err != nil {
		return fmt.Errorf("note the outcome of action %q on cloud account %q: %w", a.Id, accountID, err)
	}
	return nil
}
