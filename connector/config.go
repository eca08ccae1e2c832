package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"lodestone/twin"
)

// Config is a connectors file: the connectors a server runs.
type Config struct {
	Connectors []Spec `json:"connectors"`
}

// Spec configures one connector.
type Spec struct {
	// ID names the connector in its status and dead letters.
	ID string `json:"id"`
	// Kind is "mqtt" or "opcua".
	Kind string `json:"kind"`
	// Broker is the MQTT broker URL (tcp://host:1883).
	Broker   string `json:"broker,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// QoS of the MQTT subscriptions (0, 1 or 2; default 1).
	QoS *int `json:"qos,omitempty"`
	// Endpoint is the OPC UA endpoint (opc.tcp://host:4840).
	Endpoint string `json:"endpoint,omitempty"`
	// IntervalMs is the OPC UA publishing interval (default 100).
	IntervalMs float64 `json:"intervalMs,omitempty"`
	// Queue bounds the values waiting to be written (default 10000);
	// Batch is the most values written at once (default 500).
	Queue int `json:"queue,omitempty"`
	Batch int `json:"batch,omitempty"`
	// DeadLetters bounds the dead letters kept (default 1000).
	DeadLetters int       `json:"deadLetters,omitempty"`
	Mappings    []Mapping `json:"mappings"`
	// Org is the org of the connector twin the spec was read from: the
	// connector writes as a principal of that org (a writer). A connector
	// of the connectors file, given by the operator, has none.
	Org string `json:"-"`
}

// Mapping maps one source (an MQTT topic template or an OPC UA node id)
// to a twin's telemetry or property.
type Mapping struct {
	// Topic is an MQTT topic template: literal levels and the
	// placeholders {twin}, {telemetry}, {property} and {component}, each a
	// whole level ("plant/{twin}/{telemetry}").
	Topic string `json:"topic,omitempty"`
	// NodeID is an OPC UA node id ("ns=1;s=FT-101").
	NodeID string `json:"nodeId,omitempty"`
	// Twin, Component, Telemetry and Property name the target when the
	// topic does not; exactly one of Telemetry and Property is set.
	Twin      string `json:"twin,omitempty"`
	Component string `json:"component,omitempty"`
	Telemetry string `json:"telemetry,omitempty"`
	Property  string `json:"property,omitempty"`
	// ValuePath is a dotted path to the value in a JSON payload ("" for a
	// payload that is the value itself); TimePath to its source time (an
	// RFC 3339 string or Unix milliseconds; "" for the arrival time).
	ValuePath string `json:"valuePath,omitempty"`
	TimePath  string `json:"timePath,omitempty"`
	// Unit is the unit the source sends in (a DTDL unit name such as
	// "degreeFahrenheit"), or UnitPath a path to it in the payload. The
	// value is converted to the unit the model declares.
	Unit     string `json:"unit,omitempty"`
	UnitPath string `json:"unitPath,omitempty"`
	// Type is the value type the source sends: "double" (default),
	// "integer", "boolean" or "string". It is checked against the
	// target's schema when the connector starts.
	Type string `json:"type,omitempty"`
}

// DecodeStrict decodes the JSON object of a configuration file named
// what into v: unknown fields and trailing data are errors, so a misspelt
// key never silently weakens a configuration.
func DecodeStrict(b []byte, what string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: trailing data after the JSON object", what)
	}
	return nil
}

// DecodeConfig parses and checks a connectors file. Errors name the field
// (connectors[0].mappings[2].topic) and the reason.
func DecodeConfig(b []byte) (Config, error) {
	var c Config
	if err := DecodeStrict(b, "connectors", &c); err != nil {
		return Config{}, err
	}
	seen := map[string]bool{}
	for i := range c.Connectors {
		s := &c.Connectors[i]
		f := fmt.Sprintf("connectors[%d]", i)
		if err := s.check(f); err != nil {
			return Config{}, err
		}
		if seen[s.ID] {
			return Config{}, fmt.Errorf("%s.id: %q is used twice", f, s.ID)
		}
		seen[s.ID] = true
	}
	return c, nil
}

func (s *Spec) check(f string) error {
	if s.ID == "" || strings.ContainsAny(s.ID, "/ ") {
		return fmt.Errorf("%s.id: %q must be non-empty without '/' or spaces", f, s.ID)
	}
	switch s.Kind {
	case "mqtt":
		if s.Broker == "" {
			return fmt.Errorf("%s.broker: required for an mqtt connector (tcp://host:1883)", f)
		}
		if s.QoS != nil && (*s.QoS < 0 || *s.QoS > 2) {
			return fmt.Errorf("%s.qos: %d is not 0, 1 or 2", f, *s.QoS)
		}
	case "opcua":
		if !strings.HasPrefix(s.Endpoint, "opc.tcp://") {
			return fmt.Errorf("%s.endpoint: %q is not an opc.tcp:// URL", f, s.Endpoint)
		}
		if s.IntervalMs < 0 {
			return fmt.Errorf("%s.intervalMs: %v is negative", f, s.IntervalMs)
		}
	default:
		return fmt.Errorf("%s.kind: %q is not mqtt or opcua", f, s.Kind)
	}
	for name, v := range map[string]int{"queue": s.Queue, "batch": s.Batch, "deadLetters": s.DeadLetters} {
		if v < 0 {
			return fmt.Errorf("%s.%s: %d is negative", f, name, v)
		}
	}
	if s.Queue == 0 {
		s.Queue = 10000
	}
	if s.Batch == 0 {
		s.Batch = 500
	}
	if s.DeadLetters == 0 {
		s.DeadLetters = 1000
	}
	if s.IntervalMs == 0 {
		s.IntervalMs = 100
	}
	if len(s.Mappings) == 0 {
		return fmt.Errorf("%s.mappings: a connector needs at least one mapping", f)
	}
	for j := range s.Mappings {
		if err := s.Mappings[j].check(fmt.Sprintf("%s.mappings[%d]", f, j), s.Kind); err != nil {
			return err
		}
	}
	return nil
}

func (m *Mapping) check(f, kind string) error {
	holes := map[string]bool{}
	switch kind {
	case "mqtt":
		if m.Topic == "" {
			return fmt.Errorf("%s.topic: required for an mqtt mapping", f)
		}
		if m.NodeID != "" {
			return fmt.Errorf("%s.nodeId: an mqtt mapping takes a topic, not a node id", f)
		}
		t, err := parseTemplate(m.Topic)
		if err != nil {
			return fmt.Errorf("%s.topic: %v", f, err)
		}
		for _, h := range t.holes {
			holes[h] = true
		}
	case "opcua":
		if m.NodeID == "" {
			return fmt.Errorf("%s.nodeId: required for an opcua mapping", f)
		}
		if m.Topic != "" {
			return fmt.Errorf("%s.topic: an opcua mapping takes a node id, not a topic", f)
		}
	}
	if m.Twin == "" && !holes["twin"] {
		return fmt.Errorf("%s.twin: required (or a {twin} level in the topic)", f)
	}
	tel := m.Telemetry != "" || holes["telemetry"]
	prop := m.Property != "" || holes["property"]
	if tel == prop {
		return fmt.Errorf("%s.telemetry: exactly one of telemetry and property (or its topic level) is required", f)
	}
	switch m.Type {
	case "":
		m.Type = "double"
	case "double", "integer", "boolean", "string":
	default:
		return fmt.Errorf("%s.type: %q is not double, integer, boolean or string", f, m.Type)
	}
	if m.Unit != "" && m.UnitPath != "" {
		return fmt.Errorf("%s.unitPath: give unit or unitPath, not both", f)
	}
	if m.Unit != "" && !knownUnit(m.Unit) {
		return fmt.Errorf("%s.unit: %q is not a unit this connector converts (%s)", f, m.Unit, unitList())
	}
	for name, p := range map[string]string{"valuePath": m.ValuePath, "timePath": m.TimePath, "unitPath": m.UnitPath} {
		if strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
			return fmt.Errorf("%s.%s: %q has an empty element", f, name, p)
		}
	}
	return nil
}

// template is a parsed MQTT topic template.
type template struct {
	levels []string // literal levels, or "{name}" for a placeholder
	holes  []string
}

func parseTemplate(s string) (template, error) {
	var t template
	seen := map[string]bool{}
	for _, l := range strings.Split(s, "/") {
		switch {
		case strings.HasPrefix(l, "{") && strings.HasSuffix(l, "}"):
			name := l[1 : len(l)-1]
			switch name {
			case "twin", "telemetry", "property", "component":
			default:
				return t, fmt.Errorf("placeholder {%s} is not {twin}, {telemetry}, {property} or {component}", name)
			}
			if seen[name] {
				return t, fmt.Errorf("placeholder {%s} appears twice", name)
			}
			seen[name] = true
			t.holes = append(t.holes, name)
		case strings.ContainsAny(l, "{}+#"):
			return t, fmt.Errorf("level %q: a placeholder must be a whole level and wildcards are not allowed", l)
		}
		t.levels = append(t.levels, l)
	}
	if seen["telemetry"] && seen["property"] {
		return t, fmt.Errorf("{telemetry} and {property} may not both appear")
	}
	return t, nil
}

// filter is the MQTT subscription filter of the template.
func (t template) filter() string {
	out := make([]string, len(t.levels))
	for i, l := range t.levels {
		if strings.HasPrefix(l, "{") {
			out[i] = "+"
		} else {
			out[i] = l
		}
	}
	return strings.Join(out, "/")
}

// holes are the placeholder values of a matched topic.
type holes struct {
	twin, telemetry, property, component string
}

// match returns the placeholder values of a topic, or false. It does not
// allocate: it runs once or more per MQTT message.
func (t template) match(topic string) (holes, bool) {
	var h holes
	rest := topic
	for i, l := range t.levels {
		part, tail, more := strings.Cut(rest, "/")
		if more != (i < len(t.levels)-1) {
			return holes{}, false // fewer or more levels than the template
		}
		rest = tail
		if len(l) > 1 && l[0] == '{' {
			if part == "" {
				return holes{}, false
			}
			switch l {
			case "{twin}":
				h.twin = part
			case "{telemetry}":
				h.telemetry = part
			case "{property}":
				h.property = part
			case "{component}":
				h.component = part
			}
		} else if l != part {
			return holes{}, false
		}
	}
	return h, true
}

// Model is the model of connectors configured as twins: a twin of it (or
// of a model that extends it) holds one connector's Spec in properties of
// the same names, its id being the connector's.
const Model = "dtmi:lodestone:Connector;1"

// SpecFromTwin reads the Spec of a connector twin: its properties are the
// fields of a connectors file's entry (kind, broker, mappings, …; unknown
// ones are errors), its id is the connector's id, and "enabled" false
// (ok false) turns it off. Errors name the twin and the field.
func SpecFromTwin(t twin.Twin) (s Spec, ok bool, err error) {
	f := fmt.Sprintf("twin %s", t.ID)
	props := make(map[string]any, len(t.Properties)+1)
	for k, v := range t.Properties {
		props[k] = v
	}
	if en, has := props["enabled"]; has {
		b, isBool := en.(bool)
		if !isBool {
			return Spec{}, false, fmt.Errorf("%s: enabled: want a boolean", f)
		}
		if !b {
			return Spec{}, false, nil
		}
		delete(props, "enabled")
	}
	if _, has := props["password"]; has {
		return Spec{}, false, fmt.Errorf("%s.password: passwords are not kept in twins, which every reader sees (use the connectors file)", f)
	}
	props["id"] = string(t.ID)
	b, err := json.Marshal(props)
	if err != nil {
		return Spec{}, false, fmt.Errorf("%s: %v", f, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, false, fmt.Errorf("%s: %v", f, err)
	}
	if err := s.check(f); err != nil {
		return Spec{}, false, err
	}
	s.Org = t.Metadata.Org
	return s, true, nil
}
