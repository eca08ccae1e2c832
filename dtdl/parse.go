package dtdl

import (
	"fmt"
	"strconv"
	"strings"
)

// Document is one model file: a name used in errors and its JSON text.
type Document struct {
	Name string
	Data []byte
}

// Options are the knobs of Parse. The zero value (or nil) means: undefined
// extensions disallowed in v3, no resolver, default limits.
type Options struct {
	// AllowUndefinedExtensions accepts @context entries that name extensions
	// the parser does not know, and the types and properties they could
	// define (the corpus option "AllowUndefinedExtensions"). DTDL v2 allows
	// them regardless, as its metamodel says.
	AllowUndefinedExtensions bool
	// Resolve, when set, is asked for the JSON text of a model that is
	// referenced but not supplied. It returns false when it does not know
	// the identifier; the reference is then reported as unresolved.
	Resolve func(id string) ([]byte, bool)
	// MaxDocumentSize rejects documents larger than this many bytes.
	// Zero means DefaultMaxDocumentSize.
	MaxDocumentSize int
	// MaxDepth rejects JSON nested deeper than this. Zero means DefaultMaxDepth.
	MaxDepth int
}

// Default limits for hostile input.
const (
	DefaultMaxDocumentSize = 32 << 20
	DefaultMaxDepth        = 128
)

// Parse parses, resolves and validates DTDL documents as one model set, so
// that references between documents resolve. Each document holds one JSON
// value: an Interface object or an array of them. On failure it returns a
// nil ModelSet and an *ErrorList holding every error found.
func Parse(docs []Document, opts *Options) (*ModelSet, error) {
	if opts == nil {
		opts = &Options{}
	}
	p := newParser(opts)
	for _, d := range docs {
		p.parseDocument(d)
	}
	p.resolveMissing()
	p.link()
	if len(p.errs.Errors) > 0 {
		p.errs.sortStable()
		return nil, &p.errs
	}
	ms := p.build()
	return ms, nil
}

// ParseOne is Parse for a single in-memory document.
func ParseOne(name string, data []byte, opts *Options) (*ModelSet, error) {
	return Parse([]Document{{Name: name, Data: data}}, opts)
}

// ctxState is the active JSON-LD context of an element.
type ctxState struct {
	version   int
	exts      uint8 // bit set of known extensions
	undefined bool  // an undefined extension context is in scope
}

const (
	extQT uint8 = 1 << iota
	extHistorization
	extAnnotation
	extOverriding
	extMqtt
	extIOTC
)

var extContexts = map[string]uint8{
	"dtmi:dtdl:extension:quantitativeTypes;1": extQT,
	"dtmi:dtdl:extension:historization;1":     extHistorization,
	"dtmi:dtdl:extension:annotation;1":        extAnnotation,
	"dtmi:dtdl:extension:overriding;1":        extOverriding,
	"dtmi:dtdl:extension:mqtt;1":              extMqtt,
}

// value is one parsed value of an element property.
type value struct {
	lit  *node    // literal node (after unwrapping @value)
	lang string   // language of a langString entry
	term string   // instance term, e.g. "double"
	ref  string   // DTMI reference to be resolved
	elem *elem    // inline element
	path string   // JSON path of an element or reference value
	at   lazyPath // JSON path of a literal value, built only when reported
}

// where returns the JSON path of the value.
func (v value) where() string {
	if v.path != "" {
		return v.path
	}
	return v.at.String()
}

// lazyPath is a JSON path of a property value, base.key[idx], kept in
// parts so the string is built only for an error message.
type lazyPath struct {
	base, key string
	idx       int // -1 when the value is not in an array
}

func (l lazyPath) String() string {
	if l.idx < 0 {
		return l.base + "." + l.key
	}
	return l.base + "." + l.key + "[" + strconv.Itoa(l.idx) + "]"
}

func (l lazyPath) index(i int) lazyPath {
	l.idx = i
	return l
}

// elem is one element as parsed, before it becomes part of the exported model.
type elem struct {
	doc     string
	path    string
	id      string
	hasID   bool
	class   string
	lang    *langDef
	ctx     ctxState
	cotypes []string // semantic and extension types, by term
	parent  *elem
	prop    string // property of parent holding this element
	props   []propVals
	out     any // built model object
}

// propVals are the values of one property of an element.
type propVals struct {
	name string
	vals []value
}

// vals returns the values of property name (nil when absent). Elements have
// few properties, so a slice beats a map here.
func (e *elem) vals(name string) []value {
	for i := range e.props {
		if e.props[i].name == name {
			return e.props[i].vals
		}
	}
	return nil
}

// ownerID is the @id of e or its nearest identified ancestor.
func (e *elem) ownerID() string {
	for x := e; x != nil; x = x.parent {
		if x.hasID {
			return x.id
		}
	}
	return ""
}

type reference struct {
	from *elem
	prop *propDef
	id   string
	path string
}

type parser struct {
	opts     *Options
	errs     ErrorList
	byID     map[string]*elem
	roots    []*elem
	all      []*elem
	refs     []reference
	tried    map[string]bool
	maxSize  int
	maxDepth int
}

func newParser(opts *Options) *parser {
	p := &parser{opts: opts, byID: map[string]*elem{}, tried: map[string]bool{}}
	p.maxSize = opts.MaxDocumentSize
	if p.maxSize <= 0 {
		p.maxSize = DefaultMaxDocumentSize
	}
	p.maxDepth = opts.MaxDepth
	if p.maxDepth <= 0 {
		p.maxDepth = DefaultMaxDepth
	}
	return p
}

