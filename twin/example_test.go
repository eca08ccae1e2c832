package twin_test

import (
	"encoding/json"
	"fmt"
	"time"

	"lodestone/twin"
)

func ExampleParsePatch() {
	p, err := twin.ParsePatch([]byte(`[
		{"op": "replace", "path": "/output", "value": 48},
		{"op": "add", "path": "/site~1region", "value": "Bayan Obo"},
		{"op": "remove", "path": "/old"}
	]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	doc := map[string]any{"output": 42.0, "old": true}
	out, err := p.Apply(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	fmt.Println(doc["output"]) // the input is unchanged
	// Output:
	// {"output":48,"site/region":"Bayan Obo"}
	// 42
}

func ExampleTwin_ApplyPatch() {
	tw := twin.Twin{
		ID:         "mine-1",
		Metadata:   twin.Metadata{Model: "dtmi:lodestone:Mine;1"},
		Properties: map[string]any{"output": 42.0},
	}
	p, _ := twin.ParsePatch([]byte(`[
		{"op": "replace", "path": "/output", "value": 48},
		{"op": "replace", "path": "/$metadata/$model", "value": "dtmi:lodestone:Mine;2"}
	]`))
	now := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	out, err := tw.ApplyPatch(p, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	// Output:
	// {"$dtId":"mine-1","$metadata":{"$model":"dtmi:lodestone:Mine;2","$lastUpdateTime":"2025-04-01T00:00:00Z","output":{"lastUpdateTime":"2025-04-01T00:00:00Z"}},"output":48}
}

func ExampleTwin_UnmarshalJSON() {
	var tw twin.Twin
	err := json.Unmarshal([]byte(`{
		"$dtId": "plant-1",
		"$metadata": {"$model": "dtmi:lodestone:SeparationPlant;1"},
		"capacity": 5000
	}`), &tw)
	fmt.Println(tw.ID, tw.Metadata.Model, tw.Properties["capacity"], err)
	// Output:
	// plant-1 dtmi:lodestone:SeparationPlant;1 5000 <nil>
}

func ExampleNewETag() {
	e := twin.NewETag()
	fmt.Println(e.Matches(e), e.Matches(twin.AnyETag), e.Matches(`W/"other"`))
	// Output:
	// true true false
}
