package world

import (
	"maps"
	"slices"
	"strings"

	"lodestone/models"
	"lodestone/supply"
	"lodestone/twin"
)

// stageModel maps a supply stage to the ontology interface of its twins
// (docs/ontology.md, "How the layers use it").
var stageModel = map[string]string{
	supply.StageMine:        models.Mine,
	supply.StageConcentrate: models.Concentrator,
	supply.StageSeparation:  models.SeparationPlant,
	supply.StageMetal:       models.MetalRefinery,
	supply.StageMagnet:      models.MagnetPlant,
	supply.StageOEM:         models.OEM,
	supply.StageStockpile:   models.Stockpile,
	supply.StageWarehouse:   models.Warehouse,
}

// countryNames names the countries of the data set (ISO 3166-1 alpha-2).
var countryNames = map[string]string{
	"AU": "Australia", "BR": "Brazil", "CN": "China", "DE": "Germany", "EE": "Estonia",
	"FR": "France", "IN": "India", "JP": "Japan", "MG": "Madagascar", "MM": "Myanmar (Burma)", "MY": "Malaysia",
	"NG": "Nigeria", "RU": "Russia", "TH": "Thailand", "US": "United States", "VN": "Vietnam",
}

// CountryTwinID returns the twin id of a country's twin ("country-cn").
func CountryTwinID(iso string) twin.ID { return twin.ID("country-" + strings.ToLower(iso)) }

// MaterialTwinID returns the twin id of a material or grade twin
// ("material-ndpr-oxide").
func MaterialTwinID(code string) twin.ID { return twin.ID("material-" + strings.ToLower(code)) }

func companyTwinID(name string) twin.ID {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
	return twin.ID("company-" + s)
}

// controlTwinID returns the twin id of a built-in export control.
func controlTwinID(name string) twin.ID { return twin.ID("control-" + strings.ToLower(name)) }

// twinBuilder accumulates twins and relationships with unique ids.
type twinBuilder struct {
	twins []twin.Twin
	rels  []twin.Relationship
	seen  map[twin.ID]bool
}

func (b *twinBuilder) add(id twin.ID, model string, props map[string]any) {
	if b.seen[id] {
		return
	}
	b.seen[id] = true
	b.twins = append(b.twins, twin.Twin{ID: id, Metadata: twin.Metadata{Model: model}, Properties: props})
}

func (b *twinBuilder) rel(src twin.ID, name string, dst twin.ID, props map[string]any) {
	b.rels = append(b.rels, twin.Relationship{
		ID: string(src) + "." + name + "." + string(dst), SourceID: src, TargetID: dst, Name: name, Properties: props,
	})
}

// quantityNote describes how a quantity was obtained, for a twin's notes.
func quantityNote(field string, q *Quantity) string {
	var parts []string
	if q.Derived {
		parts = append(parts, field+" derived: "+q.Formula)
	}
	if q.Assumption {
		parts = append(parts, field+" assumption: "+q.Why)
	}
	return strings.Join(parts, "; ")
}

