package awsclient

// IAMAction names the IAM action that authorises an SDK operation: pkg is
// the SDK service package's name ("ec2", "costexplorer"), op the
// operation ("StopInstances"). For most operations the action is
// "<service prefix>:<operation>"; the exceptions are in AWS's Service
// Authorization Reference.
func IAMAction(pkg, op string) string {
	prefix := pkg
	if p, ok := iamServicePrefixes[pkg]; ok {
		prefix = p
	}
	action := prefix + ":" + op
	if a, ok := iamActionRenames[action]; ok {
		return a
	}
	return action
}

// iamServicePrefixes holds the SDK packages whose IAM prefix is not their
// name.
var iamServicePrefixes = map[string]string{"costexplorer": "ce"}

// iamActionRenames holds the operations whose action has another name.
var iamActionRenames = map[string]string{"s3:ListBuckets": "s3:ListAllMyBuckets"}