func (p *parser) errorf(doc, id, path, rule, format string, args ...any) {
	p.errs.add(&Error{File: doc, ID: id, Path: path, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) elemErr(e *elem, path, rule, format string, args ...any) {
	p.errorf(e.doc, e.ownerID(), path, rule, format, args...)
}

func (p *parser) parseDocument(d Document) {
	if len(d.Data) > p.maxSize {
		p.errorf(d.Name, "", "$", "size-limit", "document is %d bytes, larger than the limit of %d bytes", len(d.Data), p.maxSize)
		return
	}
	root, err := parseJSON(d.Data, p.maxDepth)
	if err != nil {
		p.errorf(d.Name, "", "$", "json-syntax", "%v", err)
		return
	}
	switch root.kind {
	case kObject:
		p.parseRoot(d.Name, root, "$")
	case kArray:
		for i, n := range root.arr {
			path := "$[" + strconv.Itoa(i) + "]"
			if n.kind != kObject {
				p.errorf(d.Name, "", path, "root-shape", "each element of a top-level array must be a JSON object, not a %s", n.kind)
				continue
			}
			p.parseRoot(d.Name, n, path)
		}
	default:
		p.errorf(d.Name, "", "$", "root-shape", "a model document must be a JSON object or an array of objects, not a %s", root.kind)
	}
}

func (p *parser) parseRoot(doc string, n *node, path string) {
	c := n.get("@context")
	if c == nil {
		p.errorf(doc, idOf(n), path, "context-required", "a top-level element must have an @context naming the DTDL context (e.g. \"dtmi:dtdl:context;3\")")
		return
	}
	ctx, ok := p.rootContext(doc, idOf(n), path+".@context", c)
	if !ok {
		return
	}
	e := p.parseElem(doc, n, ctx, nil, nil, "", path, true)
	if e != nil {
		p.roots = append(p.roots, e)
	}
}

func idOf(n *node) string {
	if id := n.get("@id"); id != nil && id.kind == kString {
		return id.str
	}
	return ""
}

// contextEntries returns the strings of an @context value, or false.
func contextEntries(c *node) ([]string, bool) {
	switch c.kind {
	case kString:
		return []string{c.str}, true
	case kArray:
		out := make([]string, 0, len(c.arr))
		for _, x := range c.arr {
			if x.kind != kString {
				return nil, false
			}
			out = append(out, x.str)
		}
		return out, true
	}
	return nil, false
}

func dtdlContextVersion(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "dtmi:dtdl:context;")
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(rest)
	if err != nil {
		return -1, true
	}
	return v, true
}

func (p *parser) rootContext(doc, id, path string, c *node) (ctxState, bool) {
	entries, ok := contextEntries(c)
	if !ok {
		p.errorf(doc, id, path, "context-syntax", "@context must be a string or an array of strings")
		return ctxState{}, false
	}
	// The DTDL context comes first (a partner context such as IoT Central's
	// may precede it in v2); repeating it immediately is tolerated and the
	// last one wins.
	start := 0
	var pre []string
	for start < len(entries) && entries[start] == iotcContext {
		pre = append(pre, entries[start])
		start++
	}
	v, isDTDL := 0, false
	if start < len(entries) {
		v, isDTDL = dtdlContextVersion(entries[start])
	}
	if !isDTDL {
		first := ""
		if len(entries) > 0 {
			first = entries[0]
		}
		p.errorf(doc, id, path, "context-dtdl-first", "the first @context entry must be the DTDL context (e.g. \"dtmi:dtdl:context;3\"), not %q", first)
		return ctxState{}, false
	}
	for start+1 < len(entries) {
		v2, again := dtdlContextVersion(entries[start+1])
		if !again {
			break
		}
		v = v2
		start++
	}
	if langs[v] == nil {
		p.errorf(doc, id, path, "context-version", "DTDL context %q names an unsupported language version; this parser supports versions 2 and 3", entries[start])
		return ctxState{}, false
	}
	if len(pre) > 0 && v != 2 {
		p.errorf(doc, id, path, "context-dtdl-first", "the DTDL context must be the first @context entry")
		return ctxState{}, false
	}
	ctx := ctxState{version: v}
	ctx, ok = p.moreContext(doc, id, path, ctx, pre, 0)
	if !ok {
		return ctx, false
	}
	return p.moreContext(doc, id, path, ctx, entries[start+1:], start+1)
}

// maxPartitionBytes is the DTDL v3 limit on the text of one Interface
// (dtmm:partition dtmm:maxBytes in DTDL.v3.ModelRDF-SHACL.json).
const maxPartitionBytes = 1048576

const iotcContext = "dtmi:iotcentral:context;2"

// moreContext applies extension context entries to ctx.
func (p *parser) moreContext(doc, id, path string, ctx ctxState, entries []string, offset int) (ctxState, bool) {
	ok := true
	seen := map[string]bool{}
	for i, s := range entries {
		ep := path + "[" + strconv.Itoa(i+offset) + "]"
		if _, isDTDL := dtdlContextVersion(s); isDTDL {
			p.errorf(doc, id, ep, "context-dtdl-first", "the DTDL context may appear only at the start of the @context of a top-level element")
			ok = false
			continue
		}
		if !dtmiAny.MatchString(s) || !strings.Contains(s, ";") {
			p.errorf(doc, id, ep, "context-syntax", "@context entry %q must be a DTMI with a version", s)
			ok = false
			continue
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		if s == iotcContext && ctx.version == 2 {
			ctx.exts |= extIOTC
			continue
		}
		if bit, known := extContexts[s]; known && ctx.version >= 3 {
			ctx.exts |= bit
			continue
		}
		if base, _, _ := strings.Cut(s, ";"); strings.HasPrefix(base, "dtmi:dtdl:") {
			p.errorf(doc, id, ep, "context-extension", "%q is not a known version of a DTDL context or extension", s)
			ok = false
			continue
		}
		if !p.opts.AllowUndefinedExtensions {
			p.errorf(doc, id, ep, "context-undefined-extension", "@context names %q, which is not a known extension; set AllowUndefinedExtensions to accept it", s)
			ok = false
			continue
		}
		ctx.undefined = true
	}
	return ctx, ok
}

// typeCategory classifies an @type entry or a property key.
type typeCategory uint8

const (
	tMaterial   typeCategory = iota
	tSemantic                // semantic type (QuantitativeTypes or v2 core)
	tAdjunct                 // extension adjunct type, e.g. Historized
	tIrrelevant              // a defined term or DTMI that is not usable here
	tUndefinedTerm
	tNotDtmiNorTerm
	tInvalidDtmi
)

// resolveType resolves one @type string under ctx.
func resolveType(s string, ctx ctxState) (string, typeCategory) {
	l := langs[ctx.version]
	name := s
	if strings.HasPrefix(s, "dtmi:") {
		if !dtmiAny.MatchString(s) {
			return s, tInvalidDtmi
		}
		if rest, ok := strings.CutPrefix(s, "dtmi:dtdl:class:"); ok {
			n, v, _ := strings.Cut(rest, ";")
			if v != strconv.Itoa(ctx.version) {
				return s, tIrrelevant
			}
			name = n
		} else if rest, ok := strings.CutPrefix(s, "dtmi:dtdl:extension:quantitativeTypes:v1:class:"); ok && ctx.exts&extQT != 0 {
			name = rest
		} else if x, ok := extIRIs[s]; ok && ctx.exts&x.ext != 0 {
			name = x.term
		} else if rest, ok := strings.CutPrefix(s, "dtmi:standard:class:"); ok && strings.HasSuffix(rest, ";"+strconv.Itoa(ctx.version)) && isSemanticType(strings.TrimSuffix(rest, ";"+strconv.Itoa(ctx.version)), ctx) {
			return strings.TrimSuffix(rest, ";"+strconv.Itoa(ctx.version)), tSemantic
		} else {
			return s, tIrrelevant
		}
	} else if strings.Contains(s, ":") {
		return s, tNotDtmiNorTerm
	}
	if dtdlClassTerms[ctx.version][name] {
		if cd := l.classes[name]; cd != nil && !cd.abstract {
			return name, tMaterial
		}
		return name, tIrrelevant
	}
	if isSemanticType(name, ctx) {
		return name, tSemantic
	}
	switch {
	case name == "Historized" && ctx.exts&extHistorization != 0,
		name == "ValueAnnotation" && ctx.exts&extAnnotation != 0,
		name == "Override" && ctx.exts&extOverriding != 0,
		(name == "Mqtt" || name == "Idempotent" || name == "Cacheable" || name == "Indexed") && ctx.exts&extMqtt != 0,
		iotcTypes[name] && ctx.exts&extIOTC != 0:
		return name, tAdjunct
	}
	if isDefinedTerm(name, ctx) {
		return name, tIrrelevant
	}
	if strings.HasPrefix(s, "dtmi:") {
		return s, tIrrelevant
	}
	return s, tUndefinedTerm
}

func isSemanticType(name string, ctx ctxState) bool {
	if _, ok := qtSemanticUnitType[name]; !ok {
		return false
	}
	if ctx.version == 2 {
		return v2Terms[name]
	}
	return ctx.exts&extQT != 0
}

// isDefinedTerm reports whether name is a term of some active context.
func isDefinedTerm(name string, ctx ctxState) bool {
	if dtdlClassTerms[ctx.version][name] || dtdlPropTerms[name] || langs[ctx.version].instances[name] != "" {
		return true
	}
	if ctx.version == 2 {
		return v2Terms[name] || name == "unit"
	}
	if ctx.exts&extQT != 0 {
		if _, ok := qtUnits[name]; ok {
			return true
		}
		if _, ok := qtSymbols[name]; ok {
			return true
		}
		if name == "unit" || name == "QuantitativeType" {
			return true
		}
	}
	return false
}

// extIRIs maps the IRIs of extension terms (from the extension contexts,
// language/v3/context/DTDL.FeatureExtension.*.context.json) to the term and
// the extension that defines it, so models may write either form.
var extIRIs = map[string]struct {
	ext  uint8
	term string
}{
	"dtmi:dtdl:extension:quantitativeTypes:v1:property:unit":      {extQT, "unit"},
	"dtmi:dtdl:extension:historization:v1:Historized":             {extHistorization, "Historized"},
	"dtmi:dtdl:extension:annotation:v1:ValueAnnotation":           {extAnnotation, "ValueAnnotation"},
	"dtmi:dtdl:extension:annotation:v1:ValueAnnotation:annotates": {extAnnotation, "annotates"},
	"dtmi:dtdl:extension:overriding:v1:Override":                  {extOverriding, "Override"},
	"dtmi:dtdl:extension:overriding:v1:Override:overrides":        {extOverriding, "overrides"},
	"dtmi:dtdl:extension:mqtt:v1:Mqtt":                            {extMqtt, "Mqtt"},
	"dtmi:dtdl:extension:mqtt:v1:Idempotent":                      {extMqtt, "Idempotent"},
	"dtmi:dtdl:extension:mqtt:v1:Cacheable":                       {extMqtt, "Cacheable"},
	"dtmi:dtdl:extension:mqtt:v1:Indexed":                         {extMqtt, "Indexed"},
	"dtmi:dtdl:extension:mqtt:v1:Mqtt:telemetryTopic":             {extMqtt, "telemetryTopic"},
	"dtmi:dtdl:extension:mqtt:v1:Mqtt:commandTopic":               {extMqtt, "commandTopic"},
	"dtmi:dtdl:extension:mqtt:v1:Mqtt:payloadFormat":              {extMqtt, "payloadFormat"},
	"dtmi:dtdl:extension:mqtt:v1:Cacheable:ttl":                   {extMqtt, "ttl"},
	"dtmi:dtdl:extension:mqtt:v1:Indexed:index":                   {extMqtt, "index"},
}

// iotcTypes are the semantic types of the IoT Central partner extension of DTDL v2.
var iotcTypes = map[string]bool{"State": true, "Event": true, "Location": true, "VelocityVector": true, "AccelerationVector": true}

// semanticDomain reports whether a semantic type may co-type class.
func semanticDomain(l *langDef, class string) bool {
	if l.version == 2 {
		return class == "Property" || class == "Telemetry" || class == "Relationship"
	}
	return class == "Property" || class == "Telemetry" || l.isA(class, "SchemaField")
}

func adjunctDomain(l *langDef, t, class string) bool {
	switch t {
	case "Historized", "ValueAnnotation":
		return class == "Property" || class == "Telemetry"
	case "Override":
		return class == "Property"
	case "Mqtt":
		return class == "Interface"
	case "Idempotent", "Cacheable":
		return class == "Command"
	case "Indexed":
		return class == "Telemetry" || class == "Field" || class == "EnumValue"
	}
	if iotcTypes[t] {
		return class == "Property" || class == "Telemetry"
	}
	return false
}

// extraProps are properties contributed by co-types.
var (
	unitPropV3   = propDef{name: "unit", kind: pElement, min: 1, max: 1}
	unitPropV2   = propDef{name: "unit", kind: pElement, min: 1, max: 1}
	annotatesDef = propDef{name: "annotates", kind: pString, min: 1, max: 1}
	overridesDef = propDef{name: "overrides", kind: pString, min: 1, max: 1}
	iotcUnitDef  = propDef{name: "unit", kind: pElement, max: 1}
	mqttProps    = []propDef{
		{name: "telemetryTopic", kind: pString, max: 1, pattern: mqttTopic, patDesc: "slash-separated sequence of character-restricted labels and/or brace-enclosed tokens"},
		{name: "commandTopic", kind: pString, max: 1, pattern: mqttTopic, patDesc: "slash-separated sequence of character-restricted labels and/or brace-enclosed tokens"},
		{name: "payloadFormat", kind: pString, min: 1, max: 1},
	}
	ttlDef   = propDef{name: "ttl", kind: pDuration, min: 1, max: 1}
	indexDef = propDef{name: "index", kind: pInt, min: 1, max: 1, minIncl: i64(1)}
)

func cotypeProps(l *langDef, cotypes []string) []*propDef {
	var out []*propDef
	for _, t := range cotypes {
		switch {
		case qtSemanticUnitType[t] != "":
			if l.version == 2 {
				out = append(out, &unitPropV2)
			} else {
				out = append(out, &unitPropV3)
			}
		case t == "VelocityVector" || t == "AccelerationVector":
			out = append(out, &iotcUnitDef)
		case t == "ValueAnnotation":
			out = append(out, &annotatesDef)
		case t == "Override":
			out = append(out, &overridesDef)
		case t == "Mqtt":
			for i := range mqttProps {
				out = append(out, &mqttProps[i])
			}
		case t == "Cacheable":
			out = append(out, &ttlDef)
		case t == "Indexed":
			out = append(out, &indexDef)
		}
	}
	return out
}

// parseElem parses one element object. pd is the property holding it (nil
// for a top-level element).
func (p *parser) parseElem(doc string, n *node, ctx ctxState, pd *propDef, parent *elem, prop, path string, root bool) *elem {
	e := &elem{doc: doc, path: path, parent: parent, prop: prop}
	// Nested @context adds extensions.
	if !root {
		if c := n.get("@context"); c != nil {
			entries, ok := contextEntries(c)
			if !ok {
				p.errorf(doc, e.ownerID(), path+".@context", "context-syntax", "@context must be a string or an array of strings")
				return nil
			}
			var okc bool
			offset := 0
			if len(entries) > 0 {
				if v, isDTDL := dtdlContextVersion(entries[0]); isDTDL {
					if langs[v] == nil || v > ctx.version || (v < ctx.version && (pd == nil || !pd.older)) {
						p.errorf(doc, e.ownerID(), path+".@context", "context-version", "a nested @context may not switch to DTDL context %q inside a v%d model", entries[0], ctx.version)
						return nil
					}
					ctx = ctxState{version: v}
					entries, offset = entries[1:], 1
				}
			}
			ctx, okc = p.moreContext(doc, e.ownerID(), path+".@context", ctx, entries, offset)
			if !okc {
				return nil
			}
		}
	}
	e.ctx = ctx
	l := langs[ctx.version]
	e.lang = l

	// @id
	if idn := n.get("@id"); idn != nil {
		if idn.kind != kString {
			p.errorf(doc, parentID(parent), path+".@id", "id-syntax", "@id must be a string DTMI, not a %s", idn.kind)
			return nil
		}
		e.id, e.hasID = idn.str, true
		if !p.checkID(e, path+".@id", idn.str) {
			return nil
		}
	} else if root || (pd != nil && pd.iriOnly) {
		what := "a top-level element"
		if !root {
			what = "an element defined inline in \"" + pd.name + "\""
		}
		p.errorf(doc, parentID(parent), path, "id-required", "%s must have an @id", what)
		return nil
	}

	// @type
	typeNode := n.get("@type")
	var types []string
	if typeNode == nil {
		if pd == nil || pd.infer == "" {
			p.elemErr(e, path, "type-required", "element has no @type")
			return nil
		}
		types = []string{pd.infer}
	} else {
		switch typeNode.kind {
		case kString:
			types = []string{typeNode.str}
		case kArray:
			for _, t := range typeNode.arr {
				if t.kind != kString {
					p.elemErr(e, path+".@type", "type-syntax", "@type must be a string or an array of strings")
					return nil
				}
				types = append(types, t.str)
			}
		default:
			p.elemErr(e, path+".@type", "type-syntax", "@type must be a string or an array of strings")
			return nil
		}
	}
	if !p.classify(e, types, pd, root, path) {
		return nil
	}
	if e.class == "Interface" && l.version >= 3 && n.size > maxPartitionBytes {
		p.elemErr(e, path, "interface-size", "the JSON text of Interface %s is %d bytes; DTDL v3 allows %d", e.id, n.size, maxPartitionBytes)
		return nil
	}
	if e.hasID && e.class == "Interface" && len(e.id) > 128 {
		p.elemErr(e, path+".@id", "id-length", "an Interface @id may have at most 128 characters; it has %d", len(e.id))
		return nil
	}

	// Properties.
	extra := cotypeProps(l, e.cotypes)
	undefinedCotype := false
	for _, t := range e.cotypes {
		if t == "" {
			undefinedCotype = true
		}
	}
	okAll := true
	seenProp := smallMap{k: make([]string, 0, len(n.keys)), v: make([]string, 0, len(n.keys))}
	e.props = make([]propVals, 0, len(n.keys))
	for i, key := range n.keys {
		v := n.vals[i]
		kp := lazyPath{base: path, key: key, idx: -1}
		switch key {
		case "@context", "@id", "@type":
			continue
		}
		if strings.HasPrefix(key, "@") {
			if l.version == 2 && key != "@graph" {
				continue // DTDL v2 does not restrict JSON-LD keywords
			}
			p.elemErr(e, kp.String(), "keyword", "keyword %q is not allowed in a DTDL element", key)
			okAll = false
			continue
		}
		name := key
		if rest, ok := strings.CutPrefix(key, "dtmi:dtdl:property:"); ok {
			pn, ver, _ := strings.Cut(rest, ";")
			if ver == strconv.Itoa(ctx.version) {
				name = pn
			}
		} else if x, ok := extIRIs[key]; ok && ctx.exts&x.ext != 0 {
			name = x.term
		}
		var def *propDef
		if name != key || !strings.Contains(key, ":") {
			def = l.prop(e.class, name)
			if def == nil {
				for _, x := range extra {
					if x.name == name {
						def = x
					}
				}
			}
		}
		if def == nil {
			if !p.undefinedPropOK(e, key, undefinedCotype) {
				p.elemErr(e, kp.String(), "property-undefined", "%q is not a property of %s", key, e.class)
				okAll = false
			}
			continue
		}
		if prev, dup := seenProp.get(def.name); dup {
			p.elemErr(e, kp.String(), "property-duplicate", "property %q is given twice (as %q and %q)", def.name, prev, key)
			okAll = false
			continue
		}
		seenProp.set(def.name, key)
		vals, ok := p.parseProp(e, def, v, kp)
		if !ok {
			okAll = false
			continue
		}
		e.props = append(e.props, propVals{def.name, vals})
	}
	// Required properties.
	for c := e.class; c != ""; c = l.classes[c].super {
		for i := range l.classes[c].props {
			d := &l.classes[c].props[i]
			if d.min > 0 && len(e.vals(d.name)) < d.min {
				if _, given := seenProp.get(d.name); given {
					continue // already reported as a bad value
				}
				p.elemErr(e, path, "property-required", "%s requires property %q", e.class, d.name)
				okAll = false
			}
		}
	}
	for _, d := range extra {
		if _, given := seenProp.get(d.name); !given && d.min > 0 && len(e.vals(d.name)) < d.min {
			p.elemErr(e, path, "property-required", "co-type of %s requires property %q", e.class, d.name)
			okAll = false
		}
	}
	if !okAll {
		return e
	}
	p.all = append(p.all, e)
	if e.hasID {
		if prev := p.byID[e.id]; prev != nil {
			p.elemErr(e, path+".@id", "id-duplicate", "@id %q is already used by an element at %s in %s", e.id, prev.path, prev.doc)
		} else {
			p.byID[e.id] = e
		}
	}
	return e
}

func parentID(parent *elem) string {
	if parent == nil {
		return ""
	}
	return parent.ownerID()
}

// checkID validates an @id.
func (p *parser) checkID(e *elem, path, id string) bool {
	l := e.lang
	if len(id) > 2048 {
		p.elemErr(e, path, "id-length", "@id may have at most 2048 characters")
		return false
	}
	if !l.idPattern.MatchString(id) {
		if l.version == 2 && dtmiV3.MatchString(id) {
			p.elemErr(e, path, "id-syntax", "@id %q must be a DTMI with a version number (DTDL v2), e.g. \"dtmi:com:example:Thing;1\"", id)
		} else {
			p.elemErr(e, path, "id-syntax", "@id %q is not a valid DTMI", id)
		}
		return false
	}
	if strings.HasPrefix(id, "dtmi:dtdl:") || strings.HasPrefix(id, "dtmi:standard:") {
		p.elemErr(e, path, "id-reserved", "@id %q uses a reserved prefix (dtmi:dtdl: or dtmi:standard:)", id)
		return false
	}
	return true
}

// classify resolves the @type entries of e into its material class and co-types.
func (p *parser) classify(e *elem, types []string, pd *propDef, root bool, path string) bool {
	l := e.lang
	ctx := e.ctx
	var material string
	ok := true
	for _, t := range types {
		name, cat := resolveType(t, ctx)
		switch cat {
		case tMaterial:
			if material != "" && material != name {
				p.elemErr(e, path+".@type", "type-material", "@type names two classes, %s and %s; an element has exactly one", material, name)
				ok = false
			}
			material = name
		case tSemantic, tAdjunct:
			if !e.has(name) {
				e.cotypes = append(e.cotypes, name)
			}
		case tInvalidDtmi:
			p.elemErr(e, path+".@type", "type-invalid", "@type entry %q is not a valid DTMI", t)
			ok = false
		case tNotDtmiNorTerm:
			if l.version == 2 || ctx.undefined {
				if l.version == 2 {
					e.cotypes = append(e.cotypes, "")
					continue
				}
			}
			p.elemErr(e, path+".@type", "type-undefined", "@type entry %q is neither a DTMI nor a term", t)
			ok = false
		case tUndefinedTerm:
			if l.version == 2 || ctx.undefined {
				e.cotypes = append(e.cotypes, "")
				continue
			}
			p.elemErr(e, path+".@type", "type-undefined", "@type entry %q is not defined by any context in scope", t)
			ok = false
		case tIrrelevant:
			if ctx.undefined {
				e.cotypes = append(e.cotypes, "")
				continue
			}
			p.elemErr(e, path+".@type", "type-irrelevant", "@type entry %q cannot be used as a type here", t)
			ok = false
		}
	}
	if !ok {
		return false
	}
	if material == "" {
		p.elemErr(e, path+".@type", "type-material", "@type must name a DTDL class such as Interface, Property or Object")
		return false
	}
	e.class = material
	// The class must fit the position.
	allowed := []string{"Interface"}
	if pd != nil {
		allowed = pd.classes
	}
	fits := false
	for _, a := range allowed {
		if l.isA(material, a) {
			fits = true
		}
	}
	if !fits {
		where := "at the top level"
		if pd != nil {
			where = "in \"" + pd.name + "\""
		}
		p.elemErr(e, path+".@type", "type-position", "a %s is not allowed %s; expected %s", material, where, strings.Join(allowed, " or "))
		return false
	}
	semantics := 0
	for _, t := range e.cotypes {
		if qtSemanticUnitType[t] != "" {
			semantics++
			if semantics == 2 {
				p.elemErr(e, path+".@type", "type-cotype", "an element may have only one semantic type")
				ok = false
			}
		}
	}
	for _, t := range e.cotypes {
		switch {
		case t == "":
		case qtSemanticUnitType[t] != "":
			if !semanticDomain(l, material) {
				p.elemErr(e, path+".@type", "type-cotype", "semantic type %s cannot be applied to a %s", t, material)
				ok = false
			}
		default:
			if !adjunctDomain(l, t, material) {
				p.elemErr(e, path+".@type", "type-cotype", "%s cannot be applied to a %s", t, material)
				ok = false
			}
		}
	}
	return ok
}

// undefinedPropOK reports whether an unknown property key may be ignored.
func (p *parser) undefinedPropOK(e *elem, key string, undefinedCotype bool) bool {
	if !undefinedCotype {
		return false
	}
	if e.lang.version == 2 {
		return true
	}
	if strings.HasPrefix(key, "dtmi:") {
		return dtmiAny.MatchString(key)
	}
	return !strings.Contains(key, ":")
}

// parseProp parses the value of one property of e.
func (p *parser) parseProp(e *elem, d *propDef, v *node, lp lazyPath) ([]value, bool) {
	if d.kind == pLangString {
		return p.parseLangString(e, d, v, lp)
	}
	items := []*node{v}
	isArray := v.kind == kArray
	if isArray {
		items = v.arr
	}
	if v.kind == kNull {
		p.elemErr(e, lp.String(), "property-value", "property %q may not be null", d.name)
		return nil, false
	}
	if d.max >= 0 && len(items) > d.max {
		p.elemErr(e, lp.String(), "cardinality", "property %q allows at most %d value(s); it has %d", d.name, d.max, len(items))
		return nil, false
	}
	if len(items) < d.min {
		p.elemErr(e, lp.String(), "cardinality", "property %q needs at least %d value(s); it has %d", d.name, d.min, len(items))
		return nil, false
	}
	out := make([]value, 0, len(items))
	ok := true
	for i, it := range items {
		ilp := lp
		if isArray {
			ilp = lp.index(i)
		}
		var val value
		var good bool
		switch d.kind {
		case pElement:
			ip := ilp.String()
			val, good = p.parseElemValue(e, d, it, ip)
			val.path = ip
		case pIRI:
			ip := ilp.String()
			val, good = p.parseIRI(e, d, it, ip)
			val.path = ip
		default:
			val, good = p.parseLiteral(e, d, it, ilp)
			val.at = ilp
		}
		if !good {
			ok = false
			continue
		}
		out = append(out, val)
	}
	if !ok {
		return nil, false
	}
	if len(d.unique) > 0 && !p.checkUnique(e, d, out, lp.String()) {
		return nil, false
	}
	return out, true
}

func (p *parser) checkUnique(e *elem, d *propDef, vals []value, path string) bool {
	ok := true
	for _, u := range d.unique {
		seen := map[string]bool{}
		for _, v := range vals {
			if v.elem == nil {
				continue
			}
			x := v.elem.vals(u)
			if len(x) == 0 || x[0].lit == nil {
				continue
			}
			key := x[0].lit.kind.String() + ":" + x[0].lit.str
			if seen[key] {
				p.elemErr(e, v.where(), "unique-"+u, "%q value %s is used twice in %q", u, x[0].lit.str, d.name)
				ok = false
			}
			seen[key] = true
		}
	}
	return ok
}

func (p *parser) parseElemValue(e *elem, d *propDef, it *node, ip string) (value, bool) {
	l := e.lang
	switch it.kind {
	case kString:
		s := it.str
		if cls := l.instances[s]; cls != "" {
			return p.checkInstance(e, d, s, cls, ip)
		}
		if rest, ok := strings.CutPrefix(s, "dtmi:dtdl:extension:quantitativeTypes:v1:enum:"); ok && e.ctx.exts&extQT != 0 {
			s = rest
		}
		if _, isUnitType := qtUnits[s]; isUnitType && e.ctx.exts&extQT != 0 && s != "DecimalPrefix" && s != "BinaryPrefix" {
			// QuantitativeTypes unit types are string Enums usable as schemas.
			return p.checkInstance(e, d, s, "Enum", ip)
		}
		if d.name == "unit" {
			return p.unitValue(e, s, ip)
		}
		if rest, ok := strings.CutPrefix(s, "dtmi:standard:schema:geospatial:"); ok {
			name, ver, _ := strings.Cut(rest, ";")
			if geoTerms[name] && (ver == strconv.Itoa(l.version) || (d.older && ver == "2")) {
				return p.checkInstance(e, d, name, "Object", ip)
			}
		}
		if strings.HasPrefix(s, "dtmi:dtdl:instance:") {
			// dtmi:dtdl:instance:Schema:double;3 and friends.
			rest := strings.TrimPrefix(s, "dtmi:dtdl:instance:")
			kindPart, nameVer, _ := strings.Cut(rest, ":")
			name, ver, _ := strings.Cut(nameVer, ";")
			if (kindPart == "Schema" || kindPart == "CommandType") && (ver == strconv.Itoa(l.version) || (d.older && ver == "2")) {
				if cls := l.instances[name]; cls != "" {
					return p.checkInstance(e, d, name, cls, ip)
				}
			}
		}
		if !l.idPattern.MatchString(s) {
			if dtmiAny.MatchString(s) || strings.HasPrefix(s, "dtmi:") || strings.Contains(s, ":") {
				p.elemErr(e, ip, "reference-syntax", "%q in %q is not a valid DTMI reference", s, d.name)
			} else {
				p.elemErr(e, ip, "reference-term", "%q in %q is not a term this property accepts", s, d.name)
			}
			return value{}, false
		}
		if len(d.in) > 0 {
			p.elemErr(e, ip, "value-in", "%q must be one of %s, not %q", d.name, strings.Join(d.in, ", "), s)
			return value{}, false
		}
		p.refs = append(p.refs, reference{from: e, prop: d, id: s, path: ip})
		return value{ref: s}, true
	case kObject:
		if len(d.in) > 0 {
			p.elemErr(e, ip, "value-in", "%q must be one of %s", d.name, strings.Join(d.in, ", "))
			return value{}, false
		}
		child := p.parseElem(e.doc, it, e.ctx, d, e, d.name, ip, false)
		if child == nil {
			return value{}, false
		}
		return value{elem: child}, true
	}
	p.elemErr(e, ip, "property-value", "%q must be a string reference or an object, not a %s", d.name, it.kind)
	return value{}, false
}

func (p *parser) checkInstance(e *elem, d *propDef, term, cls string, ip string) (value, bool) {
	l := e.lang
	fits := false
	for _, c := range d.classes {
		if l.isA(cls, c) {
			fits = true
		}
	}
	if fits && len(d.in) > 0 {
		fits = false
		for _, x := range d.in {
			if x == term {
				fits = true
			}
		}
	}
	if !fits {
		p.elemErr(e, ip, "value-in", "%q is not an allowed value of %q", term, d.name)
		return value{}, false
	}
	return value{term: term}, true
}

func (p *parser) parseIRI(e *elem, d *propDef, it *node, ip string) (value, bool) {
	if it.kind != kString {
		p.elemErr(e, ip, "property-value", "%q must be a DTMI string, not a %s", d.name, it.kind)
		return value{}, false
	}
	if d.maxLen > 0 && len(it.str) > d.maxLen {
		p.elemErr(e, ip, "string-length", "%q may have at most %d characters", d.name, d.maxLen)
		return value{}, false
	}
	pat := d.pattern
	if pat == nil {
		pat = e.lang.idPattern
	}
	if !pat.MatchString(it.str) {
		p.elemErr(e, ip, "reference-syntax", "%q value %q %s", d.name, it.str, orDefault(d.patDesc, "must be a DTMI"))
		return value{}, false
	}
	return value{ref: it.str, lit: it}, true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// unwrapValue unwraps a JSON-LD value object {"@value": v, "@type": t}.
func (p *parser) unwrapValue(e *elem, d *propDef, it *node, ip lazyPath) (*node, bool) {
	if it.kind != kObject {
		return it, true
	}
	val := it.get("@value")
	if val == nil {
		p.elemErr(e, ip.String(), "literal-syntax", "%q must be a literal value or an object with \"@value\"", d.name)
		return nil, false
	}
	for i, k := range it.keys {
		switch k {
		case "@value":
		case "@type":
			t := it.vals[i]
			if t.kind == kArray && len(t.arr) == 1 {
				t = t.arr[0]
			}
			want := map[propKind]string{pString: "xsd:string", pBool: "xsd:boolean", pInt: "xsd:integer", pDuration: "xsd:duration"}[d.kind]
			if d.kind == pLiteral && val.kind == kString {
				want = "xsd:string"
			} else if d.kind == pLiteral && val.kind == kNumber {
				want = "xsd:integer"
			}
			if t.kind != kString || want == "" || (t.str != want && t.str != "http://www.w3.org/2001/XMLSchema#"+strings.TrimPrefix(want, "xsd:")) {
				p.elemErr(e, ip.String()+".@type", "literal-type", "@type of the %q value must be %s", d.name, orDefault(want, "the datatype of the property"))
				return nil, false
			}
		default:
			if e.lang.version == 2 && strings.HasPrefix(k, "@") && k != "@id" && k != "@context" && k != "@graph" {
				continue // DTDL v2 does not restrict JSON-LD keywords
			}
			p.elemErr(e, ip.String()+"."+k, "literal-syntax", "a value object may hold only @value and @type, not %q", k)
			return nil, false
		}
	}
	return val, true
}

func (p *parser) parseLiteral(e *elem, d *propDef, it *node, ip lazyPath) (value, bool) {
	n, ok := p.unwrapValue(e, d, it, ip)
	if !ok {
		return value{}, false
	}
	switch d.kind {
	case pString, pDuration:
		if n.kind != kString {
			p.elemErr(e, ip.String(), "datatype", "%q must be a string, not a %s", d.name, n.kind)
			return value{}, false
		}
		if d.maxLen > 0 && len([]rune(n.str)) > d.maxLen {
			p.elemErr(e, ip.String(), "string-length", "%q may have at most %d characters; it has %d", d.name, d.maxLen, len([]rune(n.str)))
			return value{}, false
		}
		if d.pattern != nil && !d.pattern.MatchString(n.str) {
			p.elemErr(e, ip.String(), "pattern", "%q value %q must match: %s", d.name, n.str, orDefault(d.patDesc, d.pattern.String()))
			return value{}, false
		}
		if d.kind == pDuration && !durationPattern.MatchString(n.str) {
			p.elemErr(e, ip.String(), "datatype", "%q must be an ISO 8601 duration", d.name)
			return value{}, false
		}
	case pBool:
		if n.kind != kBool {
			p.elemErr(e, ip.String(), "datatype", "%q must be true or false, not a %s", d.name, n.kind)
			return value{}, false
		}
	case pInt:
		if !n.isInt() {
			p.elemErr(e, ip.String(), "datatype", "%q must be an integer", d.name)
			return value{}, false
		}
		x, err := strconv.ParseInt(n.str, 10, 64)
		if err != nil {
			p.elemErr(e, ip.String(), "datatype", "%q value %s is out of range", d.name, n.str)
			return value{}, false
		}
		if d.minIncl != nil && x < *d.minIncl {
			p.elemErr(e, ip.String(), "value-range", "%q must be at least %d; it is %d", d.name, *d.minIncl, x)
			return value{}, false
		}
		if d.maxIncl != nil && x > *d.maxIncl {
			p.elemErr(e, ip.String(), "value-range", "%q must be at most %d; it is %d", d.name, *d.maxIncl, x)
			return value{}, false
		}
	case pLiteral:
		if n.kind != kString && n.kind != kNumber && n.kind != kBool {
			p.elemErr(e, ip.String(), "datatype", "%q must be a literal value, not a %s", d.name, n.kind)
			return value{}, false
		}
	}
	return value{lit: n}, true
}

func (p *parser) parseLangString(e *elem, d *propDef, v *node, path lazyPath) ([]value, bool) {
	var out []value
	checkLen := func(s string, ip lazyPath) bool {
		if d.maxLen > 0 && len([]rune(s)) > d.maxLen {
			p.elemErr(e, ip.String(), "string-length", "%q may have at most %d characters; it has %d", d.name, d.maxLen, len([]rune(s)))
			return false
		}
		return true
	}
	langs := map[string]bool{}
	addLang := func(lang, s string, ip lazyPath) bool {
		if lang != "" && !langPattern.MatchString(lang) {
			p.elemErr(e, ip.String(), "language-tag", "%q is not a valid language code", lang)
			return false
		}
		key := lang
		if key == "" {
			key = "en" // the default language
		}
		if langs[key] {
			if lang == "" {
				p.elemErr(e, ip.String(), "language-unique", "%q may have only one string without a language", d.name)
			} else {
				p.elemErr(e, ip.String(), "language-unique", "%q has two strings for language %q", d.name, lang)
			}
			return false
		}
		langs[key] = true
		if !checkLen(s, ip) {
			return false
		}
		out = append(out, value{lit: &node{kind: kString, str: s}, lang: lang, at: ip})
		return true
	}
	switch v.kind {
	case kString:
		if !addLang("", v.str, path) {
			return nil, false
		}
	case kObject:
		if v.get("@value") != nil {
			p.elemErr(e, path.String(), "literal-syntax", "%q must be a string, a language map or an array; a bare value object is not allowed", d.name)
			return nil, false
		}
		for i, k := range v.keys {
			x := v.vals[i]
			if x.kind != kString {
				p.elemErr(e, path.String()+"."+k, "datatype", "each value of %q must be a string, not a %s", d.name, x.kind)
				return nil, false
			}
			if !langPattern.MatchString(k) {
				p.elemErr(e, path.String()+"."+k, "language-tag", "%q is not a valid language code", k)
				return nil, false
			}
			if !addLang(k, x.str, path) {
				return nil, false
			}
		}
	case kArray:
		for i, x := range v.arr {
			ip := path.index(i)
			switch x.kind {
			case kString:
				if !addLang("", x.str, ip) {
					return nil, false
				}
			case kObject:
				if !p.langValueObject(e, d, x, ip, addLang) {
					return nil, false
				}
			default:
				p.elemErr(e, ip.String(), "datatype", "each entry of %q must be a string or an object with @value and @language", d.name)
				return nil, false
			}
		}
	default:
		p.elemErr(e, path.String(), "datatype", "%q must be a string, a language map or an array, not a %s", d.name, v.kind)
		return nil, false
	}
	return out, true
}

func (p *parser) langValueObject(e *elem, d *propDef, x *node, ip lazyPath, add func(lang, s string, ip lazyPath) bool) bool {
	val := x.get("@value")
	if val == nil {
		p.elemErr(e, ip.String(), "literal-syntax", "an entry of %q must have \"@value\"", d.name)
		return false
	}
	if val.kind != kString {
		p.elemErr(e, ip.String()+".@value", "datatype", "@value of %q must be a string", d.name)
		return false
	}
	lang := ""
	for i, k := range x.keys {
		switch k {
		case "@value":
		case "@language":
			if x.vals[i].kind != kString {
				p.elemErr(e, ip.String()+".@language", "language-tag", "@language must be a string")
				return false
			}
			lang = x.vals[i].str
			if !langPattern.MatchString(lang) {
				p.elemErr(e, ip.String()+".@language", "language-tag", "%q is not a valid language code", lang)
				return false
			}
		default:
			if e.lang.version == 2 && strings.HasPrefix(k, "@") && k != "@id" && k != "@context" && k != "@graph" {
				continue // DTDL v2 does not restrict JSON-LD keywords
			}
			p.elemErr(e, ip.String()+"."+k, "literal-syntax", "an entry of %q may hold only @value and @language, not %q", d.name, k)
			return false
		}
	}
	return add(lang, val.str, ip)
}

// unitValue parses a unit reference: a unit term or its standard DTMI.
func (p *parser) unitValue(e *elem, s, ip string) (value, bool) {
	name := s
	for _, prefix := range []string{"dtmi:standard:unit:", "dtmi:dtdl:extension:quantitativeTypes:v1:unit:"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			name = rest
			if prefix == "dtmi:standard:unit:" {
				n, ver, _ := strings.Cut(rest, ";")
				if ver != strconv.Itoa(e.lang.version) {
					name = s
				} else {
					name = n
				}
			}
		}
	}
	if _, ok := qtSymbols[name]; !ok || (e.lang.version == 2 && !v2Terms[name]) {
		p.elemErr(e, ip, "unit", "%q is not a unit", s)
		return value{}, false
	}
	return value{term: name}, true
}

// smallMap is a tiny string map for the handful of keys of one element.
type smallMap struct{ k, v []string }

func (m *smallMap) get(k string) (string, bool) {
	for i, x := range m.k {
		if x == k {
			return m.v[i], true
		}
	}
	return "", false
}

func (m *smallMap) set(k, v string) {
	m.k = append(m.k, k)
	m.v = append(m.v, v)
}
