package dtdl

import (
	"regexp"
	"sort"
	"strconv"
)

var numericTerms = map[string]bool{"double": true, "float": true, "integer": true, "long": true}

var durationPattern = regexp.MustCompile(`^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)

// resolveMissing asks Options.Resolve for referenced identifiers that no
// document defined, until nothing new arrives.
func (p *parser) resolveMissing() {
	if p.opts.Resolve == nil {
		return
	}
	for {
		progress := false
		for i := 0; i < len(p.refs); i++ {
			id := p.refs[i].id
			if p.byID[id] != nil || p.tried[id] {
				continue
			}
			p.tried[id] = true
			data, ok := p.opts.Resolve(id)
			if !ok {
				continue
			}
			p.parseDocument(Document{Name: id, Data: data})
			progress = true
		}
		if !progress {
			return
		}
	}
}

// targets returns the elements a property of e points to, inline or by
// reference (references that did not resolve are skipped).
func (p *parser) targets(e *elem, prop string) []*elem {
	vs := e.vals(prop)
	if len(vs) == 0 {
		return nil
	}
	out := make([]*elem, 0, len(vs))
	for _, v := range vs {
		switch {
		case v.elem != nil:
			out = append(out, v.elem)
		case v.ref != "" && v.lit == nil:
			if t := p.byID[v.ref]; t != nil {
				out = append(out, t)
			}
		}
	}
	return out
}

// schemaChildren are the properties through which schemas nest.
var schemaChildren = []string{"elementSchema", "schema", "fields", "mapValue", "enumValues", "mapKey"}

// link resolves references and checks the rules that span elements.
func (p *parser) link() {
	unresolved := map[string]bool{}
	for _, r := range p.refs {
		t := p.byID[r.id]
		if t == nil {
			if !unresolved[r.id] {
				unresolved[r.id] = true
				p.errs.Unresolved = append(p.errs.Unresolved, r.id)
			}
			p.elemErr(r.from, r.path, "unresolved-reference", "%q refers to %s, which no model in the set defines", r.prop.name, r.id)
			continue
		}
		fits := false
		for _, c := range r.prop.classes {
			if t.lang.isA(t.class, c) {
				fits = true
			}
		}
		if r.from.lang.version < t.lang.version || (r.from.lang.version > t.lang.version && !r.prop.older) {
			fits = false
		}
		if fits && t.class != "Interface" && partition(t) != partition(r.from) && t.parent != nil && t.parent.class == "Interface" && t.prop != "schemas" {
			p.elemErr(r.from, r.path, "reference-partition", "%q refers to %s, which is defined inside Interface %s and cannot be referenced from elsewhere", r.prop.name, r.id, partition(t).id)
			continue
		}
		if !fits {
			p.elemErr(r.from, r.path, "reference-class", "%q refers to %s, a %s (DTDL v%d); expected %v", r.prop.name, r.id, t.class, t.lang.version, r.prop.classes)
		}
	}
	sort.Strings(p.errs.Unresolved)
	if len(p.errs.Errors) > 0 {
		return
	}
	p.checkExtends()
	if len(p.errs.Errors) > 0 {
		// The remaining checks walk the inheritance hierarchy, which must
		// first be acyclic and within its limits.
		return
	}
	p.checkSchemas()
	p.checkContents()
	p.checkValues()
	p.checkExtensions()
	p.checkDescendants()
}

// checkExtensions enforces the sibling and co-type rules of the v3 feature
// extensions (Annotation, Overriding, MQTT), from their RDF-SHACL metamodels.
func (p *parser) checkExtensions() {
	overridden := map[string]bool{}
	for _, e := range p.all {
		if e.has("Override") && !e.has("ValueAnnotation") {
			p.elemErr(e, e.path+".@type", "type-cotype", "Override requires the ValueAnnotation co-type as well")
		}
		if e.has("Cacheable") && !e.has("Idempotent") {
			p.elemErr(e, e.path+".@type", "type-cotype", "Cacheable requires the Idempotent co-type as well")
		}
		if e.has("ValueAnnotation") && e.parent != nil {
			vs := e.vals("annotates")
			if len(vs) == 0 || vs[0].lit == nil {
				continue
			}
			target := vs[0].lit.str
			siblings := p.targets(e.parent, e.prop)
			if e.prop == "contents" {
				siblings = p.allContents(e.parent)
			}
			var found *elem
			for _, sib := range siblings {
				if sib != e && sib.name() == target {
					found = sib
				}
			}
			switch {
			case found == nil:
				p.elemErr(e, vs[0].where(), "annotates", "ValueAnnotation annotates %q, but no sibling Property or Telemetry has that name", target)
				continue
			case found.class != "Property" && found.class != "Telemetry":
				p.elemErr(e, vs[0].where(), "annotates", "ValueAnnotation annotates %q, a %s; only a Property or Telemetry can be annotated", target, found.class)
				continue
			case found.has("ValueAnnotation"):
				p.elemErr(e, vs[0].where(), "annotates", "ValueAnnotation annotates %q, which is itself a ValueAnnotation", target)
				continue
			}
			if ov := e.vals("overrides"); e.has("Override") && len(ov) > 0 && ov[0].lit != nil {
				what := ov[0].lit.str
				if len(found.vals(what)) == 0 || e.lang.prop(found.class, what) != nil {
					p.elemErr(e, ov[0].where(), "overrides", "Override names %q, which is not an extension property set on %q", what, target)
					continue
				}
				key := partition(e).id + "\x00" + target + "\x00" + what
				if overridden[key] {
					p.elemErr(e, ov[0].where(), "overrides", "property %q of %q is overridden twice", what, target)
				}
				overridden[key] = true
				if what == "unit" {
					st := p.semantic(found).SemanticType
					if sv := e.vals("schema"); len(sv) > 0 && sv[0].term != qtSemanticUnitType[st] {
						p.elemErr(e, sv[0].where(), "overrides", "an Override of the unit of %q (a %s) must have schema %s", target, st, qtSemanticUnitType[st])
					}
				}
			}
		}
	}
	// Indexed: index values are unique among siblings.
	for _, e := range p.all {
		for _, pv := range e.props {
			prop := pv.name
			seen := map[string]bool{}
			for _, c := range p.targets(e, prop) {
				if c.parent != e || !c.has("Indexed") {
					continue
				}
				iv := c.vals("index")
				if len(iv) == 0 || iv[0].lit == nil {
					continue
				}
				if seen[iv[0].lit.str] {
					p.elemErr(c, iv[0].where(), "unique-index", "index %s is used by two siblings", iv[0].lit.str)
				}
				seen[iv[0].lit.str] = true
			}
		}
	}
}

// descendantProps are the properties whose elements count toward the DTDL v3
// limit on elements in an Interface hierarchy (dtmm:descendants of Interface).
var descendantProps = []string{"contents", "fields", "enumValues", "request", "response", "properties", "schema", "elementSchema", "mapValue"}

// checkDescendants enforces the DTDL v3 limit on the number of elements in
// an Interface and everything it inherits.
func (p *parser) checkDescendants() {
	own := map[*elem]int{}
	count := func(root *elem) int {
		if n, ok := own[root]; ok {
			return n
		}
		seen := map[*elem]bool{}
		var walk func(x *elem)
		walk = func(x *elem) {
			for _, prop := range descendantProps {
				for _, c := range p.targets(x, prop) {
					if c.class == "Interface" || seen[c] {
						continue
					}
					seen[c] = true
					walk(c)
				}
			}
		}
		walk(root)
		own[root] = len(seen)
		return len(seen)
	}
	for _, e := range p.all {
		if e.class != "Interface" || e.lang.maxDescendants == 0 {
			continue
		}
		n := count(e)
		for _, a := range p.ancestors(e) {
			n += count(a)
		}
		if n > e.lang.maxDescendants {
			p.elemErr(e, e.path, "contents-count", "Interface %s has %d elements including inherited ones; DTDL v%d allows %d", e.id, n, e.lang.version, e.lang.maxDescendants)
		}
	}
}

// checkExtends finds cycles and enforces depth and size limits of the
// inheritance hierarchy.
func (p *parser) checkExtends() {
	const (
		white = iota
		grey
		black
	)
	state := map[*elem]int{}
	depth := map[*elem]int{}
	var visit func(e *elem) bool
	visit = func(e *elem) bool {
		switch state[e] {
		case grey:
			return false
		case black:
			return true
		}
		state[e] = grey
		d := 0
		for _, s := range p.targets(e, "extends") {
			if !visit(s) {
				if state[e] == grey {
					p.elemErr(e, e.path+".extends", "extends-cycle", "Interface %s extends itself through its chain of extends", e.id)
				}
				state[e] = black
				depth[e] = 0
				return false
			}
			if depth[s]+1 > d {
				d = depth[s] + 1
			}
		}
		state[e] = black
		depth[e] = d
		return true
	}
	for _, e := range p.all {
		if e.class != "Interface" {
			continue
		}
		if state[e] == white {
			visit(e)
		}
	}
	if len(p.errs.Errors) > 0 {
		return // cycles: depth and size are meaningless
	}
	for _, e := range p.all {
		if e.class != "Interface" {
			continue
		}
		if depth[e] > e.lang.maxExtendsDepth {
			p.elemErr(e, e.path+".extends", "extends-depth", "Interface %s has an inheritance chain %d deep; DTDL v%d allows %d", e.id, depth[e], e.lang.version, e.lang.maxExtendsDepth)
			continue
		}
		if e.lang.maxExtendsCount > 0 {
			if n := len(p.ancestors(e)); n > e.lang.maxExtendsCount {
				p.elemErr(e, e.path+".extends", "extends-count", "Interface %s inherits from %d Interfaces; DTDL v%d allows %d", e.id, n, e.lang.version, e.lang.maxExtendsCount)
			}
		}
	}
}

// ancestors returns every Interface e extends, directly or not.
func (p *parser) ancestors(e *elem) []*elem {
	seen := map[*elem]bool{e: true}
	var out []*elem
	stack := []*elem{e}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range p.targets(x, "extends") {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
				stack = append(stack, s)
			}
		}
	}
	return out
}

// checkSchemas enforces schema nesting depth, no self-reference and, in v2,
// no Array in a Property.
func (p *parser) checkSchemas() {
	memo := map[*elem]int{}
	cyclic := p.schemaCycles()
	for _, e := range p.all {
		if !e.lang.isA(e.class, "ComplexSchema") {
			continue
		}
		if cyclic[e] {
			p.elemErr(e, e.path, "schema-cycle", "schema %s contains itself", orDefault(e.id, e.class))
			continue
		}
		if d := p.schemaDepth(e, memo); d > e.lang.maxSchemaDepth {
			// Report once, at the outermost schema.
			if e.parent == nil || !e.parent.lang.isA(e.parent.class, "ComplexSchema") && !e.parent.lang.isA(e.parent.class, "SchemaField") || e.parent.class == "CommandPayload" || e.parent.class == "CommandRequest" || e.parent.class == "CommandResponse" {
				p.elemErr(e, e.path, "schema-depth", "complex schemas are nested %d deep; DTDL v%d allows %d", d, e.lang.version, e.lang.maxSchemaDepth)
			}
		}
	}
	for _, e := range p.all {
		if e.lang.propertyNoArray && e.class == "Property" {
			if vs := e.vals("schema"); len(vs) > 0 && geoTerms[vs[0].term] {
				p.elemErr(e, vs[0].where(), "property-array", "in DTDL v2 a Property's schema may not be a geospatial schema (they contain Arrays)")
			}
			for _, s := range p.targets(e, "schema") {
				if p.containsClass(s, "Array", map[*elem]bool{}) {
					p.elemErr(e, e.path+".schema", "property-array", "in DTDL v2 a Property's schema may not be or contain an Array")
				}
			}
		}
	}
}

// schemaCycles finds the schemas that contain themselves, with one
// depth-first search over the schema edges of all elements (linear in the
// size of the model set). It returns the schemas where a cycle closes.
func (p *parser) schemaCycles() map[*elem]bool {
	const (
		grey  = 1
		black = 2
	)
	state := map[*elem]int{}
	cyclic := map[*elem]bool{}
	var visit func(x *elem)
	visit = func(x *elem) {
		state[x] = grey
		for _, prop := range schemaChildren {
			for _, c := range p.targets(x, prop) {
				switch state[c] {
				case grey:
					cyclic[c] = true
				case 0:
					visit(c)
				}
			}
		}
		state[x] = black
	}
	for _, e := range p.all {
		if state[e] == 0 && e.lang.isA(e.class, "ComplexSchema") {
			visit(e)
		}
	}
	return cyclic
}

// schemaDepth is the nesting depth of complex schemas at e (1 for a complex
// schema with only primitive children). Results are memoised in memo, so
// schemas shared by reference cost once; a schema met again while its own
// depth is being computed (a cycle, reported separately) counts as 0.
func (p *parser) schemaDepth(e *elem, memo map[*elem]int) int {
	if d, ok := memo[e]; ok {
		return d
	}
	memo[e] = 0 // in progress
	d := 0
	for _, prop := range schemaChildren {
		for _, c := range p.targets(e, prop) {
			if x := p.schemaDepth(c, memo); x > d {
				d = x
			}
		}
	}
	if e.lang.isA(e.class, "ComplexSchema") {
		d++
	}
	memo[e] = d
	return d
}

func (p *parser) containsClass(e *elem, class string, seen map[*elem]bool) bool {
	if seen[e] {
		return false
	}
	seen[e] = true
	if e.class == class {
		return true
	}
	for _, prop := range schemaChildren {
		for _, c := range p.targets(e, prop) {
			if p.containsClass(c, class, seen) {
				return true
			}
		}
	}
	return false
}

// allContents returns the contents of an Interface including inherited ones.
func (p *parser) allContents(e *elem) []*elem {
	out := append([]*elem(nil), p.targets(e, "contents")...)
	for _, a := range p.ancestors(e) {
		out = append(out, p.targets(a, "contents")...)
	}
	return out
}

// checkContents enforces name uniqueness across inheritance, the content
// limits and Component nesting rules.
func (p *parser) checkContents() {
	for _, e := range p.all {
		if e.class != "Interface" {
			continue
		}
		all := p.allContents(e)
		names := map[string]*elem{}
		for _, c := range all {
			n := c.name()
			if prev, dup := names[n]; dup && prev != c {
				p.elemErr(e, e.path, "contents-name", "Interface %s has two contents named %q (one inherited)", e.id, n)
			}
			names[n] = c
		}
		if e.lang.maxContents > 0 && len(all) > e.lang.maxContents {
			p.elemErr(e, e.path+".contents", "contents-count", "Interface %s has %d contents including inherited ones; DTDL v%d allows %d", e.id, len(all), e.lang.version, e.lang.maxContents)
		}
		for _, c := range p.targets(e, "contents") {
			if c.class != "Component" {
				continue
			}
			for _, s := range p.targets(c, "schema") {
				for _, sc := range p.allContents(s) {
					if sc.class == "Component" {
						p.elemErr(c, c.path+".schema", "component-nesting", "Component %q uses Interface %s, which itself has a Component (%q)", c.name(), s.id, sc.name())
						break
					}
				}
			}
		}
	}
}

func (e *elem) name() string {
	if v := e.vals("name"); len(v) > 0 && v[0].lit != nil {
		return v[0].lit.str
	}
	return ""
}

// checkValues checks enum values against their value schema and units
// against semantic types.
func (p *parser) checkValues() {
	for _, e := range p.all {
		if e.class == "Enum" {
			vs := e.vals("valueSchema")
			if len(vs) == 0 {
				continue
			}
			want := vs[0].term
			for _, ev := range p.targets(e, "enumValues") {
				lv := ev.vals("enumValue")
				if len(lv) == 0 || lv[0].lit == nil {
					continue
				}
				n := lv[0].lit
				ok := false
				switch want {
				case "integer":
					if n.isInt() {
						x, err := strconv.ParseInt(n.str, 10, 32)
						ok = err == nil && x == int64(int32(x))
					}
				case "string":
					ok = n.kind == kString
				}
				if !ok {
					p.elemErr(ev, lv[0].where(), "enum-value-type", "enumValue %s does not match the Enum's valueSchema %s", n.str, want)
				}
			}
		}
		for _, t := range e.cotypes {
			ut := qtSemanticUnitType[t]
			if ut == "" {
				continue
			}
			if sv := e.vals("schema"); len(sv) > 0 && (e.lang.version == 2 || e.class != "Relationship") {
				if !numericTerms[sv[0].term] {
					p.elemErr(e, sv[0].where(), "semantic-schema", "semantic type %s requires a numeric schema (double, float, integer or long)", t)
				}
			}
			uv := e.vals("unit")
			if len(uv) == 0 {
				continue
			}
			u := uv[0].term
			found := false
			for _, x := range qtUnits[ut] {
				if x == u && (e.lang.version == 3 || v2Terms[u]) {
					found = true
				}
			}
			if !found {
				p.elemErr(e, uv[0].where(), "unit", "unit %q is not a %s, as semantic type %s requires", u, ut, t)
			}
		}
	}
}

// partition returns the Interface that contains e (e itself if it is one).
func partition(e *elem) *elem {
	for x := e; x != nil; x = x.parent {
		if x.class == "Interface" {
			return x
		}
	}
	return nil
}
