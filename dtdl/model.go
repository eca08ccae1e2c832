package dtdl

import (
	"sort"
	"strconv"
)

// ModelSet is a resolved, validated set of Interfaces. It is safe for
// concurrent reads once Parse has returned it.
type ModelSet struct {
	interfaces map[string]*Interface
	list       []*Interface
}

// Interface returns the Interface with the given DTMI, or nil.
func (m *ModelSet) Interface(id string) *Interface { return m.interfaces[id] }

// Interfaces returns every Interface of the set, ordered by DTMI.
func (m *ModelSet) Interfaces() []*Interface { return m.list }

// Len returns the number of Interfaces in the set.
func (m *ModelSet) Len() int { return len(m.list) }

// Entity holds what every DTDL element has.
type Entity struct {
	ID          string            // @id as written, or "" when the element had none
	Types       []string          // co-types: semantic types and extension types (e.g. "Mass", "Historized")
	DisplayName map[string]string // by language code ("" for no language)
	Description map[string]string
	Comment     string
}

// Interface is a resolved DTDL Interface.
type Interface struct {
	Entity
	// Version is the DTDL language version the Interface was written in.
	Version  int
	extends  []*Interface
	own      []Content
	contents map[string]Content
	names    []string
	// Schemas are the reusable complex schemas the Interface declares.
	Schemas []Schema
}

// Extends returns the Interfaces this one directly extends.
func (i *Interface) Extends() []*Interface { return i.extends }

// OwnContents returns the contents declared by this Interface itself, in
// document order.
func (i *Interface) OwnContents() []Content { return i.own }

// Contents returns every content of the Interface including inherited ones,
// by name. The map must not be modified.
func (i *Interface) Contents() map[string]Content { return i.contents }

// ContentNames returns the names of Contents sorted.
func (i *Interface) ContentNames() []string { return i.names }

// Content returns the content named name (own or inherited), or nil.
func (i *Interface) Content(name string) Content { return i.contents[name] }

// Property returns the Property named name, or nil.
func (i *Interface) Property(name string) *Property {
	p, _ := i.contents[name].(*Property)
	return p
}

// Telemetry returns the Telemetry named name, or nil.
func (i *Interface) Telemetry(name string) *Telemetry {
	t, _ := i.contents[name].(*Telemetry)
	return t
}

// Relationship returns the Relationship named name, or nil.
func (i *Interface) Relationship(name string) *Relationship {
	r, _ := i.contents[name].(*Relationship)
	return r
}

// Component returns the Component named name, or nil.
func (i *Interface) Component(name string) *Component {
	c, _ := i.contents[name].(*Component)
	return c
}

// Command returns the Command named name, or nil.
func (i *Interface) Command(name string) *Command {
	c, _ := i.contents[name].(*Command)
	return c
}

// IsA reports whether i is other or inherits from it.
func (i *Interface) IsA(other *Interface) bool {
	if other == nil {
		return false
	}
	return i.IsAID(other.ID)
}

// IsAID reports whether i has the DTMI id or inherits from an Interface that has.
func (i *Interface) IsAID(id string) bool {
	seen := map[*Interface]bool{}
	var walk func(x *Interface) bool
	walk = func(x *Interface) bool {
		if x.ID == id {
			return true
		}
		if seen[x] {
			return false
		}
		seen[x] = true
		for _, s := range x.extends {
			if walk(s) {
				return true
			}
		}
		return false
	}
	return walk(i)
}

// Content is an element of an Interface's contents: *Property, *Telemetry,
// *Relationship, *Component or *Command.
type Content interface {
	// ContentName returns the content's name.
	ContentName() string
	// Kind returns the DTDL class: "Property", "Telemetry", "Relationship", "Component" or "Command".
	Kind() string
}

// Semantic holds the semantic type and unit of a Property, Telemetry, Field
// or command payload (QuantitativeTypes).
type Semantic struct {
	SemanticType string // e.g. "Mass"; "" when none
	Unit         string // e.g. "tonne"; "" when none
}

// Property is a DTDL Property.
type Property struct {
	Entity
	Semantic
	Name       string
	Schema     Schema
	Writable   bool
	Historized bool
}

