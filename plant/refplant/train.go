package refplant

import (
	"fmt"
	"slices"
)

// train adds SX train n: its section, its cascade with every stage and the
// stage equipment, and the train's pumps, meters, filter and analyser.
func (b *builder) train(n int) error {
	d := b.d
	sec := fmt.Sprintf("%s-train-%d", d.Plant.ID, n)
	if err := b.add(sec, "PlantSection", map[string]any{
		"name": fmt.Sprintf("SX train %d", n), "sectionType": "sxTrain", "trainNumber": n,
		"notes": "Train count: " + d.Trains.Why,
	}, d.Trains.Source, nil); err != nil {
		return err
	}
	b.rel(d.Plant.ID, "hasSection", sec)
	b.p.trains = append(b.p.trains, nil)
	cas := sec + "-cascade"
	props := map[string]any{
		"name": fmt.Sprintf("Pr/Nd cascade, train %d", n), "separation": d.Cascade.Separation, "extractant": d.Cascade.Extractant,
		"notes": fmt.Sprintf("%d stages", d.Cascade.Stages),
	}
	if d.Cascade.Spec != nil {
		props["spec"] = d.Cascade.Spec
	}
	if err := b.add(cas, "SXCascade", props, "", d.Cascade.Sources); err != nil {
		return err
	}
	b.rel(d.Plant.ID, "hasUnit", cas)
	b.rel(sec, "hasUnit", cas)
	for s := 1; s <= d.Cascade.Stages; s++ {
		if err := b.stage(cas, s); err != nil {
			return err
		}
	}
	for _, e := range d.TrainEquipment {
		if err := b.equipment(sec, cas, e); err != nil {
			return err
		}
		if e.Model == "Analyser" {
			continue // the train runs without its analyser (on lab assays)
		}
		ref := equipRef{ID: sec + "-" + e.Suffix, Model: e.Model}
		if n := len(e.Suffix); n > 2 && (e.Suffix[n-2:] == "-a" || e.Suffix[n-2:] == "-b") {
			ref.Pair = sec + "-" + e.Suffix[:n-2]
		}
		b.need(ref)
	}
	return nil
}

// need records equipment the current train needs to run.
func (b *builder) need(r equipRef) {
	i := len(b.p.trains) - 1
	b.p.trains[i] = append(b.p.trains[i], r)
}

func (b *builder) stage(cas string, s int) error {
	d := b.d
	id := fmt.Sprintf("%s-stage-%02d", cas, s)
	props := map[string]any{"name": fmt.Sprintf("stage %d", s), "stageNumber": s}
	srcs := map[string]string{}
	for _, r := range d.Cascade.StageSections {
		if s >= r.From && s <= r.To {
			props["section"] = r.Section
			srcs["section"] = d.Cascade.StageSectionsSource
		}
	}
	if err := b.add(id, "SXStage", props, "", srcs); err != nil {
		return err
	}
	b.rel(cas, "hasStage", id)
	// The drive (motor and gearbox) of the mixer is its ISO 14224 subunit.
	drive := ""
	for _, e := range d.StageEquipment {
		if len(e.Stages) > 0 && !slices.Contains(e.Stages, s) {
			continue
		}
		eid := id + "-" + e.Suffix
		props := map[string]any{"name": fmt.Sprintf("stage %d %s", s, e.Name), "equipmentClass": e.EquipmentClass, "tag": eid}
		for k, v := range e.Props {
			props[k] = v
		}
		if err := b.add(eid, e.Model, props, e.Source, e.Sources); err != nil {
			return err
		}
		if e.DriveOf == "" {
			b.rel(id, "hasEquipment", eid)
			continue
		}
		// A stage's agitator drive stops the cascade when it stops.
		b.need(equipRef{ID: eid, Model: e.Model})
		owner := id + "-" + e.DriveOf
		if drive == "" {
			drive = owner + "-drive"
			if err := b.add(drive, "Subunit", map[string]any{"name": fmt.Sprintf("stage %d agitator drive", s), "subunitType": "power transmission"}, e.Source, nil); err != nil {
				return err
			}
			b.rel(owner, "hasSubunit", drive)
		}
		b.rel(drive, "hasEquipment", eid)
	}
	return nil
}

// equipment adds an equipment unit of a section, its maintainable items
// (grouped in one subunit) and, for an analyser, its sampling pump.
func (b *builder) equipment(sec, cas string, e equipment) error {
	id := sec + "-" + e.Suffix
	props := map[string]any{"name": e.Name, "equipmentClass": e.EquipmentClass, "tag": id}
	for k, v := range e.Props {
		props[k] = v
	}
	if err := b.add(id, e.Model, props, e.Source, e.Sources); err != nil {
		return err
	}
	switch {
	case e.Unit != "":
		b.rel(sec+"-"+e.Unit, "hasEquipment", id)
	default:
		b.rel(sec, "hasEquipment", id)
	}
	if e.Measures == "cascade" {
		b.rel(id, "measures", cas)
	}
	if len(e.Items) == 0 && !e.SamplingPump {
		return nil
	}
	sub := id + "-" + "subunit"
	if err := b.add(sub, "Subunit", map[string]any{"name": e.Name + " wear parts", "subunitType": "maintainable items"}, "ASSUMPTION", nil); err != nil {
		return err
	}
	b.rel(id, "hasSubunit", sub)
	for i, it := range e.Items {
		iid := fmt.Sprintf("%s-item-%d", id, i+1)
		if err := b.add(iid, "MaintainableItem", map[string]any{
			"name": e.Name + " " + it, "itemType": it,
			"notes": "No public life data (Weibull shape/scale, MTTR) for this item was found; fit them from its failure records.",
		}, "REEP-EQUIP", nil); err != nil {
			return err
		}
		b.rel(sub, "hasItem", iid)
	}
	if e.SamplingPump {
		pid := id + "-sampling-pump"
		if err := b.add(pid, "Pump", map[string]any{
			"name": e.Name + " sampling pump (peristaltic)", "equipmentClass": "Pumps", "service": "sampling", "speedSetpoint": 250.0, "tag": pid,
		}, "XRF", map[string]string{"speedSetpoint": "XRF"}); err != nil {
			return err
		}
		b.rel(sub, "hasEquipment", pid)
	}
	return nil
}

// section adds a non-SX section with its process units and equipment.
func (b *builder) section(suffix, kind, name string, units []unit, eq []equipment) error {
	d := b.d
	sec := d.Plant.ID + "-" + suffix
	if err := b.add(sec, "PlantSection", map[string]any{"name": name, "sectionType": kind}, "ASSUMPTION", nil); err != nil {
		return err
	}
	b.rel(d.Plant.ID, "hasSection", sec)
	for _, u := range units {
		id := sec + "-" + u.Suffix
		props := map[string]any{"name": u.Name}
		for k, v := range u.Props {
			props[k] = v
		}
		if err := b.add(id, u.Model, props, u.Source, nil); err != nil {
			return err
		}
		b.rel(d.Plant.ID, "hasUnit", id)
		b.rel(sec, "hasUnit", id)
	}
	for _, e := range eq {
		if err := b.equipment(sec, "", e); err != nil {
			return err
		}
	}
	return nil
}
