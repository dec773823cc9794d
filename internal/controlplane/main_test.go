package controlplane_test

import (
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
)

// TestMain stops the shared PostgreSQL cluster the replica tests start.
func TestMain(m *testing.M) { pgtest.Main(m) }
