package api_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// importFile builds an ADT import file from its lines.
func importFile(models []string, twins, rels []string) string {
	var b strings.Builder
	b.WriteString(`{"Section":"Header"}` + "\n" + `{"fileVersion":"1.0.0","author":"test","organization":"test"}` + "\n")
	if len(models) > 0 {
		b.WriteString(`{"Section":"Models"}` + "\n")
		for _, m := range models {
			b.WriteString(strings.Join(strings.Fields(m), " ") + "\n")
		}
	}
	if len(twins) > 0 {
		b.WriteString(`{"Section":"Twins"}` + "\n")
		for _, t := range twins {
			b.WriteString(t + "\n")
		}
	}
	if len(rels) > 0 {
		b.WriteString(`{"Section":"Relationships"}` + "\n")
		for _, r := range rels {
			b.WriteString(r + "\n")
		}
	}
	return b.String()
}

type job struct {
	ID                 string `json:"id"`
	Status             string `json:"status"`
	DryRun             bool   `json:"dryRun"`
	ModelsCount        int    `json:"modelsCount"`
	TwinsCount         int    `json:"twinsCount"`
	RelationshipsCount int    `json:"relationshipsCount"`
	Error              *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func countTwins(e *env) int {
	e.t.Helper()
	p := e.query(map[string]any{"query": "SELECT COUNT() FROM DIGITALTWINS"})
	return int(p.Value[0]["COUNT"].(float64))
}

func TestImportJobs(t *testing.T) {
	e := start(t, options{noModels: true})
	good := importFile(testModels,
		[]string{
			`{"$dtId":"a1","$metadata":{"$model":"dtmi:test:Asset;1"},"name":"asset","gauge":{"$metadata":{}}}`,
			`{"$dtId":"p1","$metadata":{"$model":"dtmi:test:Plant;1"},"gauge":{"$metadata":{}}}`,
			`{"$dtId":"o1","$metadata":{"$model":"dtmi:test:Owner;1"},"name":"owner"}`,
		},
		[]string{
			`{"$dtId":"a1","$relationshipId":"r1","$targetId":"p1","$relationshipName":"feeds","share":0.5}`,
			`{"$sourceId":"a1","$relationshipId":"r2","$targetId":"o1","$relationshipName":"ownedBy"}`,
		})
	badTwin := strings.Replace(good, `"name":"owner"`, `"name":7`, 1)
	badLine := strings.Count(good[:strings.Index(good, `"name":"owner"`)], "\n") + 1
	tests := []struct {
		name      string
		id        string
		query     string
		body      string
		want      int
		wantJob   job
		wantLine  string // the error message names it
		wantTwins int    // twins stored after the job
	}{
		{name: "dry run writes nothing", id: "dry", query: "?dryRun=true", body: good, want: 200,
			wantJob: job{ID: "dry", Status: "succeeded", DryRun: true, ModelsCount: 4, TwinsCount: 3, RelationshipsCount: 2}},
		{name: "a bad line fails the whole job", id: "bad", body: badTwin, want: 400,
			wantJob: job{ID: "bad", Status: "failed"}, wantLine: "line " + itoa(badLine)},
		{name: "a relationship to a missing twin", id: "dangling", want: 400,
			body:    importFile(testModels, nil, []string{`{"$dtId":"x","$relationshipId":"r","$targetId":"y","$relationshipName":"feeds"}`}),
			wantJob: job{ID: "dangling", Status: "failed"}, wantLine: "line 9"},
		{name: "a bad model fails the whole job", id: "badmodel", want: 400,
			body:    importFile(append([]string{`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Bad;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"nosuch"}]}`}, testModels...), nil, nil),
			wantJob: job{ID: "badmodel", Status: "failed"}},
		{name: "not ndjson", id: "garbage", body: "{\"Section\":\"Twins\"}\nnot json\n", want: 400,
			wantJob: job{ID: "garbage", Status: "failed"}, wantLine: "line 2"},
		{name: "import", id: "good", body: good, want: 200, wantTwins: 3,
			wantJob: job{ID: "good", Status: "succeeded", ModelsCount: 4, TwinsCount: 3, RelationshipsCount: 2}},
		{name: "models that exist", id: "again", body: good, want: 409, wantTwins: 3,
			wantJob: job{ID: "again", Status: "failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do("PUT", "/jobs/imports/"+tt.id+tt.query, tt.body, "Content-Type", "application/x-ndjson")
			if r.status != tt.want {
				t.Fatalf("PUT /jobs/imports/%s = %d %s, want %d", tt.id, r.status, r.body, tt.want)
			}
			for _, b := range [][]byte{r.body, e.mustDo("GET", "/jobs/imports/"+tt.id, nil, 200).body} {
				var got job
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				if tt.wantLine != "" && (got.Error == nil || !strings.Contains(got.Error.Message, tt.wantLine)) {
					t.Errorf("job error %+v does not name %q", got.Error, tt.wantLine)
				}
				if got.Status == "failed" && got.Error == nil {
					t.Errorf("failed job without an error: %s", b)
				}
				got.Error = nil
				if diff := cmp.Diff(tt.wantJob, got); diff != "" {
					t.Errorf("job (-want +got):\n%s", diff)
				}
			}
			if n := countTwins(e); n != tt.wantTwins {
				t.Errorf("%d twins after the job, want %d", n, tt.wantTwins)
			}
		})
	}
	e.t = t
	e.mustDo("GET", "/jobs/imports/nope", nil, 404)
	var list struct {
		Value []job `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/jobs/imports", nil, 200).body, &list)
	if len(list.Value) != len(tests) {
		t.Errorf("GET /jobs/imports lists %d jobs, want %d", len(list.Value), len(tests))
	}

	// Export, then import the export into an empty server: the same graph.
	exp := e.mustDo("GET", "/jobs/export", nil, 200)
	if ct := exp.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("export Content-Type %q", ct)
	}
	e2 := start(t, options{noModels: true})
	var j job
	json.Unmarshal(e2.mustDo("POST", "/jobs/imports", exp.body, 200, "Content-Type", "application/x-ndjson").body, &j)
	if j.Status != "succeeded" || j.ModelsCount != 4 || j.TwinsCount != 3 || j.RelationshipsCount != 2 {
		t.Errorf("import of the export: %+v", j)
	}
	norm := func(e *env) string {
		var s struct {
			Twins         []map[string]any `json:"twins"`
			Relationships []map[string]any `json:"relationships"`
		}
		json.Unmarshal(e.mustDo("GET", "/snapshot", nil, 200).body, &s)
		for _, tw := range s.Twins {
			delete(tw, "$etag")
			delete(tw, "$metadata")
			if g, ok := tw["gauge"].(map[string]any); ok {
				delete(g, "$metadata")
			}
		}
		for _, r := range s.Relationships {
			delete(r, "$etag")
		}
		b, _ := json.Marshal(s)
		return string(b)
	}
	if diff := cmp.Diff(norm(e), norm(e2)); diff != "" {
		t.Errorf("round trip through export and import (-orig +copy):\n%s", diff)
	}
	if diff := cmp.Diff(exportModels(t, e), exportModels(t, e2)); diff != "" {
		t.Errorf("models after the round trip (-orig +copy):\n%s", diff)
	}
}

func exportModels(t *testing.T, e *env) []string {
	t.Helper()
	var ids []string
	for _, m := range modelIDs(t, e.mustDo("GET", "/models", nil, 200)) {
		ids = append(ids, m)
	}
	return ids
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestImportTooLarge(t *testing.T) {
	e := start(t, options{noModels: true, maxBulk: 1024})
	body := importFile(testModels, nil, nil)
	r := e.mustDo("PUT", "/jobs/imports/big", body, 413, "Content-Type", "application/x-ndjson")
	var j job
	json.Unmarshal(r.body, &j)
	if j.Status != "failed" || j.Error == nil || j.Error.Code != "RequestTooLarge" {
		t.Errorf("job = %+v, want failed with RequestTooLarge", j)
	}
	if ids := modelIDs(t, e.mustDo("GET", "/models", nil, 200)); len(ids) != 0 {
		t.Errorf("models after a refused import: %v", ids)
	}
}

// TestImportJobStatus reads the status of a job while its body is still
// streaming in: running, then succeeded.
func TestImportJobStatus(t *testing.T) {
	e := start(t, options{noModels: true})
	pr, pw := io.Pipe()
	done := make(chan res, 1)
	go func() { done <- e.do("PUT", "/jobs/imports/slow", pr, "Content-Type", "application/x-ndjson") }()
	head := importFile(testModels, []string{`{"$dtId":"o1","$metadata":{"$model":"dtmi:test:Owner;1"}}`}, nil)
	if _, err := io.WriteString(pw, head); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.do("GET", "/jobs/imports/slow", nil)
		var j job
		json.Unmarshal(r.body, &j)
		if r.status == 200 && j.Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /jobs/imports/slow = %d %s, want a running job", r.status, r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := e.mustDo("PUT", "/jobs/imports/slow", "", 409, "Content-Type", "application/x-ndjson").errCode(t); code != "JobAlreadyRunning" {
		t.Errorf("second PUT of a running job: code %s", code)
	}
	io.WriteString(pw, `{"$dtId":"o2","$metadata":{"$model":"dtmi:test:Owner;1"}}`+"\n")
	pw.Close()
	r := <-done
	var j job
	json.Unmarshal(r.body, &j)
	if r.status != 200 || j.Status != "succeeded" || j.TwinsCount != 2 {
		t.Errorf("job = %d %s, want succeeded with 2 twins", r.status, r.body)
	}
}
