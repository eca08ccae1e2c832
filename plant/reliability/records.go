package reliability

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Record is one FailureRecord twin reduced to its life data: the item's
// operating time at the event and whether it was a suspension (removed or
// record closed without failure) rather than a failure.
type Record struct {
	ID            string
	OperatingTime float64
	Suspension    bool
}

// FromRecords turns failure records into life data, sorted by operating
// time (ties by id, so the order never depends on how a store lists
// them). Unlike a CSV file, records have no order of their own, so sorting
// them is right here. A record without a usable time is an error naming it.
func FromRecords(recs []Record) ([]Observation, error) {
	rs := slices.Clone(recs)
	for _, r := range rs {
		if math.IsNaN(r.OperatingTime) || math.IsInf(r.OperatingTime, 0) || r.OperatingTime <= 0 {
			return nil, &DataError{Field: "operatingTime", Reason: fmt.Sprintf("failure record %q: %v must be a positive number of hours", r.ID, r.OperatingTime)}
		}
	}
	slices.SortFunc(rs, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.OperatingTime, b.OperatingTime), cmp.Compare(a.ID, b.ID))
	})
	obs := make([]Observation, len(rs))
	for i, r := range rs {
		obs[i] = Observation{Time: r.OperatingTime, Failed: !r.Suspension}
	}
	return obs, nil
}
