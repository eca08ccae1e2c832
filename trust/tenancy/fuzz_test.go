package tenancy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"lodestone/twin"
)

// FuzzAgreement decodes arbitrary agreement JSON: Validate never panics;
// a valid agreement survives a JSON round trip, and the policy made of it
// shows only the models it lists, only to its receiver.
func FuzzAgreement(f *testing.F) {
	f.Add(`{"id":"s1","owner":"acme","to_org":"globex","models":["dtmi:x:Mine;1"],"properties":["output"],"relationships":["supplies"],"expires":"2030-01-01T00:00:00Z"}`)
	f.Add(`{"id":"","models":[]}`)
	f.Add(`{"id":"a/b","owner":"acme","to_org":"acme","models":["$x"]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var a Agreement
		if json.Unmarshal([]byte(s), &a) != nil {
			return
		}
		owned := func(id string) bool { return strings.HasPrefix(id, "dtmi:") }
		err := a.Validate(owned)
		if err != nil {
			return
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Agreement
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !back.Expires.Equal(a.Expires) || !back.Created.Equal(a.Created) {
			t.Fatalf("round trip changed the times: %v %v", back, a)
		}
		back.Expires, back.Created, a.Expires, a.Created = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(norm(back), norm(a)) {
			t.Fatalf("round trip: %+v != %+v", back, a)
		}
		p := NewPolicy([]Agreement{a}, time.Time{})
		to := acme
		to.Org = a.ToOrg
		third := acme
		third.Org = a.ToOrg + "-other"
		for _, m := range a.Models {
			if !p.TwinVisible(to, a.Owner, m) || p.TwinVisible(third, a.Owner, m) {
				t.Fatalf("model %q: receiver %v, third %v", m, p.TwinVisible(to, a.Owner, m), p.TwinVisible(third, a.Owner, m))
			}
		}
		if p.TwinVisible(to, a.Owner, "not listed "+strings.Join(a.Models, "")) || p.CanWrite(to, a.Owner) {
			t.Fatal("an agreement shows an unlisted model or grants writes")
		}
		p.ProjectTwin(to, twin.Twin{ID: "x", Metadata: twin.Metadata{Org: a.Owner, Model: a.Models[0]}, Properties: map[string]any{"y": 1.0}})
	})
}

// norm makes nil and empty lists equal.
func norm(a Agreement) Agreement {
	for _, l := range []*[]string{&a.Models, &a.Properties, &a.Relationships} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return a
}
