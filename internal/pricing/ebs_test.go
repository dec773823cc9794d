package pricing

import "testing"

// The figures are the EBS User Guide's: 3 IOPS/GiB between 100 and 16,000,
// a 3,000 IOPS burst, 128 MiB/s up to 170 GiB and 250 MiB/s above.
func TestGP3ForGP2(t *testing.T) {
	for _, tc := range []struct {
		size                         int
		gp2IOPS, gp2Tput, iops, tput int
	}{
		{1, 3000, 128, 3000, 128},
		{100, 3000, 128, 3000, 128},
		{170, 3000, 128, 3000, 128},
		{171, 3000, 250, 3000, 250},
		{1000, 3000, 250, 3000, 250},
		{1001, 3003, 250, 3003, 250},
		{2000, 6000, 250, 6000, 250},
		{5334, 16000, 250, 16000, 250},
		{16384, 16000, 250, 16000, 250},
	} {
		gi, gt := GP2Performance(tc.size)
		iops, tput := GP3ForGP2(tc.size)
		if gi != tc.gp2IOPS || gt != tc.gp2Tput || iops != tc.iops || tput != tc.tput {
			t.Errorf("%d GiB: gp2 %d IOPS %d MiB/s, gp3 %d IOPS %d MiB/s; want %d %d, %d %d",
				tc.size, gi, gt, iops, tput, tc.gp2IOPS, tc.gp2Tput, tc.iops, tc.tput)
		}
	}
}
