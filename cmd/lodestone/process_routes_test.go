package main

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"lodestone/examples"
)

func postJSON(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestProcessRoutesMatchCLI runs every bundled example through its CLI
// command with --json and through its API route (as listed by
// GET /process/examples) and wants the same JSON.
func TestProcessRoutesMatchCLI(t *testing.T) {
	url := demoServerURL(t)
	resp, err := http.Get(url + "/process/examples")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Examples []struct {
			Engine, Name, Route string
			Spec                json.RawMessage
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Examples) != len(examples.Process()) || len(list.Examples) < 6 {
		t.Fatalf("GET /process/examples lists %d examples, want the %d bundled", len(list.Examples), len(examples.Process()))
	}
	cli := map[string][]string{
		"sx": {"sx", "simulate"}, "sx-design": {"sx", "design"}, "sx-dynamic": {"sx", "dynamic"},
		"precip": {"precip", "simulate"}, "calcine": {"calcine", "simulate"}, "flowsheet": {"flowsheet", "run"},
	}
	for _, ex := range list.Examples {
		t.Run(ex.Engine+"/"+ex.Name, func(t *testing.T) {
			args := append(append([]string{}, cli[ex.Engine]...), "-", "--json")
			_, stdout, stderr := runLodestone(t, string(ex.Spec), args...)
			var want any
			if err := json.Unmarshal([]byte(stdout), &want); err != nil {
				t.Fatalf("lodestone %v: %v (stderr %s)", args, err, stderr)
			}
			status, body := postJSON(t, url+ex.Route, string(ex.Spec))
			if status != http.StatusOK {
				t.Fatalf("POST %s: %d %s", ex.Route, status, body)
			}
			var got any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("POST %s differs from lodestone %v --json", ex.Route, args)
			}
		})
	}
}

// TestProcessRoutesErrors: a bad spec is a 400 naming the field; an
// oversized body is refused.
func TestProcessRoutesErrors(t *testing.T) {
	url := demoServerURL(t)
	for _, c := range []struct{ route, body, field string }{
		{"/process/sx/simulate", `{"stages": -1}`, ""},
		{"/process/sx/design", `{"beta": -2, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "beta"},
		{"/process/sx/dynamic", `[1]`, ""},
		{"/process/precip/simulate", `{"flow_L_per_h": "x"}`, ""},
		{"/process/calcine/simulate", `{}`, ""},
		{"/process/flowsheet/run", `{"feed": 3}`, ""},
	} {
		status, body := postJSON(t, url+c.route, c.body)
		var e struct {
			Error struct {
				Message string
				Details []struct{ Path, Message string }
			}
		}
		if err := json.Unmarshal(body, &e); err != nil || status != http.StatusBadRequest || e.Error.Message == "" {
			t.Errorf("POST %s %s: %d %s, want 400 with a message", c.route, c.body, status, body)
			continue
		}
		if c.field != "" && (len(e.Error.Details) == 0 || e.Error.Details[0].Path != c.field) {
			t.Errorf("POST %s: details %+v, want the field %q named", c.route, e.Error.Details, c.field)
		}
	}
	big := `{"x": "` + strings.Repeat("a", 2<<20) + `"}`
	if status, body := postJSON(t, url+"/process/flowsheet/run", big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body: %d %s, want 413", status, body)
	}
}
