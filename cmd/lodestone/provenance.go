package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"

	"lodestone/trust/provenance"
)

func init() {
	register(apiCommand("provenance", "ID [--json] [--server URL]",
		"where each property value of a twin came from: the change (event id, log index) and agent that wrote each version, the version it revised, and for process results the run, the cascade spec and engine version and the cited sources (W3C PROV-JSON with --json)",
		true, oneID("provenance: want one twin ID", runProvenance), nil))
}

func runProvenance(ctx context.Context, env *cliEnv, t *target, id string) error {
	var raw json.RawMessage
	if err := apiGet(ctx, t, "/digitaltwins/"+url.PathEscape(id)+"/provenance", &raw); err != nil {
		return err
	}
	if t.json {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return printJSON(env.stdout, v)
	}
	var d provenance.Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("provenance: the server's answer: %w", err)
	}
	printProvenance(env.stdout, id, d)
	return nil
}

// printProvenance prints one line per version of each property value of
// the twin, then the derivations that do not revise a value (process runs,
// cited sources).
func printProvenance(w io.Writer, id string, d provenance.Document) {
	gen := map[string]string{}
	for _, g := range d.WasGeneratedBy {
		gen[provStr(g["prov:entity"])] = provStr(g["prov:activity"])
	}
	var names []string
	for n, e := range d.Entity {
		if e["prov:type"] == "lodestone:PropertyValue" && provStr(e["lodestone:twin"]) == id {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := d.Entity[names[i]], d.Entity[names[j]]
		if pa, pb := provStr(a["lodestone:property"]), provStr(b["lodestone:property"]); pa != pb {
			return pa < pb
		}
		return provNum(a["lodestone:twinVersion"]) < provNum(b["lodestone:twinVersion"])
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROPERTY\tVERSION\tVALUE\tTIME\tCHANGE\tLOG INDEX\tEVENT ID\tAGENT")
	for _, n := range names {
		e := d.Entity[n]
		act := d.Activity[gen[n]]
		cur := ""
		if e["lodestone:current"] == true {
			cur = " (current)"
		}
		idx := "-"
		if v, ok := act["lodestone:logIndex"]; ok && v != nil {
			idx = fmt.Sprint(v)
		}
		kind := provStr(act["lodestone:op"])
		if act["prov:type"] == "lodestone:Import" {
			kind += " (import)"
		}
		fmt.Fprintf(tw, "%s\t%v%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e["lodestone:property"], e["lodestone:twinVersion"], cur,
			provShort(e["prov:value"]), stampOf(act["prov:endTime"]), kind, idx, provStr(act["lodestone:eventId"]), "unauthenticated")
	}
	tw.Flush()
	var extra []string
	for _, r := range d.WasDerivedFrom {
		if r["prov:type"] == "prov:Revision" {
			continue
		}
		g, u := provStr(r["prov:generatedEntity"]), provStr(r["prov:usedEntity"])
		line := fmt.Sprintf("%s <- %s", g, u)
		if a := provStr(r["prov:activity"]); a != "" {
			ra := d.Activity[a]
			line += fmt.Sprintf(" by %s (engine %s, converged %v)", a, provStr(ra["lodestone:modelVersion"]), ra["lodestone:converged"])
		}
		if ue := d.Entity[u]; ue["prov:type"] == "lodestone:Reference" {
			line += fmt.Sprintf(": [%s] %s", provStr(ue["lodestone:key"]), provStr(ue["prov:label"]))
		}
		if ue := d.Entity[u]; ue["lodestone:fittedData"] != nil {
			line += "; parameters fitted to: " + provStr(ue["lodestone:fittedData"])
		}
		extra = append(extra, line)
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		fmt.Fprintln(w, "\nDerived from:")
		for _, l := range extra {
			fmt.Fprintln(w, "  "+l)
		}
	}
	var agents []string
	for name, a := range d.Agent {
		if a["prov:type"] == "lodestone:Principal" {
			agents = append(agents, name)
		}
	}
	sort.Strings(agents)
	for _, name := range agents {
		a := d.Agent[name]
		fmt.Fprintf(w, "\nAgent %s: principal %s of org %s, signer %s", name, provStr(a["lodestone:subject"]), provStr(a["lodestone:org"]), provStr(a["lodestone:signer"]))
	}
	if len(agents) > 0 {
		fmt.Fprintln(w)
	}
	if a := d.Agent[provenance.UnrecordedAgent]; a != nil {
		fmt.Fprintln(w, "\nAgent: "+provStr(a["lodestone:note"]))
	}
}

func provStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func provNum(v any) float64 {
	f, _ := v.(float64)
	return f
}

// stampOf reads a PROV-JSON typed time literal.
func stampOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		return provStr(m["$"])
	}
	return provStr(v)
}

// provShort prints a value on one line, cut at 40 characters.
func provShort(v any) string {
	s := provStr(v)
	if m, ok := v.(map[string]any); ok {
		s = provStr(m["$"])
	}
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