// Twins returns the world as twins and relationships typed by the bundled
// ontology (package models): countries, operating companies, one facility
// twin per node (Mine, SeparationPlant, MetalRefinery, MagnetPlant, OEM,
// Stockpile), materials and magnet grades with their bills of materials,
// and the built-in export controls of supply. Facilities carry their
// numbers with a source per property (Entity.sources); derived values and
// assumptions are explained in Entity.notes. Aggregate nodes of several
// countries (country "ROW") have no locatedIn relationship; their
// countries are named in notes. The order is deterministic.
func (w *World) Twins() ([]twin.Twin, []twin.Relationship) {
	b := &twinBuilder{seen: map[twin.ID]bool{}}
	// Countries.
	isos := map[string]bool{"CN": true}
	for _, n := range w.Nodes {
		if n.Country != "ROW" {
			isos[n.Country] = true
		}
		for _, c := range n.Countries {
			isos[c] = true
		}
	}
	for _, iso := range slices.Sorted(maps.Keys(isos)) {
		props := map[string]any{"name": countryNames[iso], "isoCode": iso}
		for _, n := range w.Nodes {
			for _, f := range n.Reported {
				if n.Country == iso && f.TwinProperty == "country.reservesTonnesReo" {
					props["reservesTonnesReo"] = f.Value
					props["sources"] = map[string]any{"reservesTonnesReo": f.Source}
				}
			}
		}
		b.add(CountryTwinID(iso), models.Country, props)
	}
	// Materials and grades.
	for _, m := range w.Materials {
		b.add(MaterialTwinID(m.Code), models.Material, map[string]any{
			"name": m.Name, "code": m.Code, "form": m.Form,
			"source": "research note supply-chain-twin.md c.4, c.10",
		})
	}
	for _, g := range w.Grades {
		comp := map[string]any{}
		srcs := []string{}
		for _, k := range slices.Sorted(maps.Keys(g.Composition)) {
			q := g.Composition[k]
			comp[k] = q.Value
			srcs = append(srcs, k+": "+q.Source)
		}
		b.add(MaterialTwinID(g.Code), models.Material, map[string]any{
			"name": g.Name, "code": g.Code, "form": "magnet", "composition": comp,
			"source": strings.Join(srcs, "; "),
		})
	}
	// Bills of materials: the aggregate chain and each grade's metals.
	chain := [][2]string{{"REO-separated", "REO-concentrate"}, {"RE-metal", "REO-separated"}, {"NdFeB-magnet", "RE-metal"}}
	for _, c := range chain {
		q := w.Material(c[1]).ConsumptionRatio
		b.rel(MaterialTwinID(c[0]), "requires", MaterialTwinID(c[1]), map[string]any{"tonnesPerTonne": q.Value})
	}
	for _, e := range magnetREs {
		f := w.OxideMetalFraction[e]
		b.rel(MaterialTwinID(e+"-metal"), "requires", MaterialTwinID(e+"-oxide"),
			map[string]any{"tonnesPerTonne": 1 / (f.Value * (1 - w.OxideMetalLoss.Value))})
	}
	for _, g := range w.Grades {
		for _, e := range magnetREs {
			if q, ok := g.Composition[e]; ok && q.Value > 0 {
				b.rel(MaterialTwinID(g.Code), "requires", MaterialTwinID(e+"-metal"), map[string]any{"tonnesPerTonne": q.Value})
			}
		}
	}
	// Companies and facilities.
	for i := range w.Nodes {
		n := &w.Nodes[i]
		id := twin.ID(n.ID)
		props := map[string]any{"name": n.Name}
		srcs := map[string]any{}
		var notes []string
		if n.Notes != "" {
			notes = append(notes, n.Notes)
		}
		set := func(prop string, q *Quantity) {
			if q == nil {
				return
			}
			props[prop] = q.Value
			srcs[prop] = q.Source
			if s := quantityNote(prop, q); s != "" {
				notes = append(notes, s)
			}
		}
		set("capacityTonnesPerYear", n.CapacityTonnesPerYear)
		set("inventoryTonnes", n.InventoryTonnes)
		switch n.Stage {
		case supply.StageOEM:
			set("magnetDemandTonnesPerYear", n.DemandTonnesPerYear)
			set("inventoryCoverDays", n.InventoryCoverDays)
		case supply.StageStockpile:
			set("targetCoverDays", n.TargetCoverDays)
			props["holder"] = "government"
		default:
			props["status"] = "operating"
			props["capacityBasis"] = "t/yr of " + w.Material(n.Output).Name
		}
		for _, f := range n.Reported {
			if f.TwinProperty == "productionTonnesPerYear" {
				set("productionTonnesPerYear", &f.Quantity)
				if f.Year != 0 {
					props["productionYear"] = f.Year
				}
			}
		}
		if n.Country == "ROW" {
			notes = append(notes, "aggregate of several countries: "+strings.Join(n.Countries, ", "))
		}
		if len(srcs) > 0 {
			props["sources"] = srcs
		}
		if len(notes) > 0 {
			props["notes"] = strings.Join(notes, " | ")
		}
		props["source"] = "Lodestone default world 2024 (world/data/world2024.json), research note supply-chain-twin.md c.10"
		b.add(id, stageModel[n.Stage], props)
		if n.Country != "ROW" {
			b.rel(id, "locatedIn", CountryTwinID(n.Country), nil)
		}
		if n.Operator != "" && !strings.Contains(n.Name, "(aggregate)") {
			cid := companyTwinID(n.Operator)
			b.add(cid, models.Company, map[string]any{"name": n.Operator})
			b.rel(id, "operatedBy", cid, nil)
		}
		if n.Stage != supply.StageOEM {
			edge := map[string]any{}
			if c := n.Capacity(); c > 0 {
				edge["tonnesPerYear"] = c
			}
			b.rel(id, "produces", MaterialTwinID(n.Output), edge)
		}
	}
	for i := range w.Arcs {
		a := &w.Arcs[i]
		edge := map[string]any{"materialCode": a.Material, "ratio": w.arcRatio(a).Value}
		if a.LeadTimeDays != nil {
			edge["leadTimeDays"] = a.LeadTimeDays.Value
		}
		b.rel(twin.ID(a.From), "feeds", twin.ID(a.To), edge)
	}
	// Export controls.
	builtin := supply.BuiltinControls()
	for _, name := range slices.Sorted(maps.Keys(builtin)) {
		c := builtin[name]
		id := controlTwinID(name)
		props := map[string]any{
			"name": name, "reference": controlReference(name), "regime": c.Mode,
			"controlledElements": anySlice(c.Elements),
			"controlledForms":    []any{"compound", "metal", "alloy", "magnet"},
			"scope":              c.Scope, "source": c.Source,
			"licenceReviewDays": float64(c.ReviewDays), "approvalProbability": c.ApprovalProbability,
			"status": "inForce",
		}
		if c.ContentThreshold > 0 {
			props["contentThreshold"] = c.ContentThreshold
		}
		for k, d := range map[string]supply.Date{"announcedDate": c.Announced, "effectiveDate": c.Effective, "suspendedFrom": c.Suspended, "resumesOn": c.Resumes} {
			if d != "" {
				props[k] = string(d)
			}
		}
		if c.Suspended != "" {
			// As of the research note (late 2025): No. 70 suspended it.
			props["status"] = "suspended"
		}
		b.add(id, models.ExportControl, props)
		b.rel(id, "issuedBy", CountryTwinID(c.Country), nil)
		for _, m := range w.Materials {
			if containsAny(m.Elements, c.Elements) {
				b.rel(id, "appliesTo", MaterialTwinID(m.Code), nil)
			}
		}
		for _, g := range w.Grades {
			if containsAny(gradeElements(&g), c.Elements) {
				b.rel(id, "appliesTo", MaterialTwinID(g.Code), nil)
			}
		}
	}
	return b.twins, b.rels
}

func controlReference(name string) string {
	// "CN-2025-18" → "MOFCOM Announcement No. 18 (2025)".
	parts := strings.Split(name, "-")
	if len(parts) == 3 && parts[0] == "CN" {
		return "MOFCOM Announcement No. " + parts[2] + " (" + parts[1] + ")"
	}
	return name
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func containsAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}
