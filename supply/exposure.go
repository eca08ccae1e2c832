package supply

import (
	"cmp"
	"strings"
)

// CompareExposure orders stress results from the most to the least
// exposed, for slices.SortStableFunc: exposed scenarios (TTS < TTR) first,
// by shortage TTR − TTS, largest first; then by risk exposure index,
// largest first; then by name. It returns a negative number when a comes
// before b.
func CompareExposure(a, b StressResult) int {
	if a.Exposed != b.Exposed {
		if a.Exposed {
			return -1
		}
		return 1
	}
	return cmp.Or(cmp.Compare(b.ShortagePeriods, a.ShortagePeriods), cmp.Compare(b.REI, a.REI), strings.Compare(a.Name, b.Name))
}
