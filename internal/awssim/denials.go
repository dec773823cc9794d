package awssim

import (
	"fmt"
	"net/http"
	"regexp"
)

// A role's permissions: DenyRoleActions takes actions away from an IAM
// role, as a role policy that does not allow them would, so a test can
// run an agent whose role lacks a permission. Only sessions of that role
// (AssumeRole credentials) are refused; long-term keys keep every action,
// as the simulator's users have AdministratorAccess.

// iamActionPattern is an IAM action as a policy names it.
var iamActionPattern = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)

// iamPrefix maps a SigV4 signing name to the service prefix of its IAM
// actions where the two differ.
var iamPrefix = map[string]string{"monitoring": "cloudwatch"}

// DenyRoleActions refuses these IAM actions ("ec2:StopInstances",
// "rds:ModifyDBInstance") to every session of roleARN, present and future,
// with the error AWS gives for an action no policy allows. Calling it
// again adds to the role's denials.
func (s *Sim) DenyRoleActions(roleARN string, actions ...string) error {
	if !stsRoleARNPattern.MatchString(roleARN) {
		return fmt.Errorf("awssim: DenyRoleActions: %q is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)", roleARN)
	}
	for _, a := range actions {
		if !iamActionPattern.MatchString(a) {
			return fmt.Errorf("awssim: DenyRoleActions: %q is not an IAM action (service:Action)", a)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.denied[roleARN]
	if set == nil {
		set = map[string]bool{}
		s.denied[roleARN] = set
	}
	for _, a := range actions {
		set[a] = true
	}
	return nil
}

// denial is the error for a call of action the caller's role may not make,
// or nil.
func (s *Sim) denial(rc *Request, action string) *APIError {
	prefix := rc.Service
	if p, ok := iamPrefix[prefix]; ok {
		prefix = p
	}
	iamAction := prefix + ":" + action
	s.mu.Lock()
	sess, ok := s.creds[rc.AccessKey]
	denied := ok && s.denied[sess.role][iamAction]
	s.mu.Unlock()
	if !denied {
		return nil
	}
	return accessDenied(rc.Protocol, sess.arn, iamAction)
}

// accessDenied is each service's answer to an action no policy allows,
// HTTP 403: EC2 says UnauthorizedOperation (its message starting "You are
// not authorized to perform this operation."; the encoded authorization
// failure message AWS appends is left out: only sts:DecodeAuthorizationMessage
// could read it), awsquery and restXml services AccessDenied, the JSON
// services (Lambda) AccessDeniedException.
func accessDenied(p Protocol, principal, iamAction string) *APIError {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", principal, iamAction, iamAction)
	switch p {
	case ProtoEC2:
		return &APIError{Status: http.StatusForbidden, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. " + msg}
	case ProtoQuery, ProtoRESTXML:
		return &APIError{Status: http.StatusForbidden, Code: "AccessDenied", Message: msg}
	}
	return &APIError{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: msg}
}
