package refplant

import (
	"strings"
	"testing"
)

// TestStageEquipmentStages: stage equipment on listed stages only, and a
// stage outside the cascade is an error naming the entry.
func TestStageEquipmentStages(t *testing.T) {
	p, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var its []string
	for _, tw := range p.Twins {
		if strings.HasSuffix(tw.ID, "-settler-it") {
			its = append(its, tw.ID)
		}
	}
	if want := "ref-sep-plant-train-1-cascade-stage-30-settler-it ref-sep-plant-train-1-cascade-stage-60-settler-it ref-sep-plant-train-2-cascade-stage-30-settler-it ref-sep-plant-train-2-cascade-stage-60-settler-it"; strings.Join(its, " ") != want {
		t.Errorf("interface transmitters %v", its)
	}
	bad := strings.Replace(string(data), `"stages": [30, 60]`, `"stages": [30, 61]`, 1)
	if _, err := decode([]byte(bad)); err == nil || !strings.Contains(err.Error(), `stage_equipment "settler-it": stages: 61 is not a stage of the 60-stage cascade`) {
		t.Errorf("stage 61: %v", err)
	}
}
