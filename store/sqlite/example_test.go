package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"

	"lodestone/store"
	_ "lodestone/store/sqlite" // registers the sqlite: scheme
	"lodestone/twin"
)

func Example() {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	const mine = "dtmi:lodestone:Mine;1"
	if _, err := st.PutModels(ctx, []twin.Model{{ID: mine, DTDL: json.RawMessage(`{"@id":"` + mine + `","@type":"Interface"}`)}}, store.Condition{}); err != nil {
		fmt.Println(err)
		return
	}
	v1, err := st.PutTwin(ctx, twin.Twin{ID: "bayan-obo", Metadata: twin.Metadata{Model: mine},
		Properties: map[string]any{"outputTonnesPerYear": 45000.0}}, store.Condition{IfNoneMatch: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := twin.ParsePatch([]byte(`[{"op":"replace","path":"/outputTonnesPerYear","value":50000}]`))
	if _, err := st.PatchTwin(ctx, "bayan-obo", p, store.Condition{IfMatch: v1.ETag}); err != nil {
		fmt.Println(err)
		return
	}
	// A second patch with the old ETag fails its precondition.
	_, err = st.PatchTwin(ctx, "bayan-obo", p, store.Condition{IfMatch: v1.ETag})
	fmt.Println(err != nil)

	now, _ := st.GetTwin(ctx, "bayan-obo")
	then, _ := st.TwinAsOf(ctx, "bayan-obo", v1.Metadata.LastUpdateTime)
	fmt.Println(now.Properties["outputTonnesPerYear"], then.Properties["outputTonnesPerYear"])
	// Output:
	// true
	// 50000 45000
}
