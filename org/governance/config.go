package governance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Config says which subjects are governed: the file of `serve --govern`.
type Config struct {
	// Models are model ids (DTMIs) whose changes (upload, decommission,
	// delete) are governed. An id without a version ("dtmi:x:Mine")
	// covers every version of it.
	Models []string `json:"models,omitempty"`
	// Twins are twin ids: every write to the twin and to its outgoing
	// relationships is governed (world data, a plant's whole twin).
	Twins []string `json:"twins,omitempty"`
	// Properties are single properties (engine parameters, plant
	// set-points): a write that changes one is governed.
	Properties []Property `json:"properties,omitempty"`
	// MinReviews is how many approving reviews, by principals other than
	// the author and the approver, an approval needs (0: 1).
	MinReviews int `json:"min_reviews,omitempty"`
}

// Property names a governed property: Path (a JSON pointer into the
// twin's properties, "/capacityTonnesPerYear") of the twin Twin or of
// every twin of the model Model (exactly one of them; a model id without
// a version covers every version).
type Property struct {
	Twin  string `json:"twin,omitempty"`
	Model string `json:"model,omitempty"`
	Path  string `json:"path"`
}

// FieldError reports bad input at a JSON path such as "properties[1].path".
type FieldError struct {
	Field, Msg string
}

// Error returns "governance: FIELD: MSG".
func (e *FieldError) Error() string { return "governance: " + e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// strict decodes data into v rejecting unknown fields and trailing data.
func strict(data []byte, v any, field string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return fieldErr(ute.Field, "want %s, got JSON %s", ute.Type, ute.Value)
		}
		return fieldErr(field, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return fieldErr(field, "trailing data after the document")
	}
	return nil
}

// DecodeConfig decodes and checks a governance file strictly.
func DecodeConfig(data []byte) (*Config, error) {
	var c Config
	if err := strict(data, &c, "config"); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the configuration; the error names the field.
func (c *Config) Validate() error {
	for i, m := range c.Models {
		if !strings.HasPrefix(m, "dtmi:") {
			return fieldErr(fmt.Sprintf("models[%d]", i), "%q is not a model id (want dtmi:…)", m)
		}
	}
	for i, t := range c.Twins {
		if t == "" {
			return fieldErr(fmt.Sprintf("twins[%d]", i), "empty twin id")
		}
	}
	for i, p := range c.Properties {
		f := fmt.Sprintf("properties[%d]", i)
		if (p.Twin == "") == (p.Model == "") {
			return fieldErr(f, "want exactly one of twin and model")
		}
		if p.Model != "" && !strings.HasPrefix(p.Model, "dtmi:") {
			return fieldErr(f+".model", "%q is not a model id (want dtmi:…)", p.Model)
		}
		if len(p.Path) < 2 || p.Path[0] != '/' {
			return fieldErr(f+".path", "%q is not a JSON pointer to a property (want /name)", p.Path)
		}
	}
	if c.MinReviews < 0 {
		return fieldErr("min_reviews", "must be >= 0")
	}
	return nil
}

// Empty reports whether nothing is governed.
func (c *Config) Empty() bool {
	return c == nil || len(c.Models) == 0 && len(c.Twins) == 0 && len(c.Properties) == 0
}

func (c *Config) minReviews() int {
	if c == nil || c.MinReviews == 0 {
		return 1
	}
	return c.MinReviews
}

// Target describes a write for Governs.
type Target struct {
	// Kind is "model", "twin" or "relationship".
	Kind string
	// Models are the model ids a model write stores, decommissions or
	// deletes.
	Models []string
	// Twin is the twin written, or a relationship's source; TwinModel its
	// model (the stored one, or the new one when it is created).
	Twin      string
	TwinModel string
	// Paths are the JSON pointers of the properties whose value the write
	// changes (a patch's paths, or the properties a replace changes); All
	// says the write changes the whole twin (create or delete).
	Paths []string
	All   bool
}

// sameModel reports whether a model id matches a configured one: equal,
// or the configured one has no version and id is one of its versions.
func sameModel(conf, id string) bool {
	if conf == id {
		return true
	}
	return !strings.Contains(conf, ";") && strings.HasPrefix(id, conf+";")
}

// overlaps reports whether two JSON pointers name the same property or one
// contains the other.
func overlaps(a, b string) bool {
	if a == b {
		return true
	}
	return strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// Governs returns the first governed subject a write touches ("model
// dtmi:…", "twin ID", "property ID/path"), or ok false.
func (c *Config) Governs(t Target) (subject string, ok bool) {
	if c.Empty() {
		return "", false
	}
	switch t.Kind {
	case "model":
		for _, id := range t.Models {
			for _, m := range c.Models {
				if sameModel(m, id) {
					return "model " + id, true
				}
			}
		}
		return "", false
	case "twin", "relationship":
	default:
		return "", false
	}
	if slices.Contains(c.Twins, t.Twin) {
		return "twin " + t.Twin, true
	}
	if t.Kind != "twin" {
		return "", false
	}
	for _, p := range c.Properties {
		if p.Twin != "" && p.Twin != t.Twin || p.Model != "" && !sameModel(p.Model, t.TwinModel) {
			continue
		}
		if t.All {
			return "property " + t.Twin + p.Path, true
		}
		for _, q := range t.Paths {
			if overlaps(p.Path, q) {
				return "property " + t.Twin + p.Path, true
			}
		}
	}
	return "", false
}
