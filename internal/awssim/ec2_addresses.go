package awssim

import (
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
)

type ec2AddressXML struct {
	PublicIP           string   `xml:"publicIp"`
	AllocationID       string   `xml:"allocationId"`
	Domain             string   `xml:"domain"`
	InstanceID         string   `xml:"instanceId,omitempty"`
	AssociationID      string   `xml:"associationId,omitempty"`
	PrivateIPAddress   string   `xml:"privateIpAddress,omitempty"`
	TagSet             []ec2Tag `xml:"tagSet>item,omitempty"`
	PublicIpv4Pool     string   `xml:"publicIpv4Pool"`
	NetworkBorderGroup string   `xml:"networkBorderGroup"`
}

func addressXML(a *Address) ec2AddressXML {
	return ec2AddressXML{PublicIP: a.PublicIP, AllocationID: a.AllocationID, Domain: "vpc", InstanceID: a.InstanceID,
		AssociationID: a.AssociationID, PrivateIPAddress: a.PrivateIP, TagSet: ec2Tags(a.Tags),
		PublicIpv4Pool: "amazon", NetworkBorderGroup: a.NetworkBorderGroup}
}

type allocateAddressResponse struct {
	XMLName            xml.Name `xml:"AllocateAddressResponse"`
	XMLNS              string   `xml:"xmlns,attr"`
	RequestID          string   `xml:"requestId"`
	PublicIP           string   `xml:"publicIp"`
	Domain             string   `xml:"domain"`
	AllocationID       string   `xml:"allocationId"`
	PublicIpv4Pool     string   `xml:"publicIpv4Pool"`
	NetworkBorderGroup string   `xml:"networkBorderGroup"`
}

func (s *Sim) ec2AllocateAddress(rc *Request, rs *RegionState) (any, *APIError) {
	if d := rc.Form.Get("Domain"); d != "" && d != "vpc" {
		return nil, Errorf("InvalidParameterValue", "Value (%s) for parameter domain is invalid: EC2-Classic is retired, only 'vpc' is valid", d)
	}
	if nbg := rc.Form.Get("NetworkBorderGroup"); nbg != "" && nbg != rs.Name {
		return nil, Errorf("InvalidParameterValue", "Invalid network border group '%s' for region %s", nbg, rs.Name)
	}
	tagSpecs, aerr := tagSpecifications(rc, "elastic-ip")
	if aerr != nil {
		return nil, aerr
	}
	created := rc.Now.Add(-s.opts.Backfill)
	n := s.rng.Uint32()
	a := &Address{AllocationID: s.newID("eipalloc"), PublicIP: fmt.Sprintf("3.%d.%d.%d", 1+n>>16%254, n>>8%256, 1+n%254),
		NetworkBorderGroup: rs.Name, AllocTime: created, Tags: maps.Clone(tagSpecs["elastic-ip"])}
	rs.Addresses[a.AllocationID] = a
	rs.AddressOrder = append(rs.AddressOrder, a.AllocationID)
	s.recordEvent(addressEvent(rc.Account, rs.Name, a, EventCreated, created))
	return allocateAddressResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, PublicIP: a.PublicIP, Domain: "vpc",
		AllocationID: a.AllocationID, PublicIpv4Pool: "amazon", NetworkBorderGroup: a.NetworkBorderGroup}, nil
}

type describeAddressesResponse struct {
	XMLName   xml.Name        `xml:"DescribeAddressesResponse"`
	XMLNS     string          `xml:"xmlns,attr"`
	RequestID string          `xml:"requestId"`
	Addresses []ec2AddressXML `xml:"addressesSet>item"`
}

