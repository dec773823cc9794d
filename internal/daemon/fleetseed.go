package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

// fleetHistory is how long a seeded simulated fleet pretends to have run
// (awssim.Options.Backfill), so utilisation and costs show at once.
const fleetHistory = 30 * 24 * time.Hour

// checkFleetSize refuses a fleet-size flag outside 0..awssim.MaxFleetSize
// (0 seeds nothing), naming the flag.
func checkFleetSize(flagName string, n int) error {
	if n < 0 || n > awssim.MaxFleetSize {
		return fmt.Errorf("-%s %d: must be between 0 and %d", flagName, n, awssim.MaxFleetSize)
	}
	return nil
}

// seedFleet creates size resources spread over regions, repeatable from
// seed, through the simulated AWS API at endpoint, as agentd dev and agentd
// sim do. It returns how many resources it created.
func seedFleet(ctx context.Context, endpoint string, creds aws.CredentialsProvider, regions []string, size int, seed int64) (int, error) {
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: regions[0], Endpoint: endpoint, Credentials: creds})
	if err != nil {
		return 0, fmt.Errorf("seeding the simulated fleet: %w", err)
	}
	man, err := awssim.GenerateFleet(ctx, cfg, awssim.FleetSpec{N: size, Regions: regions, Seed: seed, PollInterval: 20 * time.Millisecond})
	if err != nil {
		return 0, fmt.Errorf("seeding the simulated fleet: %w", err)
	}
	return len(man.Resources), nil
}