// Telemetry is a DTDL Telemetry.
type Telemetry struct {
	Entity
	Semantic
	Name       string
	Schema     Schema
	Historized bool
}

// Relationship is a DTDL Relationship.
type Relationship struct {
	Entity
	Name string
	// Target is the DTMI of the target Interface, "" for any.
	Target string
	// MinMultiplicity is 0 in DTDL v2 and v3.
	MinMultiplicity int
	// MaxMultiplicity is the maximum number of edges; 0 means unbounded.
	MaxMultiplicity int
	Properties      []*Property
	Writable        bool
}

// Component is a DTDL Component.
type Component struct {
	Entity
	Name   string
	Schema *Interface
}

// Command is a DTDL Command.
type Command struct {
	Entity
	Name     string
	Request  *CommandPayload
	Response *CommandPayload
}

// CommandPayload is the request or response of a Command.
type CommandPayload struct {
	Entity
	Semantic
	Name   string
	Schema Schema
}

// ContentName implements Content.
func (p *Property) ContentName() string { return p.Name }

// Kind implements Content.
func (p *Property) Kind() string { return "Property" }

// ContentName implements Content.
func (t *Telemetry) ContentName() string { return t.Name }

// Kind implements Content.
func (t *Telemetry) Kind() string { return "Telemetry" }

// ContentName implements Content.
func (r *Relationship) ContentName() string { return r.Name }

// Kind implements Content.
func (r *Relationship) Kind() string { return "Relationship" }

