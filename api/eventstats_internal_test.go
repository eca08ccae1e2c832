package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lodestone/event/membus"
	"lodestone/store"
	"lodestone/trust/auth"
)

// TestRouteStatsFiltered: events a route's owner does not see (another
// org's twins) are counted as filtered in GET /eventroutes, not as
// delivered; delivered is what the endpoint received.
func TestRouteStatsFiltered(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+t.TempDir()+"/g.db")
	if err != nil {
		t.Fatal(err)
	}
	bus := membus.New(nil)
	a, err := New(ctx, Options{Store: st, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartRoutes(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.ShutdownRoutes(context.Background())
		a.Shutdown(context.Background())
		bus.Close()
		st.Close()
	})
	var received atomic.Int64
	gotA1 := make(chan struct{}, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Subject, Type string }
		json.NewDecoder(r.Body).Decode(&ev)
		received.Add(1)
		if ev.Subject == "a1" {
			gotA1 <- struct{}{}
		}
	}))
	defer hook.Close()
	acme := auth.Principal{Subject: "alice", Org: "acme", Roles: []auth.Role{auth.Admin}, Method: "token"}
	globex := auth.Principal{Subject: "gus", Org: "globex", Roles: []auth.Role{auth.Admin}, Method: "token"}
	as := func(p auth.Principal, method, path, body string, want int) string {
		t.Helper()
		req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req = req.WithContext(auth.NewContext(req.Context(), p))
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s %s as %s = %d %s, want %d", method, path, p.Org, rec.Code, rec.Body, want)
		}
		return rec.Body.String()
	}
	globexModel := strings.ReplaceAll(strings.ReplaceAll(signedModel, "dtmi:test:Meter;1", "dtmi:globex:Meter;1"), "dtmi:test:Free;1", "dtmi:globex:Free;1")
	as(acme, "POST", "/models", signedModel, 201)
	as(acme, "PUT", "/endpoints/hook", `{"kind":"webhook","url":"`+hook.URL+`"}`, 200)
	as(acme, "PUT", "/eventroutes/all", `{"endpointName":"hook","filter":""}`, 204)
	as(globex, "POST", "/models", globexModel, 201)
	for _, id := range []string{"g1", "g2", "g3"} {
		as(globex, "PUT", "/digitaltwins/"+id, `{"$metadata":{"$model":"dtmi:globex:Free;1"},"reading":1}`, 200)
	}
	as(acme, "PUT", "/digitaltwins/a1", `{"$metadata":{"$model":"dtmi:test:Free;1"},"reading":1}`, 200)
	select {
	case <-gotA1:
	case <-time.After(20 * time.Second):
		t.Fatalf("the route did not deliver a1's event (%d received)", received.Load())
	}
	// Events are delivered in order: every globex event came before a1's.
	// The router counts a delivery once the webhook has answered.
	var s EventRouteStats
	var ok bool
	for deadline := time.Now().Add(20 * time.Second); ; {
		var list EventRouteList
		if err := json.Unmarshal([]byte(as(acme, "GET", "/eventroutes", "", 200)), &list); err != nil {
			t.Fatal(err)
		}
		s, ok = list.Stats["all"]
		if ok && s.Delivered >= uint64(received.Load()) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// globex's two model events and three twin events at least (the
	// route may also have seen acme's model events, which it delivered).
	if !ok || s.Filtered < 5 || s.Delivered != uint64(received.Load()) {
		t.Errorf("stats %+v (present %v), want at least 5 filtered and %d delivered (what the webhook received)", s, ok, received.Load())
	}
	// The JSON names the counts side by side.
	raw := as(acme, "GET", "/eventroutes", "", 200)
	if !strings.Contains(raw, `"Filtered":`) || !strings.Contains(raw, `"Delivered":`) {
		t.Errorf("GET /eventroutes = %s, want Delivered and Filtered", raw)
	}
}
