package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lodestone/client"
)

// modelServer answers GET /models with one model, dtmi:t:A;1.
func modelServer(t testing.TB) *client.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"value":[{"id":"dtmi:t:A;1","model":{"@id":"dtmi:t:A;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}}]}`)
	}))
	t.Cleanup(srv.Close)
	return client.New(srv.URL, nil)
}

func TestPresentModelsFilter(t *testing.T) {
	file := strings.Join([]string{
		`{"Section": "Header"}`,
		`{"fileVersion":"1.0.0"}`,
		`{"Section": "Models"}`,
		`{"@context":"dtmi:dtdl:context;3","@type":"Interface","@id":"dtmi:t:A;1"}`,
		`{"@context":"dtmi:dtdl:context;3","@type":"Interface","@id":"dtmi:t:B;1"}`,
		`{"@context":"dtmi:dtdl:context;3","@type":"Interface","@id":"dtmi:t:A;1","displayName":"changed"}`,
		`{"Section": "Twins"}`,
		`{"$dtId":"a","$metadata":{"$model":"dtmi:t:A;1"},"@id":"dtmi:t:A;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}`,
	}, "\n")
	p := &presentModels{c: modelServer(t)}
	got, err := io.ReadAll(p.filter(context.Background(), strings.NewReader(file)))
	if err != nil {
		t.Fatal(err)
	}
	skipped := p.done()
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	want := strings.Split(file, "\n")
	want[3] = "" // the identical model, blanked; its line stays
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("filtered file:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if fmt.Sprint(skipped) != "[dtmi:t:A;1]" {
		t.Errorf("skipped %v, want [dtmi:t:A;1]", skipped)
	}
}

// BenchmarkPresentModelsFilter measures the import filter on the twins of
// a large file, which it passes through: its cost per byte is what every
// import pays.
func BenchmarkPresentModelsFilter(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("{\"Section\": \"Models\"}\n{\"@id\":\"dtmi:t:A;1\",\"@type\":\"Interface\",\"@context\":\"dtmi:dtdl:context;3\"}\n{\"Section\": \"Twins\"}\n")
	for i := range 100_000 {
		fmt.Fprintf(&buf, `{"$dtId":"twin-%d","$metadata":{"$model":"dtmi:t:A;1"},"capacityTonnesPerYear":%d,"name":"Twin number %d"}`+"\n", i, i, i)
	}
	data := buf.Bytes()
	c := modelServer(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p := &presentModels{c: c}
		if _, err := io.Copy(io.Discard, p.filter(context.Background(), bytes.NewReader(data))); err != nil {
			b.Fatal(err)
		}
		p.done()
	}
}