// Property returns the edge property named name, or nil.
func (r *Relationship) Property(name string) *Property {
	for _, p := range r.Properties {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// ContentName implements Content.
func (c *Component) ContentName() string { return c.Name }

// Kind implements Content.
func (c *Component) Kind() string { return "Component" }

// ContentName implements Content.
func (c *Command) ContentName() string { return c.Name }

// Kind implements Content.
func (c *Command) Kind() string { return "Command" }

// Schema is a DTDL schema: *Primitive, *Array, *Enum, *Map or *Object.
type Schema interface {
	// SchemaKind returns the class: a primitive or geospatial term such as
	// "double" or "point", or "Array", "Enum", "Map", "Object".
	SchemaKind() string
}

// Primitive is a primitive or geospatial schema.
type Primitive struct {
	Name string // "boolean", "date", "dateTime", "double", "duration", "float", "integer", "long", "string", "time", or a geospatial term
}

// Array is an Array schema.
type Array struct {
	Entity
	ElementSchema Schema
}

// Enum is an Enum schema.
type Enum struct {
	Entity
	ValueSchema string // "integer" or "string"
	Values      []*EnumValue
}

// EnumValue is one value of an Enum; Value is an int64 or a string.
type EnumValue struct {
	Entity
	Name  string
	Value any
}

// Map is a Map schema; its keys are strings.
type Map struct {
	Entity
	KeyName     string
	ValueName   string
	ValueSchema Schema
	Value       *Field
}

// Object is an Object schema.
type Object struct {
	Entity
	Fields []*Field
}

// Field is a field of an Object (or the value of a Map).
type Field struct {
	Entity
	Semantic
	Name   string
	Schema Schema
}

// SchemaKind implements Schema.
func (p *Primitive) SchemaKind() string { return p.Name }

// SchemaKind implements Schema.
func (*Array) SchemaKind() string { return "Array" }

// SchemaKind implements Schema.
func (*Enum) SchemaKind() string { return "Enum" }

// SchemaKind implements Schema.
func (*Map) SchemaKind() string { return "Map" }

// SchemaKind implements Schema.
func (*Object) SchemaKind() string { return "Object" }

// Field returns the field named name, or nil.
func (o *Object) Field(name string) *Field {
	for _, f := range o.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

var primitives = func() map[string]*Primitive {
	m := map[string]*Primitive{}
	for t := range primitiveTerms {
		m[t] = &Primitive{Name: t}
	}
	for t := range geoTerms {
		m[t] = &Primitive{Name: t}
	}
	return m
}()

// build turns the validated elements into the exported model.
func (p *parser) build() *ModelSet {
	ms := &ModelSet{interfaces: map[string]*Interface{}}
	for _, e := range p.all {
		if e.class == "Interface" {
			i := p.buildInterface(e)
			ms.interfaces[i.ID] = i
		}
	}
	for _, i := range ms.interfaces {
		ms.list = append(ms.list, i)
	}
	sort.Slice(ms.list, func(a, b int) bool { return ms.list[a].ID < ms.list[b].ID })
	for _, i := range ms.list {
		i.contents = map[string]Content{}
		var walk func(x *Interface, seen map[*Interface]bool)
		walk = func(x *Interface, seen map[*Interface]bool) {
			if seen[x] {
				return
			}
			seen[x] = true
			for _, c := range x.own {
				if _, dup := i.contents[c.ContentName()]; !dup {
					i.contents[c.ContentName()] = c
				}
			}
			for _, s := range x.extends {
				walk(s, seen)
			}
		}
		walk(i, map[*Interface]bool{})
		for n := range i.contents {
			i.names = append(i.names, n)
		}
		sort.Strings(i.names)
	}
	return ms
}

func (p *parser) entity(e *elem) Entity {
	en := Entity{ID: e.id}
	for _, t := range e.cotypes {
		if t != "" {
			en.Types = append(en.Types, t)
		}
	}
	for _, pair := range []struct {
		prop string
		dst  *map[string]string
	}{{"displayName", &en.DisplayName}, {"description", &en.Description}} {
		vs := e.vals(pair.prop)
		if len(vs) == 0 {
			continue
		}
		m := make(map[string]string, len(vs))
		for _, v := range vs {
			m[v.lang] = v.lit.str
		}
		*pair.dst = m
	}
	if vs := e.vals("comment"); len(vs) > 0 {
		en.Comment = vs[0].lit.str
	}
	return en
}

func (p *parser) semantic(e *elem) Semantic {
	var s Semantic
	for _, t := range e.cotypes {
		if qtSemanticUnitType[t] != "" {
			s.SemanticType = t
		}
	}
	if vs := e.vals("unit"); len(vs) > 0 {
		s.Unit = vs[0].term
	}
	return s
}

func (e *elem) has(cotype string) bool {
	for _, t := range e.cotypes {
		if t == cotype {
			return true
		}
	}
	return false
}

func (e *elem) boolProp(name string) bool {
	vs := e.vals(name)
	return len(vs) > 0 && vs[0].lit != nil && vs[0].lit.b
}

func (e *elem) intProp(name string) (int, bool) {
	vs := e.vals(name)
	if len(vs) == 0 || vs[0].lit == nil {
		return 0, false
	}
	x, err := strconv.Atoi(vs[0].lit.str)
	return x, err == nil
}

func (p *parser) buildInterface(e *elem) *Interface {
	if i, ok := e.out.(*Interface); ok {
		return i
	}
	i := &Interface{Entity: p.entity(e), Version: e.lang.version}
	e.out = i
	for _, s := range p.targets(e, "extends") {
		i.extends = append(i.extends, p.buildInterface(s))
	}
	for _, c := range p.targets(e, "contents") {
		if x := p.buildContent(c); x != nil {
			i.own = append(i.own, x)
		}
	}
	for _, s := range p.targets(e, "schemas") {
		i.Schemas = append(i.Schemas, p.schemaOf(s))
	}
	return i
}

func (p *parser) buildContent(e *elem) Content {
	switch e.class {
	case "Property":
		return p.buildProperty(e)
	case "Telemetry":
		return &Telemetry{Entity: p.entity(e), Semantic: p.semantic(e), Name: e.name(), Schema: p.schemaProp(e, "schema"), Historized: e.has("Historized")}
	case "Relationship":
		r := &Relationship{Entity: p.entity(e), Name: e.name(), Writable: e.boolProp("writable")}
		if vs := e.vals("target"); len(vs) > 0 {
			r.Target = vs[0].ref
		}
		r.MinMultiplicity, _ = e.intProp("minMultiplicity")
		r.MaxMultiplicity, _ = e.intProp("maxMultiplicity")
		for _, pe := range p.targets(e, "properties") {
			r.Properties = append(r.Properties, p.buildProperty(pe))
		}
		return r
	case "Component":
		c := &Component{Entity: p.entity(e), Name: e.name()}
		if ts := p.targets(e, "schema"); len(ts) > 0 {
			c.Schema = p.buildInterface(ts[0])
		}
		return c
	case "Command":
		c := &Command{Entity: p.entity(e), Name: e.name()}
		if ts := p.targets(e, "request"); len(ts) > 0 {
			c.Request = p.buildPayload(ts[0])
		}
		if ts := p.targets(e, "response"); len(ts) > 0 {
			c.Response = p.buildPayload(ts[0])
		}
		return c
	}
	return nil
}

func (p *parser) buildProperty(e *elem) *Property {
	if x, ok := e.out.(*Property); ok {
		return x
	}
	x := &Property{Entity: p.entity(e), Semantic: p.semantic(e), Name: e.name(), Writable: e.boolProp("writable"), Historized: e.has("Historized")}
	e.out = x
	x.Schema = p.schemaProp(e, "schema")
	return x
}

func (p *parser) buildPayload(e *elem) *CommandPayload {
	return &CommandPayload{Entity: p.entity(e), Semantic: p.semantic(e), Name: e.name(), Schema: p.schemaProp(e, "schema")}
}

// schemaProp returns the schema a property of e names.
func (p *parser) schemaProp(e *elem, prop string) Schema {
	vs := e.vals(prop)
	if len(vs) == 0 {
		return nil
	}
	v := vs[0]
	if v.term != "" {
		if units, ok := qtUnits[v.term]; ok {
			return unitEnum(v.term, units)
		}
		return primitives[v.term]
	}
	if ts := p.targets(e, prop); len(ts) > 0 {
		return p.schemaOf(ts[0])
	}
	return nil
}

func (p *parser) schemaOf(e *elem) Schema {
	if s, ok := e.out.(Schema); ok {
		return s
	}
	switch e.class {
	case "Array":
		a := &Array{Entity: p.entity(e)}
		e.out = a
		a.ElementSchema = p.schemaProp(e, "elementSchema")
		return a
	case "Enum":
		en := &Enum{Entity: p.entity(e)}
		e.out = en
		if vs := e.vals("valueSchema"); len(vs) > 0 {
			en.ValueSchema = vs[0].term
		}
		for _, ev := range p.targets(e, "enumValues") {
			v := &EnumValue{Entity: p.entity(ev), Name: ev.name()}
			if lv := ev.vals("enumValue"); len(lv) > 0 {
				if lv[0].lit.kind == kString {
					v.Value = lv[0].lit.str
				} else if x, err := strconv.ParseInt(lv[0].lit.str, 10, 64); err == nil {
					v.Value = x
				}
			}
			en.Values = append(en.Values, v)
		}
		return en
	case "Map":
		m := &Map{Entity: p.entity(e)}
		e.out = m
		if ks := p.targets(e, "mapKey"); len(ks) > 0 {
			m.KeyName = ks[0].name()
		}
		if vs := p.targets(e, "mapValue"); len(vs) > 0 {
			m.Value = p.buildField(vs[0])
			m.ValueName = m.Value.Name
			m.ValueSchema = m.Value.Schema
		}
		return m
	case "Object":
		o := &Object{Entity: p.entity(e)}
		e.out = o
		for _, f := range p.targets(e, "fields") {
			o.Fields = append(o.Fields, p.buildField(f))
		}
		return o
	}
	if s := primitives[lowerFirst(e.class)]; s != nil {
		return s
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

func (p *parser) buildField(e *elem) *Field {
	f := &Field{Entity: p.entity(e), Semantic: p.semantic(e), Name: e.name()}
	f.Schema = p.schemaProp(e, "schema")
	return f
}

// unitEnum is the string Enum a QuantitativeTypes unit type stands for.
func unitEnum(name string, units []string) *Enum {
	en := &Enum{Entity: Entity{ID: "dtmi:dtdl:extension:quantitativeTypes:v1:enum:" + name}, ValueSchema: "string"}
	for _, u := range units {
		en.Values = append(en.Values, &EnumValue{Name: u, Value: u})
	}
	return en
}
