package dtdl

import "regexp"

// This file holds the DTDL metamodel as compact Go tables. Each fact comes
// from the machine-readable metamodels of the language
// (language/v2/metamodel/DTDL.v2.ModelRDF-SHACL.json and
// language/v3/metamodel/DTDL.v3.ModelRDF-SHACL.json in the shared DTDL
// corpus, Azure/opendigitaltwins-dtdl commit d19669a): classes, their
// superclasses, properties, cardinalities, datatypes, patterns and limits.

// propKind says how a property's values are written.
type propKind uint8

const (
	pLangString propKind = iota // rdf:langString: "x", {"en": "x"} or [{"@value","@language"}]
	pString                     // xsd:string literal
	pBool                       // xsd:boolean literal
	pInt                        // xsd:integer literal
	pLiteral                    // any literal (EnumValue.enumValue; checked later against valueSchema)
	pDuration                   // xsd:duration literal
	pIRI                        // a reference that is only an identifier (Relationship.target)
	pElement                    // a nested element or a reference to one (sh:class)
)

// propDef is one property constraint of a class (an sh:property shape).
type propDef struct {
	name      string
	kind      propKind
	classes   []string // acceptable classes of element values
	in        []string // acceptable instance terms (sh:in), if restricted
	min, max  int      // cardinality; max < 0 means unbounded
	maxLen    int      // maximum string length, 0 when unlimited
	pattern   *regexp.Regexp
	patDesc   string
	minIncl   *int64
	maxIncl   *int64
	iriOnly   bool   // sh:nodeKind sh:IRI: inline values need an @id
	infer     string // class assumed when an inline value has no @type (dtmm:typeInferable)
	unique    []string
	deprecate bool
	// older is true when the property also accepts elements of the previous
	// language version (sh:or of the ;3 and ;2 classes in the v3 metamodel).
	older bool
}

// classDef is one DTDL class (an sh:NodeShape).
type classDef struct {
	name     string
	super    string
	abstract bool
	props    []propDef
	// complex is true for ComplexSchema subclasses.
	complex bool
}

// langDef is one version of the language.
type langDef struct {
	version int
	classes map[string]*classDef
	// instances maps the terms that name instances (primitive schemas,
	// geospatial schemas, command types) to their class.
	instances map[string]string
	idPattern *regexp.Regexp
	// Limits (dtmm:descendants and friends).
	maxNameLen            int
	maxExtendsDepth       int
	maxExtendsCount       int // 0 = unlimited
	maxContents           int // v2: contents per Interface including inherited; 0 = unlimited
	maxDescendants        int // v3: elements in an Interface hierarchy
	maxSchemaDepth        int
	propertyNoArray       bool // v2: a Property's schema may not contain an Array
	defaultAllowUndefined bool
}