func (s *Sim) ec2DescribeAddresses(rc *Request, rs *RegionState) (any, *APIError) {
	allocs, aerr := idList(rc, "AllocationId", allocIDPattern, "InvalidAllocationID.Malformed")
	if aerr != nil {
		return nil, aerr
	}
	ips, aerr := IndexedList(rc.Form, "PublicIp")
	if aerr != nil {
		return nil, aerr
	}
	names := []string{"allocation-id", "association-id", "instance-id", "public-ip", "private-ip-address", "domain", "network-border-group"}
	fs, aerr := parseFilters(rc, func(a *Address, name string) ([]string, bool) {
		switch name {
		case "allocation-id":
			return []string{a.AllocationID}, true
		case "association-id":
			return []string{a.AssociationID}, true
		case "instance-id":
			return []string{a.InstanceID}, true
		case "public-ip":
			return []string{a.PublicIP}, true
		case "private-ip-address":
			return []string{a.PrivateIP}, true
		case "domain":
			return []string{"vpc"}, true
		case "network-border-group":
			return []string{a.NetworkBorderGroup}, true
		}
		return tagFilterValues(a.Tags, name)
	}, func(n string) bool { return slices.Contains(names, n) || isTagFilter(n) })
	if aerr != nil {
		return nil, aerr
	}
	var missing []string
	for _, id := range allocs {
		if rs.Addresses[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, notFound("InvalidAllocationID.NotFound", "allocation", missing)
	}
	byIP := map[string]bool{}
	for _, a := range rs.Addresses {
		byIP[a.PublicIP] = true
	}
	for _, ip := range ips {
		if !byIP[ip] {
			return nil, Errorf("InvalidAddress.NotFound", "Address '%s' not found.", ip)
		}
	}
	resp := describeAddressesResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID}
	for _, id := range rs.AddressOrder {
		a := rs.Addresses[id]
		if (len(allocs) == 0 || slices.Contains(allocs, id)) && (len(ips) == 0 || slices.Contains(ips, a.PublicIP)) && fs.match(a) {
			resp.Addresses = append(resp.Addresses, addressXML(a))
		}
	}
	return resp, nil
}

func (s *Sim) addressByID(rs *RegionState, id string) (*Address, *APIError) {
	if id == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter AllocationId")
	}
	if !allocIDPattern.MatchString(id) {
		return nil, Errorf("InvalidAllocationID.Malformed", "Invalid id: \"%s\"", id)
	}
	a, ok := rs.Addresses[id]
	if !ok {
		return nil, Errorf("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
	}
	return a, nil
}

type associateAddressResponse struct {
	XMLName       xml.Name `xml:"AssociateAddressResponse"`
	XMLNS         string   `xml:"xmlns,attr"`
	RequestID     string   `xml:"requestId"`
	Return        bool     `xml:"return"`
	AssociationID string   `xml:"associationId"`
}

func (s *Sim) ec2AssociateAddress(rc *Request, rs *RegionState) (any, *APIError) {
	a, aerr := s.addressByID(rs, rc.Form.Get("AllocationId"))
	if aerr != nil {
		return nil, aerr
	}
	id := rc.Form.Get("InstanceId")
	if id == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	ins, aerr := lookupInstances(rs, []string{id})
	if aerr != nil {
		return nil, aerr
	}
	in := ins[0]
	if in.State != "running" && in.State != "stopped" {
		return nil, Errorf("IncorrectInstanceState", "The pending-instance-running instance to which '%s' is attached is not in a valid state for this operation", in.ID)
	}
	reassoc, aerr := OptionalBool(rc.Form, "AllowReassociation")
	if aerr != nil {
		return nil, aerr
	}
	if a.AssociationID != "" && !reassoc {
		return nil, Errorf("Resource.AlreadyAssociated", "resource %s is already associated with associate-id %s", a.AllocationID, a.AssociationID)
	}
	if displaced := s.associate(rs, in, a); displaced != nil {
		s.recordEvent(addressEvent(rc.Account, rs.Name, displaced, EventState, rc.Now))
	}
	s.recordEvent(addressEvent(rc.Account, rs.Name, a, EventState, rc.Now))
	return associateAddressResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, Return: true, AssociationID: a.AssociationID}, nil
}

func (s *Sim) ec2ReleaseAddress(rc *Request, rs *RegionState) (any, *APIError) {
	if rc.Form.Get("PublicIp") != "" && rc.Form.Get("AllocationId") == "" {
		return nil, Errorf("InvalidParameterValue", "PublicIp is for EC2-Classic addresses, which are retired; release by AllocationId")
	}
	a, aerr := s.addressByID(rs, rc.Form.Get("AllocationId"))
	if aerr != nil {
		return nil, aerr
	}
	if a.AssociationID != "" {
		return nil, Errorf("InvalidIPAddress.InUse", "Address %s is in use.", a.PublicIP)
	}
	s.recordEvent(addressEvent(rc.Account, rs.Name, a, EventDeleted, rc.Now))
	delete(rs.Addresses, a.AllocationID)
	rs.AddressOrder = slices.DeleteFunc(rs.AddressOrder, func(id string) bool { return id == a.AllocationID })
	return ec2ReturnTrue(rc, "ReleaseAddress"), nil
}
