package dtdl

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Twin documents use the Azure Digital Twins JSON shape: properties and
// components at the top level, system properties prefixed with "$":
//
//	{"$dtId": "mine-1", "$metadata": {"$model": "dtmi:lodestone:Mine;1"},
//	 "name": "Mount Weld", "capacity": 2.5,
//	 "assay": {"$metadata": {}, "grade": 0.08}}
//
// Values are what encoding/json produces when decoding into any (float64,
// string, bool, nil, []any, map[string]any); json.Number and Go integer and
// float types are accepted too. Errors carry the twin's $dtId in ID, a JSON
// pointer in Path ("/assay/grade"), a rule and a message.

// twinSystemProps are the "$" members a twin document may carry.
var twinSystemProps = map[string]bool{"$dtId": true, "$etag": true, "$metadata": true, "$lastUpdateTime": true}

// relSystemProps are the "$" members a relationship document may carry.
var relSystemProps = map[string]bool{"$relationshipId": true, "$targetId": true, "$sourceId": true,
	"$relationshipName": true, "$etag": true, "$metadata": true}

type validator struct {
	id   string
	errs ErrorList
}

func (v *validator) errorf(path, rule, format string, args ...any) {
	if path == "" {
		path = "/"
	}
	v.errs.add(&Error{ID: v.id, Path: path, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// ValidateTwin checks a twin document against the Interface: every property
// is declared and its value fits its schema (nested Objects, Maps, Arrays,
// Enums, geospatial values), every Component is present and valid, and
// $metadata is well formed (its $model, when given, is this Interface; a
// per-property "unit", when given, is a unit of the property's unit type).
// It returns nil or an *ErrorList with every problem.
func (i *Interface) ValidateTwin(doc map[string]any) error {
	v := &validator{}
	if id, ok := doc["$dtId"].(string); ok {
		v.id = id
	}
	v.twinBody(i, doc, "", true)
	return v.errs.err()
}

// twinBody validates the properties and components of a twin or component.
func (v *validator) twinBody(i *Interface, doc map[string]any, prefix string, top bool) {
	md, hasMD := doc["$metadata"]
	var meta map[string]any
	if hasMD {
		m, ok := md.(map[string]any)
		if !ok {
			v.errorf(prefix+"/$metadata", "metadata", "$metadata must be an object, not %s", jsonKind(md))
		} else {
			meta = m
		}
	} else if !top {
		v.errorf(prefix, "metadata", "a component must have a $metadata object")
	}
	if meta != nil {
		v.metadata(i, meta, prefix, top)
	}
	for _, k := range sortedKeys(doc) {
		val := doc[k]
		p := prefix + "/" + escapePointer(k)
		if strings.HasPrefix(k, "$") {
			if !top && k == "$metadata" {
				continue
			}
			if top && twinSystemProps[k] {
				if k == "$dtId" || k == "$etag" {
					if _, ok := val.(string); !ok {
						v.errorf(p, "system-property", "%s must be a string", k)
					}
				}
				continue
			}
			v.errorf(p, "system-property", "%q is not a system property of a twin", k)
			continue
		}
		switch c := i.contents[k].(type) {
		case *Property:
			if val == nil {
				v.errorf(p, "property-null", "property %q may not be null; omit it instead", k)
				continue
			}
			v.value(c.Schema, val, p)
		case *Component:
			m, ok := val.(map[string]any)
			if !ok {
				v.errorf(p, "component", "component %q must be an object, not %s", k, jsonKind(val))
				continue
			}
			if c.Schema != nil {
				v.twinBody(c.Schema, m, p, false)
			}
		case nil:
			v.errorf(p, "property-unknown", "%q is not a property or component of %s", k, i.ID)
		default:
			v.errorf(p, "property-kind", "%q is a %s of %s, not a property; it cannot be set on a twin", k, c.Kind(), i.ID)
		}
	}
	for _, n := range i.names {
		if c, ok := i.contents[n].(*Component); ok {
			if _, present := doc[n]; !present {
				v.errorf(prefix+"/"+escapePointer(n), "component-required", "component %q of %s is missing", c.Name, i.ID)
			}
		}
	}
}

func (v *validator) metadata(i *Interface, meta map[string]any, prefix string, top bool) {
	for _, k := range sortedKeys(meta) {
		val := meta[k]
		p := prefix + "/$metadata/" + escapePointer(k)
		if k == "$model" {
			s, ok := val.(string)
			switch {
			case !ok:
				v.errorf(p, "metadata-model", "$model must be a string DTMI")
			case top && s != i.ID:
				v.errorf(p, "metadata-model", "$model is %q, but the twin is validated against %s", s, i.ID)
			}
			continue
		}
		if strings.HasPrefix(k, "$") {
			continue // $lastUpdateTime and other service-kept members
		}
		prop, isProp := i.contents[k].(*Property)
		if !isProp {
			v.errorf(p, "metadata", "$metadata entry %q does not name a property of %s", k, i.ID)
			continue
		}
		m, ok := val.(map[string]any)
		if !ok {
			v.errorf(p, "metadata", "$metadata entry %q must be an object, not %s", k, jsonKind(val))
			continue
		}
		if u, has := m["unit"]; has {
			us, ok := u.(string)
			if !ok {
				v.errorf(p+"/unit", "unit", "unit must be a string")
				continue
			}
			if prop.Unit == "" {
				v.errorf(p+"/unit", "unit", "property %q declares no unit, so a unit %q cannot be given", k, us)
			} else if !sameUnitType(prop.SemanticType, prop.Unit, us) {
				v.errorf(p+"/unit", "unit", "unit %q is not a unit of %s (the property's unit is %s)", us, prop.SemanticType, prop.Unit)
			}
		}
	}
}

// sameUnitType reports whether unit got belongs to the unit type of
// semantic type st (or equals want when st is unknown).
func sameUnitType(st, want, got string) bool {
	if got == want {
		return true
	}
	for _, u := range qtUnits[qtSemanticUnitType[st]] {
		if u == got {
			return true
		}
	}
	return false
}

// ValidateProperty checks one property write, as a JSON Patch "add" or
// "replace" would make it: pointer is a JSON pointer such as "/capacity",
// "/address/city" (into an Object or Map), "/tags/0" (into an Array) or
// "/component/prop" (into a Component). The value must fit the schema found
// at the pointer.
func (i *Interface) ValidateProperty(pointer string, value any) error {
	v := &validator{}
	s, err := i.SchemaAt(pointer)
	if err != nil {
		return err
	}
	if value == nil {
		v.errorf(pointer, "property-null", "a property value may not be null; remove it instead")
		return v.errs.err()
	}
	v.value(s, value, pointer)
	return v.errs.err()
}

// SchemaAt returns the schema a JSON pointer into a twin addresses. A pointer
// that names a Component itself returns a nil Schema and a nil error.
func (i *Interface) SchemaAt(pointer string) (Schema, error) {
	fail := func(rule, format string, args ...any) (Schema, error) {
		return nil, &ErrorList{Errors: []*Error{{Path: pointer, Rule: rule, Message: fmt.Sprintf(format, args...)}}}
	}
	if !strings.HasPrefix(pointer, "/") {
		return fail("pointer", "%q is not a JSON pointer (it must start with /)", pointer)
	}
	segs := strings.Split(pointer[1:], "/")
	for k := range segs {
		segs[k] = unescapePointer(segs[k])
	}
	cur := i
	for len(segs) > 0 {
		name := segs[0]
		segs = segs[1:]
		switch c := cur.contents[name].(type) {
		case *Property:
			return schemaPath(c.Schema, segs, pointer)
		case *Component:
			if len(segs) == 0 {
				return nil, nil
			}
			if c.Schema == nil {
				return fail("component", "component %q has no resolved schema", name)
			}
			cur = c.Schema
		case nil:
			return fail("property-unknown", "%q is not a property or component of %s", name, cur.ID)
		default:
			return fail("property-kind", "%q is a %s of %s, not a property", name, c.Kind(), cur.ID)
		}
	}
	return fail("pointer", "pointer %q does not name a property", pointer)
}

func schemaPath(s Schema, segs []string, pointer string) (Schema, error) {
	for _, seg := range segs {
		switch x := s.(type) {
		case *Object:
			f := x.Field(seg)
			if f == nil {
				return nil, &ErrorList{Errors: []*Error{{Path: pointer, Rule: "field-unknown", Message: fmt.Sprintf("%q is not a field of the Object schema", seg)}}}
			}
			s = f.Schema
		case *Map:
			s = x.ValueSchema
		case *Array:
			if _, err := strconv.Atoi(seg); err != nil && seg != "-" {
				return nil, &ErrorList{Errors: []*Error{{Path: pointer, Rule: "array-index", Message: fmt.Sprintf("%q is not an array index", seg)}}}
			}
			s = x.ElementSchema
		default:
			kind := "nil"
			if s != nil {
				kind = s.SchemaKind()
			}
			return nil, &ErrorList{Errors: []*Error{{Path: pointer, Rule: "pointer", Message: fmt.Sprintf("cannot address %q inside a %s value", seg, kind)}}}
		}
	}
	return s, nil
}

// ValidateRelationship checks a relationship (edge) that a twin of this
// Interface would hold: the relationship name is declared, the target
// Interface (nil when unknown) is or extends the declared target, count (the
// number of relationships of this name the source twin has including this
// one) does not exceed maxMultiplicity, and props (the relationship's own
// properties; "$" system members are ignored) fit their schemas.
func (i *Interface) ValidateRelationship(name string, target *Interface, props map[string]any, count int) error {
	v := &validator{}
	if id, ok := props["$relationshipId"].(string); ok {
		v.id = id
	}
	p := "/" + escapePointer(name)
	r := i.Relationship(name)
	if r == nil {
		if c := i.contents[name]; c != nil {
			v.errorf(p, "relationship-unknown", "%q is a %s of %s, not a relationship", name, c.Kind(), i.ID)
		} else {
			v.errorf(p, "relationship-unknown", "%s declares no relationship %q", i.ID, name)
		}
		return v.errs.err()
	}
	if r.Target != "" && target != nil && !target.IsAID(r.Target) {
		v.errorf(p, "relationship-target", "relationship %q must target %s (or an Interface that extends it), not %s", name, r.Target, target.ID)
	}
	if r.MaxMultiplicity > 0 && count > r.MaxMultiplicity {
		v.errorf(p, "relationship-multiplicity", "relationship %q allows at most %d edges per twin; this would make %d", name, r.MaxMultiplicity, count)
	}
	for _, k := range sortedKeys(props) {
		val := props[k]
		pp := p + "/" + escapePointer(k)
		if strings.HasPrefix(k, "$") {
			if !relSystemProps[k] {
				v.errorf(pp, "system-property", "%q is not a system property of a relationship", k)
			}
			continue
		}
		ep := r.Property(k)
		if ep == nil {
			v.errorf(pp, "property-unknown", "%q is not a property of relationship %q", k, name)
			continue
		}
		if val == nil {
			v.errorf(pp, "property-null", "property %q may not be null", k)
			continue
		}
		v.value(ep.Schema, val, pp)
	}
	return v.errs.err()
}

// ValidateTelemetry checks a telemetry message: each member names a
// Telemetry of the Interface (or a Component, whose value is then a message
// for the Component's Interface) and its value fits the schema.
func (i *Interface) ValidateTelemetry(msg map[string]any) error {
	v := &validator{}
	v.telemetry(i, msg, "")
	return v.errs.err()
}

func (v *validator) telemetry(i *Interface, msg map[string]any, prefix string) {
	for _, k := range sortedKeys(msg) {
		val := msg[k]
		p := prefix + "/" + escapePointer(k)
		if strings.HasPrefix(k, "$") {
			continue
		}
		switch c := i.contents[k].(type) {
		case *Telemetry:
			if val == nil {
				v.errorf(p, "telemetry-null", "telemetry %q may not be null", k)
				continue
			}
			v.value(c.Schema, val, p)
		case *Component:
			m, ok := val.(map[string]any)
			if !ok || c.Schema == nil {
				v.errorf(p, "component", "component %q telemetry must be an object", k)
				continue
			}
			v.telemetry(c.Schema, m, p)
		case nil:
			v.errorf(p, "telemetry-unknown", "%q is not a telemetry of %s", k, i.ID)
		default:
			v.errorf(p, "telemetry-kind", "%q is a %s of %s, not a telemetry", k, c.Kind(), i.ID)
		}
	}
}

var (
	datePattern     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	dateTimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$`)
	timePattern     = regexp.MustCompile(`^[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?$`)
	// isoDuration follows the DTDL metamodel's pattern for durations.
	isoDuration = regexp.MustCompile(`^P(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?(?:T(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$`)
)

// number converts a JSON number of any Go representation to float64.
func number(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// integral reports whether x is a whole number and returns it.
func integral(x any) (int64, bool) {
	switch n := x.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	f, ok := number(x)
	if !ok || f != math.Trunc(f) || math.IsInf(f, 0) || f < -9.223372036854775807e18 || f > 9.223372036854775807e18 {
		return 0, false
	}
	return int64(f), true
}

// value validates val against schema s at JSON pointer p.
func (v *validator) value(s Schema, val any, p string) {
	switch x := s.(type) {
	case nil:
		return
	case *Primitive:
		v.primitive(x.Name, val, p)
	case *Array:
		arr, ok := val.([]any)
		if !ok {
			v.errorf(p, "schema-type", "value must be an array, not %s", jsonKind(val))
			return
		}
		for k, el := range arr {
			v.value(x.ElementSchema, el, p+"/"+strconv.Itoa(k))
		}
	case *Enum:
		for _, ev := range x.Values {
			switch want := ev.Value.(type) {
			case string:
				if got, ok := val.(string); ok && got == want {
					return
				}
			case int64:
				if got, ok := integral(val); ok && got == want {
					return
				}
			}
		}
		names := make([]string, 0, len(x.Values))
		for _, ev := range x.Values {
			names = append(names, fmt.Sprint(ev.Value))
		}
		v.errorf(p, "enum-value", "value %v is not one of the enum values [%s]", render(val), strings.Join(names, ", "))
	case *Map:
		m, ok := val.(map[string]any)
		if !ok {
			v.errorf(p, "schema-type", "value must be an object (a map), not %s", jsonKind(val))
			return
		}
		for _, k := range sortedKeys(m) {
			if m[k] == nil {
				continue
			}
			v.value(x.ValueSchema, m[k], p+"/"+escapePointer(k))
		}
	case *Object:
		m, ok := val.(map[string]any)
		if !ok {
			v.errorf(p, "schema-type", "value must be an object, not %s", jsonKind(val))
			return
		}
		for _, k := range sortedKeys(m) {
			f := x.Field(k)
			if f == nil {
				v.errorf(p+"/"+escapePointer(k), "field-unknown", "%q is not a field of this Object", k)
				continue
			}
			if m[k] == nil {
				continue
			}
			v.value(f.Schema, m[k], p+"/"+escapePointer(k))
		}
	}
}

func (v *validator) primitive(name string, val any, p string) {
	bad := func(what string) { v.errorf(p, "schema-type", "value %s is not %s", render(val), what) }
	switch name {
	case "boolean":
		if _, ok := val.(bool); !ok {
			bad("a boolean")
		}
	case "double":
		if f, ok := number(val); !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			bad("a number (double)")
		}
	case "float":
		if f, ok := number(val); !ok || math.IsNaN(f) || math.Abs(f) > math.MaxFloat32 {
			bad("a number in the range of a float")
		}
	case "integer":
		if n, ok := integral(val); !ok || n != int64(int32(n)) {
			bad("a 32-bit integer")
		}
	case "long":
		if _, ok := integral(val); !ok {
			bad("a 64-bit integer")
		}
	case "string":
		if _, ok := val.(string); !ok {
			bad("a string")
		}
	case "date":
		s, ok := val.(string)
		if ok {
			_, err := time.Parse("2006-01-02", s)
			ok = err == nil && datePattern.MatchString(s)
		}
		if !ok {
			bad("a date (RFC 3339 full-date, e.g. 2026-01-31)")
		}
	case "dateTime":
		s, ok := val.(string)
		if ok {
			_, err := time.Parse(time.RFC3339Nano, s)
			ok = err == nil && dateTimePattern.MatchString(s)
		}
		if !ok {
			bad("a dateTime (RFC 3339, e.g. 2026-01-31T12:00:00Z)")
		}
	case "time":
		s, ok := val.(string)
		if ok {
			ok = timePattern.MatchString(s)
			if ok {
				hh, _ := strconv.Atoi(s[0:2])
				mm, _ := strconv.Atoi(s[3:5])
				ss, _ := strconv.Atoi(s[6:8])
				ok = hh < 24 && mm < 60 && ss < 61
			}
		}
		if !ok {
			bad("a time (RFC 3339 partial-time, e.g. 12:30:00)")
		}
	case "duration":
		s, ok := val.(string)
		if !ok || s == "P" || strings.HasSuffix(s, "T") || !isoDuration.MatchString(s) {
			bad("an ISO 8601 duration (e.g. PT15M)")
		}
	default:
		if geoTerms[name] {
			v.geo(name, val, p)
		}
	}
}

// geoTypes maps DTDL geospatial schemas to GeoJSON types and coordinate depth.
var geoTypes = map[string]struct {
	typ   string
	depth int
}{
	"point": {"Point", 1}, "multiPoint": {"MultiPoint", 2}, "lineString": {"LineString", 2},
	"multiLineString": {"MultiLineString", 3}, "polygon": {"Polygon", 3}, "multiPolygon": {"MultiPolygon", 4},
}

// geo validates a GeoJSON geometry (RFC 7946) for a geospatial schema.
func (v *validator) geo(name string, val any, p string) {
	g := geoTypes[name]
	m, ok := val.(map[string]any)
	if !ok {
		v.errorf(p, "schema-type", "value must be a GeoJSON %s object, not %s", g.typ, jsonKind(val))
		return
	}
	if t, _ := m["type"].(string); t != g.typ {
		v.errorf(p+"/type", "geojson", "GeoJSON type must be %q", g.typ)
	}
	var check func(x any, depth int) bool
	check = func(x any, depth int) bool {
		arr, ok := x.([]any)
		if !ok {
			return false
		}
		if depth == 1 {
			if len(arr) < 2 || len(arr) > 3 {
				return false
			}
			for _, c := range arr {
				if _, ok := number(c); !ok {
					return false
				}
			}
			return true
		}
		for _, c := range arr {
			if !check(c, depth-1) {
				return false
			}
		}
		return true
	}
	if !check(m["coordinates"], g.depth) {
		v.errorf(p+"/coordinates", "geojson", "coordinates are not a valid %s (positions are [longitude, latitude] number pairs)", g.typ)
	}
}

func jsonKind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	if _, ok := number(x); ok {
		return "a number"
	}
	return fmt.Sprintf("a %T", x)
}

func render(x any) string {
	b, err := json.Marshal(x)
	if err != nil || len(b) > 80 {
		return jsonKind(x)
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapePointer(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