var (
	namePattern = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$`)
	dtmiV2      = regexp.MustCompile(`^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*;[1-9][0-9]{0,8}$`)
	dtmiV3      = regexp.MustCompile(`^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*(?:;[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,5})?)?$`)
	// dtmiAny accepts every DTMI form any version allows; it classifies
	// strings that are not terms.
	dtmiAny      = dtmiV3
	langPattern  = regexp.MustCompile(`^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{1,8})*$`)
	mqttTopic    = regexp.MustCompile(`^(?:(?:[!%-*,-.0-z|~][!$-*,-.0-z|~]*)|(?:{(?:[A-Za-z]+:)?[A-Za-z]+}))(?:\/(?:(?:[!$-*,-.0-z|~]+)|(?:{(?:[A-Za-z]+:)?[A-Za-z]+})))*$`)
	patternDescr = "contains only alphanumerics and underscore, starting with a letter, ending with alphanumeric"
)

func i64(v int64) *int64 { return &v }

// primitive schema terms (dtmi:dtdl:instance:Schema:*), their classes.
var primitiveTerms = map[string]string{
	"boolean": "Boolean", "date": "Date", "dateTime": "DateTime", "double": "Double",
	"duration": "Duration", "float": "Float", "integer": "Integer", "long": "Long",
	"string": "String", "time": "Time",
}

// geospatial schema terms; they are Object schemas defined by the language.
var geoTerms = map[string]bool{
	"point": true, "multiPoint": true, "lineString": true, "multiLineString": true,
	"polygon": true, "multiPolygon": true,
}

func buildLang(v int) *langDef {
	l := &langDef{version: v, classes: map[string]*classDef{}, instances: map[string]string{}}
	nameLen, dispLen := 64, 64
	if v == 3 {
		nameLen, dispLen = 512, 512
	}
	l.maxNameLen = nameLen
	l.maxExtendsDepth = 10
	l.maxSchemaDepth = 5
	if v == 2 {
		l.idPattern = dtmiV2
		l.maxContents = 300
		l.propertyNoArray = true
		l.defaultAllowUndefined = true
	} else {
		l.idPattern = dtmiV3
		l.maxExtendsCount = 1024
		l.maxDescendants = 100000
	}
	add := func(c *classDef) { l.classes[c.name] = c }
	unb := -1
	schemaClasses := []string{"Schema"}

	add(&classDef{name: "Entity", abstract: true, props: []propDef{
		{name: "displayName", kind: pLangString, max: unb, maxLen: dispLen},
		{name: "description", kind: pLangString, max: unb, maxLen: 512},
		{name: "comment", kind: pString, max: 1, maxLen: 512},
		// languageMajorVersion is reserved: sh:maxCount 0.
		{name: "languageMajorVersion", kind: pInt, max: 0},
	}})
	ifc := &classDef{name: "Interface", super: "Entity", props: []propDef{
		{name: "contents", kind: pElement, classes: []string{"Content"}, max: unb, unique: []string{"name"}},
		{name: "extends", kind: pElement, classes: []string{"Interface"}, max: unb, iriOnly: true},
		{name: "schemas", kind: pElement, classes: []string{"ComplexSchema"}, max: unb, iriOnly: true},
	}}
	if v == 2 {
		ifc.props[0].max = 300
		ifc.props[1].max = 2
	}
	add(ifc)
	add(&classDef{name: "NamedEntity", super: "Entity", abstract: true, props: []propDef{
		{name: "name", kind: pString, min: 1, max: 1, maxLen: nameLen, pattern: namePattern, patDesc: patternDescr},
	}})
	add(&classDef{name: "SchemaField", super: "NamedEntity", abstract: true, props: []propDef{
		{name: "schema", kind: pElement, classes: schemaClasses, min: 1, max: 1},
	}})
	add(&classDef{name: "Schema", super: "Entity", abstract: true})
	add(&classDef{name: "PrimitiveSchema", super: "Schema", abstract: true})
	add(&classDef{name: "NumericSchema", super: "PrimitiveSchema", abstract: true})
	add(&classDef{name: "TemporalSchema", super: "PrimitiveSchema", abstract: true})
	for _, c := range []string{"Boolean", "String"} {
		add(&classDef{name: c, super: "PrimitiveSchema"})
	}
	for _, c := range []string{"Double", "Float", "Integer", "Long"} {
		add(&classDef{name: c, super: "NumericSchema"})
	}
	for _, c := range []string{"Date", "DateTime", "Duration", "Time"} {
		add(&classDef{name: c, super: "TemporalSchema"})
	}
	add(&classDef{name: "ComplexSchema", super: "Schema", abstract: true, complex: true})
	add(&classDef{name: "Array", super: "ComplexSchema", complex: true, props: []propDef{
		{name: "elementSchema", kind: pElement, classes: schemaClasses, min: 1, max: 1},
	}})
	enum := &classDef{name: "Enum", super: "ComplexSchema", complex: true, props: []propDef{
		{name: "valueSchema", kind: pElement, classes: []string{"PrimitiveSchema"}, in: []string{"integer", "string"}, min: 1, max: 1, iriOnly: true},
		{name: "enumValues", kind: pElement, classes: []string{"EnumValue"}, max: unb, infer: "EnumValue", unique: []string{"name", "enumValue"}},
	}}
	if v == 2 {
		enum.props[1].min, enum.props[1].max = 1, 100
	}
	add(enum)
	add(&classDef{name: "EnumValue", super: "NamedEntity", props: []propDef{
		{name: "enumValue", kind: pLiteral, min: 1, max: 1},
	}})
	add(&classDef{name: "Map", super: "ComplexSchema", complex: true, props: []propDef{
		{name: "mapKey", kind: pElement, classes: []string{"MapKey"}, min: 1, max: 1, infer: "MapKey"},
		{name: "mapValue", kind: pElement, classes: []string{"MapValue"}, min: 1, max: 1, infer: "MapValue"},
	}})
	add(&classDef{name: "MapKey", super: "NamedEntity", props: []propDef{
		{name: "schema", kind: pElement, classes: []string{"String"}, in: []string{"string"}, min: 1, max: 1, iriOnly: true},
	}})
	add(&classDef{name: "MapValue", super: "SchemaField"})
	obj := &classDef{name: "Object", super: "ComplexSchema", complex: true, props: []propDef{
		{name: "fields", kind: pElement, classes: []string{"Field"}, max: unb, infer: "Field", unique: []string{"name"}},
	}}
	if v == 2 {
		obj.props[0].min, obj.props[0].max = 1, 30
	}
	add(obj)
	add(&classDef{name: "Field", super: "SchemaField"})
	add(&classDef{name: "Content", super: "NamedEntity", abstract: true})
	add(&classDef{name: "Component", super: "Content", props: []propDef{
		{name: "schema", kind: pElement, classes: []string{"Interface"}, min: 1, max: 1, iriOnly: true},
	}})
	add(&classDef{name: "Property", super: "Content", props: []propDef{
		{name: "schema", kind: pElement, classes: schemaClasses, min: 1, max: 1},
		{name: "writable", kind: pBool, max: 1},
	}})
	add(&classDef{name: "Telemetry", super: "Content", props: []propDef{
		{name: "schema", kind: pElement, classes: schemaClasses, min: 1, max: 1},
	}})
	cmd := &classDef{name: "Command", super: "Content", props: []propDef{
		{name: "request", kind: pElement, classes: []string{"CommandRequest"}, max: 1, infer: "CommandRequest"},
		{name: "response", kind: pElement, classes: []string{"CommandResponse"}, max: 1, infer: "CommandResponse"},
		{name: "commandType", kind: pElement, classes: []string{"CommandType"}, in: []string{"asynchronous", "synchronous"}, max: 1, iriOnly: true, deprecate: true},
	}}
	if v == 2 {
		cmd.props[0].classes, cmd.props[0].infer = []string{"CommandPayload"}, "CommandPayload"
		cmd.props[1].classes, cmd.props[1].infer = []string{"CommandPayload"}, "CommandPayload"
		add(&classDef{name: "CommandPayload", super: "SchemaField"})
	} else {
		add(&classDef{name: "CommandPayload", super: "SchemaField", abstract: true})
		add(&classDef{name: "CommandRequest", super: "CommandPayload"})
		add(&classDef{name: "CommandResponse", super: "CommandPayload"})
	}
	add(cmd)
	add(&classDef{name: "CommandType", super: "Entity"})
	rel := &classDef{name: "Relationship", super: "Content", props: []propDef{
		{name: "maxMultiplicity", kind: pInt, max: 1, minIncl: i64(1)},
		{name: "minMultiplicity", kind: pInt, max: 1, minIncl: i64(0), maxIncl: i64(0)},
		{name: "target", kind: pIRI, max: 1, maxLen: 2048, pattern: l.idPattern, patDesc: "must follow user DTMI syntax"},
		{name: "properties", kind: pElement, classes: []string{"Property"}, max: unb, unique: []string{"name"}},
		{name: "writable", kind: pBool, max: 1},
	}}
	if v == 2 {
		rel.props[0].maxIncl = i64(500)
		rel.props[3].max = 300
	}
	add(rel)
	add(&classDef{name: "Unit", super: "Entity", abstract: true, props: []propDef{
		{name: "symbol", kind: pString, max: 1},
	}})

	for t, c := range primitiveTerms {
		l.instances[t] = c
	}
	for t := range geoTerms {
		l.instances[t] = "Object"
	}
	if v == 2 {
		l.instances["vector"] = "Object"   // IoT Central partner schema
		l.instances["geopoint"] = "Object" // IoT Central partner schema
	}
	l.instances["asynchronous"] = "CommandType"
	l.instances["synchronous"] = "CommandType"
	if v == 3 {
		for _, cp := range [][2]string{{"Interface", "contents"}, {"Interface", "extends"}, {"SchemaField", "schema"},
			{"Array", "elementSchema"}, {"Enum", "valueSchema"}, {"MapKey", "schema"}, {"Component", "schema"},
			{"Property", "schema"}, {"Telemetry", "schema"}, {"Relationship", "properties"}} {
			for i := range l.classes[cp[0]].props {
				if l.classes[cp[0]].props[i].name == cp[1] {
					l.classes[cp[0]].props[i].older = true
				}
			}
		}
	}
	return l
}

var langs = map[int]*langDef{2: buildLang(2), 3: buildLang(3)}

// isA reports whether class c is cls or one of its subclasses.
func (l *langDef) isA(c, cls string) bool {
	for c != "" {
		if c == cls {
			return true
		}
		cd := l.classes[c]
		if cd == nil {
			return false
		}
		c = cd.super
	}
	return false
}

// prop finds the property definition named name on class c or its
// superclasses.
func (l *langDef) prop(c, name string) *propDef {
	for c != "" {
		cd := l.classes[c]
		if cd == nil {
			return nil
		}
		for i := range cd.props {
			if cd.props[i].name == name {
				return &cd.props[i]
			}
		}
		c = cd.super
	}
	return nil
}

// propNames are every property term of the language, used to tell an
// irrelevant term from an undefined one.
var dtdlPropTerms = map[string]bool{
	"commandType": true, "comment": true, "contents": true, "description": true, "displayName": true,
	"elementSchema": true, "enumValue": true, "enumValues": true, "exponent": true, "extends": true,
	"fields": true, "languageMajorVersion": true, "mapKey": true, "mapValue": true, "maxMultiplicity": true,
	"minMultiplicity": true, "name": true, "properties": true, "request": true, "response": true,
	"schema": true, "schemas": true, "symbol": true, "target": true, "valueSchema": true, "writable": true,
}

// dtdlClassTerms are the class terms of the core context of each version.
var dtdlClassTerms = map[int]map[string]bool{
	2: setOf("Array", "Boolean", "ComplexSchema", "Command", "CommandPayload", "CommandType", "Component",
		"Content", "Date", "DateTime", "Double", "Duration", "Entity", "Enum", "EnumValue", "Field", "Float",
		"Integer", "Interface", "Long", "Map", "MapKey", "MapValue", "NamedEntity", "NumericSchema", "Object",
		"PrimitiveSchema", "Property", "Relationship", "Schema", "SchemaField", "SemanticType", "SemanticUnit",
		"String", "Telemetry", "TemporalSchema", "Time", "Unit", "UnitAttribute"),
	3: setOf("AdjunctType", "Alias", "Array", "Boolean", "ComplexSchema", "Command", "CommandPayload",
		"CommandRequest", "CommandResponse", "CommandType", "Component", "Content", "Date", "DateTime", "Double",
		"Duration", "Entity", "Enum", "EnumValue", "Field", "Float", "Integer", "Interface", "LatentType", "Long",
		"Map", "MapKey", "MapValue", "NamedEntity", "NamedLatentType", "NumericSchema", "Object", "PrimitiveSchema",
		"Property", "Relationship", "Schema", "SchemaField", "SemanticType", "SemanticUnit", "String", "Telemetry",
		"TemporalSchema", "Time", "Unit", "UnitAttribute"),
}

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
