package awssim

import (
	"encoding/xml"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

type describeInstanceTypesResponse struct {
	XMLName   xml.Name          `xml:"DescribeInstanceTypesResponse"`
	XMLNS     string            `xml:"xmlns,attr"`
	RequestID string            `xml:"requestId"`
	Types     []ec2InstanceType `xml:"instanceTypeSet>item"`
	NextToken string            `xml:"nextToken,omitempty"`
}

type ec2InstanceType struct {
	InstanceType          string   `xml:"instanceType"`
	CurrentGeneration     bool     `xml:"currentGeneration"`
	FreeTierEligible      bool     `xml:"freeTierEligible"`
	SupportedUsageClasses []string `xml:"supportedUsageClasses>item"`
	SupportedRootDevices  []string `xml:"supportedRootDeviceTypes>item"`
	SupportedVirt         []string `xml:"supportedVirtualizationTypes>item"`
	BareMetal             bool     `xml:"bareMetal"`
	Hypervisor            string   `xml:"hypervisor"`
	ProcessorInfo         struct {
		SupportedArchitectures []string `xml:"supportedArchitectures>item"`
	} `xml:"processorInfo"`
	VCPUInfo struct {
		DefaultVCPUs          int `xml:"defaultVCpus"`
		DefaultCores          int `xml:"defaultCores"`
		DefaultThreadsPerCore int `xml:"defaultThreadsPerCore"`
	} `xml:"vCpuInfo"`
	MemoryInfo struct {
		SizeInMiB int64 `xml:"sizeInMiB"`
	} `xml:"memoryInfo"`
	InstanceStorageSupported bool `xml:"instanceStorageSupported"`
	NetworkInfo              struct {
		NetworkPerformance string `xml:"networkPerformance"`
		EnaSupport         string `xml:"enaSupport"`
	} `xml:"networkInfo"`
	BurstablePerformanceSupported bool `xml:"burstablePerformanceSupported"`
}

func instanceTypeXML(spec pricing.InstanceSpec) ec2InstanceType {
	x := ec2InstanceType{InstanceType: spec.Name, CurrentGeneration: true, FreeTierEligible: spec.Name == "t3.micro",
		SupportedUsageClasses: []string{"on-demand", "spot"}, SupportedRootDevices: []string{"ebs"},
		SupportedVirt: []string{"hvm"}, Hypervisor: "nitro", BurstablePerformanceSupported: spec.Burstable}
	x.ProcessorInfo.SupportedArchitectures = []string{spec.Architecture}
	threads := 2
	if spec.Architecture == pricing.ArchARM || spec.VCPU == 1 {
		threads = 1
	}
	x.VCPUInfo.DefaultVCPUs, x.VCPUInfo.DefaultCores, x.VCPUInfo.DefaultThreadsPerCore = spec.VCPU, max(1, spec.VCPU/threads), threads
	x.MemoryInfo.SizeInMiB = int64(math.Round(spec.MemoryGiB * 1024))
	x.NetworkInfo.NetworkPerformance, x.NetworkInfo.EnaSupport = spec.NetworkPerformance, "required"
	return x
}

var instanceTypeFilterNames = []string{"instance-type", "current-generation", "processor-info.supported-architecture",
	"vcpu-info.default-vcpus", "memory-info.size-in-mib", "burstable-performance-supported", "network-info.network-performance"}

func (s *Sim) ec2DescribeInstanceTypes(rc *Request, _ *RegionState) (any, *APIError) {
	cat, err := typeCatalogue()
	if err != nil {
		return nil, &APIError{Status: 500, Code: "InternalError", Message: "loading the instance type catalogue: " + err.Error()}
	}
	names, aerr := IndexedList(rc.Form, "InstanceType")
	if aerr != nil {
		return nil, aerr
	}
	var unknown []string
	for _, n := range names {
		if _, ok := cat.InstanceType(n); !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, Errorf("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(unknown, ", "))
	}
	fs, aerr := parseFilters(rc, func(x ec2InstanceType, name string) ([]string, bool) {
		switch name {
		case "instance-type":
			return []string{x.InstanceType}, true
		case "current-generation":
			return []string{strconv.FormatBool(x.CurrentGeneration)}, true
		case "processor-info.supported-architecture":
			return x.ProcessorInfo.SupportedArchitectures, true
		case "vcpu-info.default-vcpus":
			return []string{strconv.Itoa(x.VCPUInfo.DefaultVCPUs)}, true
		case "memory-info.size-in-mib":
			return []string{strconv.FormatInt(x.MemoryInfo.SizeInMiB, 10)}, true
		case "burstable-performance-supported":
			return []string{strconv.FormatBool(x.BurstablePerformanceSupported)}, true
		case "network-info.network-performance":
			return []string{x.NetworkInfo.NetworkPerformance}, true
		}
		return nil, false
	}, func(n string) bool { return slices.Contains(instanceTypeFilterNames, n) })
	if aerr != nil {
		return nil, aerr
	}
	all := cat.Types(pricing.TypeFilter{})
	order := make([]string, 0, len(all))
	byName := make(map[string]ec2InstanceType, len(all))
	for _, spec := range all {
		order = append(order, spec.Name)
		byName[spec.Name] = instanceTypeXML(spec)
	}
	p, aerr := parsePage(rc, order, 5, 100, false, "")
	if aerr != nil {
		return nil, aerr
	}
	found, next := collect(order, func(n string) (ec2InstanceType, bool) {
		x := byName[n]
		return x, (len(names) == 0 || slices.Contains(names, n)) && fs.match(x)
	}, p)
	return describeInstanceTypesResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, Types: found, NextToken: next}, nil
}
