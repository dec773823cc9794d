// Package awssim is a small, stateful, wire-compatible simulated AWS account.
//
// It speaks each service's real wire protocol as the pinned aws-sdk-go-v2
// clients send it, so signing, serialisation, retries and parsing all really
// run in the code under test: EC2 (ec2query), STS and RDS (awsquery), S3
// (REST-XML), Lambda (REST-JSON), Cost Explorer and Pricing (JSON 1.1) and
// CloudWatch (Smithy RPC v2 CBOR and awsquery). It keeps state per account
// and per region, follows AWS's documented state machines, enforces AWS's
// published throttling token buckets and injects faults on demand.
//
// # Using it
//
//	sim, err := awssim.New(awssim.Options{Seed: 1})
//	srv, err := sim.Start(ctx, "127.0.0.1:0")
//	defer srv.Close()
//	cfg.BaseEndpoint = aws.String(srv.URL) // or AWS_ENDPOINT_URL=srv.URL
//
// Any access key is accepted and maps to Options.AccountID unless
// Options.Accounts maps it elsewhere; credentials returned by STS AssumeRole
// map to the account in the role ARN until they expire (then EC2 answers
// RequestExpired and the other services ExpiredToken). Signatures are parsed for their
// credential scope (service and region) but not verified: the simulator must
// accept whatever credentials a test or the AWS CLI happens to hold.
//
// Give SDK clients awsclient.HTTPClient (or wrap theirs with
// awsclient.OwnBody): a loopback server answers so fast that smithy-go's
// early close of the request body can race net/http's write loop and drop
// the connection mid-response ("use of closed network connection",
// aws-sdk-go-v2 #2737), several attempts in a row.
//
// # Routing
//
// Every request must carry a SigV4 Authorization header (or presigned
// X-Amz-Credential query parameter). Its credential scope
// AKID/DATE/REGION/SERVICE/aws4_request names the service (ec2, sts, rds, s3,
// lambda, monitoring, ce, pricing) and the region. Requests whose path begins
// with /_sim/ go to the admin endpoint instead (see admin.go); S3 bucket names
// cannot contain '_', so that prefix can never collide with a path-style S3
// request.
//
// # How a service plugs in
//
// A service lives in its own file(s) (ec2.go, rds.go, s3.go, ...) and
// registers itself from an init function, so no core file needs editing:
//
//	func init() {
//		registerService(serviceDef{
//			name:     "rds",        // SigV4 signing name
//			protocol: ProtoQuery,   // envelope for errors raised before dispatch
//			handle:   (*Sim).serveRDS,
//			throttle: rdsBucket,    // optional: func(rc *Request, action string) BucketSpec
//		})
//	}
//
//	func (s *Sim) serveRDS(rc *Request) {
//		action := rc.Form.Get("Action")      // query protocols: form is pre-parsed
//		if !s.admit(rc, action) {             // throttling + injected faults
//			return                            // the error is already written
//		}
//		s.mu.Lock()
//		defer s.mu.Unlock()
//		rs := s.region(rc.Account, rc.Region) // *RegionState, created on demand
//		...
//		rc.WriteXML(http.StatusOK, resp)      // or rc.WriteError(apiErr)
//	}
//
// A handler receives a *Request carrying the service, region, account id,
// access key, request id, the clock's Now, the raw body and (for form-encoded
// bodies) the parsed form. rc.Protocol selects the error envelope written by
// rc.WriteError; a service speaking two protocols (CloudWatch) sets it before
// calling admit. Protocol helpers in protocol.go parse ec2query/awsquery lists
// (IndexedList, SubForms, Filters, TagList; awsquery lists use the
// "Name.member" prefix) and build the XML/JSON envelopes.
//
// # Shared state
//
// All mutable state sits behind Sim.mu (one mutex keeps multi-resource
// operations such as AttachVolume atomic; the simulator is not the
// bottleneck of the agent benchmarks, see
// BenchmarkServeDescribeInstancesPage1000). State is organised as Sim.accounts[account].Regions[region] (*RegionState), which
// holds the EC2 records (Instance, Volume, Snapshot, Address) and, through
// Ext, any other service's records keyed by service name:
//
//	dbs := regionExt(rs, "rds", newRDSState) // *rdsState owned by rds.go
//
// Timed state transitions (pending -> running after Options.StateDelay, ...)
// are applied lazily when a record is read, at the exact instant they were
// due, so the history is independent of when somebody looks.
//
// Every billable change (launch, start, stop, type change, terminate, volume
// create/modify/delete, address allocate/associate/release, and the same for
// RDS, S3 and Lambda) is appended to the account's History with the time it
// took effect: Cost Explorer prices what actually ran from it and CloudWatch
// generates built-in metrics only for periods a resource was running. Use
// Sim.recordEvent to append and Sim.Events (or Account.History, after
// settleAccount) to read.
//
// Utilisation is described by a Profile (idle, over-provisioned,
// right-sized, spiky, business-hours) whose CPUAt/NetworkAt functions are
// deterministic in (seed, time); each resource carries its Profile and a
// per-resource seed derived from the simulator's seed and its id. EC2
// instances get their profile from the tag sirsi-sim:profile so that a fleet
// created through the API (see fleet.go) carries it into moto unchanged.
//
// # Fleets and stand-alone use
//
// GenerateFleet (fleet.go) creates N resources over M regions with known
// profiles and tags through the AWS API (aws-sdk-go-v2 clients), so the same
// generator seeds the simulator and moto; it returns a FleetManifest of
// exactly what it created. Sim.SeedFleet is the in-process shortcut for the
// EC2 part of benchmark fleets of tens of thousands of resources.
// RunStandalone (standalone.go) serves on loopback and prints the export
// lines for AWS_ENDPOINT_URL and credentials; `agentd sim` calls it.
//
// # Throttling and faults
//
// throttle.go keeps token buckets per account, region, service and API
// class, using AWS's published figures; Options.Throttle can switch them off
// or scale them. faults.go injects throttling, 5xx answers, latency, one-shot
// failures of a named action on a named resource (Sim.FailNext) and failed
// status checks, from Go or over the admin endpoint; its random source is
// seeded from Options.Seed.
package awssim
