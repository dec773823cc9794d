package awssim

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// marketOptions reads RunInstances' InstanceMarketOptions: a Spot launch
// (one-time unless SpotOptions.SpotInstanceType says persistent).
func marketOptions(rc *Request) (lifecycle, spotType string, aerr *APIError) {
	switch m := rc.Form.Get("InstanceMarketOptions.MarketType"); m {
	case "":
		return "", "", nil
	case "spot":
		spotType = rc.Form.Get("InstanceMarketOptions.SpotOptions.SpotInstanceType")
		switch spotType {
		case "":
			spotType = "one-time"
		case "one-time", "persistent":
		default:
			return "", "", Errorf("InvalidParameterValue", "InstanceMarketOptions.SpotOptions.SpotInstanceType: %q is not one-time or persistent", spotType)
		}
		return "spot", spotType, nil
	default:
		return "", "", Errorf("InvalidParameterValue", "InstanceMarketOptions.MarketType: %q is not spot (the simulator has no capacity blocks)", m)
	}
}

// boolParam reads an optional boolean parameter; absent is false.
func boolParam(rc *Request, name string) (bool, *APIError) {
	v := rc.Form.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected a boolean.", v, name)
	}
	return b, nil
}

// hibernationOptions reads RunInstances' HibernationOptions.Configured.
// EC2 hibernates to the EBS root volume, so an instance-store root cannot
// be enabled, nor a Spot Instance the simulator would stop by request.
func hibernationOptions(rc *Request, rootDeviceType string) (bool, *APIError) {
	on, aerr := boolParam(rc, "HibernationOptions.Configured")
	if aerr != nil || !on {
		return false, aerr
	}
	if rootDeviceType == "instance-store" {
		return false, Errorf("UnsupportedHibernationConfiguration", "Hibernation is not supported for instances with an instance-store root device.")
	}
	return true, nil
}

// stoppable refuses to stop what EC2 cannot stop: an instance-store root
// device and a Spot Instance of a one-time request.
func stoppable(in *Instance) *APIError {
	switch {
	case in.RootDeviceType == "instance-store":
		return Errorf("UnsupportedOperation", "The instance '%s' does not have an 'ebs' root device type and cannot be stopped.", in.ID)
	case in.Lifecycle == "spot" && in.SpotType == "one-time":
		return Errorf("UnsupportedOperation", "You can't stop the Spot Instance '%s' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.", in.ID)
	}
	return nil
}

// SetImageRootDeviceType makes instances later launched from imageID have
// that root device type ("ebs", the default, or "instance-store"), as the
// image's own root device decides in EC2.
func (s *Sim) SetImageRootDeviceType(imageID, rootDeviceType string) error {
	if rootDeviceType != "ebs" && rootDeviceType != "instance-store" {
		return fmt.Errorf("awssim: root device type %q: want ebs or instance-store", rootDeviceType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.imageRoots == nil {
		s.imageRoots = map[string]string{}
	}
	s.imageRoots[imageID] = rootDeviceType
	return nil
}

// imageRootDeviceType is the root device type of imageID's instances.
// Caller holds s.mu.
func (s *Sim) imageRootDeviceType(imageID string) string {
	if t := s.imageRoots[imageID]; t != "" {
		return t
	}
	return "ebs"
}

// SetSystemTags puts on an instance the tags AWS services set themselves
// (aws:autoscaling:groupName, aws:ec2spot:fleet-request-id, eks:...),
// which RunInstances and CreateTags refuse from a caller: how a test makes
// an instance a member of an Auto Scaling group or a managed node group.
func (s *Sim) SetSystemTags(account, region, instanceID string, tags map[string]string) error {
	for k := range tags {
		if !strings.HasPrefix(k, "aws:") && !strings.HasPrefix(k, "eks:") {
			return fmt.Errorf("awssim: tag %q is not a system tag (aws: or eks:); use CreateTags", k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.region(account, region).Instances[instanceID]
	if !ok {
		return fmt.Errorf("awssim: instance %s not found in %s/%s", instanceID, account, region)
	}
	maps.Copy(in.Tags, tags)
	return nil
}
