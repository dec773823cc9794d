package awssim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

const (
	stsVersion = "2011-06-15"
	stsXMLNS   = "https://sts.amazonaws.com/doc/2011-06-15/"
)

func init() {
	registerService(serviceDef{name: "sts", protocol: ProtoQuery, handle: (*Sim).serveSTS})
}

// session is a temporary credential issued by AssumeRole.
type session struct {
	// role is the assumed role's ARN, arn its session's.
	account, role, arn, userID string
	expires                    time.Time
}

func (s *Sim) serveSTS(rc *Request) {
	action, ok := queryAction(rc, stsVersion)
	if !ok || !s.admit(rc, action) {
		return
	}
	switch action {
	case "GetCallerIdentity":
		s.stsGetCallerIdentity(rc)
	case "AssumeRole":
		s.stsAssumeRole(rc)
	default:
		rc.WriteError(Errorf("InvalidAction", "Could not find operation %s for version %s", action, stsVersion))
	}
}

// queryAction validates Action and Version of an awsquery/ec2query request
// and writes the error when they are wrong.
func queryAction(rc *Request, version string) (string, bool) {
	if rc.Form == nil {
		rc.WriteError(Errorf("MissingAction", "request body must be application/x-www-form-urlencoded with an Action parameter"))
		return "", false
	}
	action := rc.Form.Get("Action")
	if action == "" {
		rc.WriteError(Errorf("MissingAction", "the request must contain the parameter Action"))
		return "", false
	}
	if v := rc.Form.Get("Version"); v != version {
		rc.WriteError(Errorf("NoSuchVersion", "the requested version (%s) of service %s does not exist; this simulator serves %s", v, rc.Service, version))
		return "", false
	}
	return action, true
}

type stsResponseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type getCallerIdentityResponse struct {
	XMLName  xml.Name `xml:"GetCallerIdentityResponse"`
	XMLNS    string   `xml:"xmlns,attr"`
	Result   callerIdentity
	Metadata stsResponseMetadata `xml:"ResponseMetadata"`
}

type callerIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

func (s *Sim) stsGetCallerIdentity(rc *Request) {
	id := callerIdentity{Account: rc.Account}
	s.mu.Lock()
	sess, ok := s.creds[rc.AccessKey]
	s.mu.Unlock()
	if ok {
		id.Arn, id.UserID = sess.arn, sess.userID
	} else {
		// Long-term keys belong to an IAM user named after the key, so two
		// keys of one account are distinguishable.
		id.Arn = fmt.Sprintf("arn:aws:iam::%s:user/sim-%s", rc.Account, strings.ToLower(rc.AccessKey))
		id.UserID = "AIDA" + pseudoID(rc.AccessKey, 17)
	}
	rc.WriteXML(http.StatusOK, getCallerIdentityResponse{XMLNS: stsXMLNS, Result: id, Metadata: stsResponseMetadata{rc.RequestID}})
}

var (
	stsRoleARNPattern  = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

type assumeRoleResponse struct {
	XMLName  xml.Name `xml:"AssumeRoleResponse"`
	XMLNS    string   `xml:"xmlns,attr"`
	Result   assumeRoleResult
	Metadata stsResponseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	XMLName     xml.Name `xml:"AssumeRoleResult"`
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
}

func (s *Sim) stsAssumeRole(rc *Request) {
	roleARN := rc.Form.Get("RoleArn")
	sessionName := rc.Form.Get("RoleSessionName")
	m := stsRoleARNPattern.FindStringSubmatch(roleARN)
	switch {
	case roleARN == "":
		rc.WriteError(Errorf("MissingParameter", "The request must contain the parameter RoleArn"))
		return
	case m == nil:
		rc.WriteError(Errorf("ValidationError", "RoleArn %q is not a valid IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)", roleARN))
		return
	case sessionName == "":
		rc.WriteError(Errorf("MissingParameter", "The request must contain the parameter RoleSessionName"))
		return
	case !sessionNamePattern.MatchString(sessionName):
		rc.WriteError(Errorf("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2..64", sessionName))
		return
	}
	duration, set, aerr := OptionalInt(rc.Form, "DurationSeconds", 900, 43200)
	if aerr != nil {
		aerr.Code = "ValidationError"
		rc.WriteError(aerr)
		return
	}
	if !set {
		duration = 3600
	}
	extID := rc.Form.Get("ExternalId")
	if extID != "" && (len(extID) < 2 || len(extID) > 1224 || !externalIDPattern.MatchString(extID)) {
		rc.WriteError(Errorf("ValidationError", "ExternalId: must be 2..1224 characters of [\\w+=,.@:/-]"))
		return
	}
	if want, ok := s.opts.RoleExternalIDs[roleARN]; ok && want != extID {
		rc.WriteError(&APIError{Status: http.StatusForbidden, Code: "AccessDenied",
			Message: fmt.Sprintf("User: arn:aws:iam::%s:user/sim is not authorized to perform: sts:AssumeRole on resource: %s", rc.Account, roleARN)})
		return
	}
	roleAccount, roleName := m[1], m[3]
	s.mu.Lock()
	akid := "ASIA" + strings.ToUpper(fmt.Sprintf("%016x", s.rng.Uint64()))
	secret := base64.RawStdEncoding.EncodeToString(fmt.Appendf(nil, "%016x%016x%08x", s.rng.Uint64(), s.rng.Uint64(), s.rng.Uint32()))
	token := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "sim-session/%s/%s/%016x", roleAccount, sessionName, s.rng.Uint64()))
	roleID := "AROA" + pseudoID(roleARN, 17)
	sess := session{
		account: roleAccount,
		role:    roleARN,
		arn:     fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", roleAccount, roleName, sessionName),
		userID:  roleID + ":" + sessionName,
		expires: rc.Now.Add(time.Duration(duration) * time.Second),
	}
	s.creds[akid] = sess
	s.mu.Unlock()

	var res assumeRoleResult
	res.Credentials.AccessKeyID = akid
	res.Credentials.SecretAccessKey = secret
	res.Credentials.SessionToken = token
	res.Credentials.Expiration = sess.expires.UTC().Format(time.RFC3339)
	res.AssumedRoleUser.AssumedRoleID = sess.userID
	res.AssumedRoleUser.Arn = sess.arn
	rc.WriteXML(http.StatusOK, assumeRoleResponse{XMLNS: stsXMLNS, Result: res, Metadata: stsResponseMetadata{rc.RequestID}})
}

// pseudoID derives a stable upper-case alphanumeric id of length n from key.
func pseudoID(key string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	seed := resourceSeed(0, key)
	out := make([]byte, n)
	x := uint64(seed)
	for i := range out {
		if i%12 == 0 {
			x = uint64(resourceSeed(int64(i), key))
		}
		out[i] = alphabet[x&31]
		x >>= 5
	}
	return string(out)
}
