package pricing

// EBS performance rules from the Amazon EBS User Guide ("General Purpose
// SSD volumes"): what a gp2 volume delivers by size, and what gp3
// includes. They decide what a gp2 -> gp3 migration must provision so the
// volume is never slower, and so what that migration costs.
const (
	// gp2's baseline is 3 IOPS per GiB, at least 100 and at most 16,000.
	GP2IOPSPerGiB = 3
	GP2MinIOPS    = 100
	GP2MaxIOPS    = 16000
	// gp2 volumes under 1,000 GiB burst to 3,000 IOPS on I/O credits.
	GP2BurstIOPS = 3000
	// gp2 throughput: at most 128 MiB/s up to 170 GiB; 250 MiB/s above
	// (from 334 GiB regardless of burst credits, in between while they
	// last, which an application cannot tell from "always").
	GP2SmallMaxGiB          = 170
	GP2SmallThroughputMiBps = 128
	GP2LargeThroughputMiBps = 250
	// gp3 includes 3,000 IOPS and 125 MiB/s at any size.
	GP3BaselineIOPS            = 3000
	GP3BaselineThroughputMiBps = 125
)

// GP2Performance is the most a gp2 volume of sizeGiB delivers: its IOPS
// baseline or the 3,000 IOPS burst, whichever is higher, and its
// throughput ceiling.
func GP2Performance(sizeGiB int) (iops, throughputMiBps int) {
	iops = min(max(GP2IOPSPerGiB*sizeGiB, GP2MinIOPS), GP2MaxIOPS)
	iops = max(iops, GP2BurstIOPS)
	throughputMiBps = GP2SmallThroughputMiBps
	if sizeGiB > GP2SmallMaxGiB {
		throughputMiBps = GP2LargeThroughputMiBps
	}
	return iops, throughputMiBps
}

// GP3ForGP2 is the gp3 IOPS and throughput that keep a gp2 volume of
// sizeGiB at least as fast as it was: gp2's performance where it exceeds
// what gp3 includes, provisioned (and billed) on gp3.
func GP3ForGP2(sizeGiB int) (iops, throughputMiBps int) {
	iops, throughputMiBps = GP2Performance(sizeGiB)
	return max(iops, GP3BaselineIOPS), max(throughputMiBps, GP3BaselineThroughputMiBps)
}
