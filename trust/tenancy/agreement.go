package tenancy

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Agreement is a sharing agreement: the owner org shows the twins of some
// of its models, with only some properties and relationship names, to one
// other org until it expires or is deleted.
type Agreement struct {
	// ID names the agreement (the {id} of PUT /sharing/{id}).
	ID string `json:"id"`
	// Owner is the org whose things are shared: the org of the admin that
	// stored the agreement.
	Owner string `json:"owner"`
	// ToOrg is the org that receives read access.
	ToOrg string `json:"to_org"`
	// Models are the DTMIs whose twins are shared (exact match).
	Models []string `json:"models"`
	// Properties are the property (and telemetry) names shown.
	Properties []string `json:"properties"`
	// Relationships are the relationship names shown.
	Relationships []string `json:"relationships"`
	// Purpose says why, for the people who read the agreement.
	Purpose string `json:"purpose,omitempty"`
	// Expires ends the agreement; the zero time means it holds until it
	// is deleted.
	Expires time.Time `json:"expires,omitzero"`
	// Created is when it was stored; the server sets it.
	Created time.Time `json:"created,omitzero"`
	// CreatedBy is the subject of the admin that stored it; the server sets it.
	CreatedBy string `json:"created_by,omitempty"`
}

// ErrInvalid is wrapped by the errors of Validate, checked with errors.Is.
var ErrInvalid = errors.New("tenancy: invalid agreement")

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// Limits of an agreement's fields.
const (
	maxID    = 128
	maxNames = 1000
	maxName  = 512
)

// ValidID checks an agreement id: 1 to 128 characters of letters, digits
// and ".", "_", "-", ":".
func ValidID(id string) error {
	if id == "" || len(id) > maxID {
		return invalid("id", "must have 1 to %d characters", maxID)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:", c)
		if !ok {
			return invalid("id", "character %q is not allowed; use letters, digits, '.', '_', '-' and ':'", c)
		}
	}
	return nil
}

// Validate checks an agreement before it is stored. ownedModels reports
// whether the owner org owns a model (a model of org "" or of another org
// cannot be shared by this one). The error names the first bad field, as
// "to_org: …" or "models[1]: …", and wraps ErrInvalid.
func (a Agreement) Validate(ownedModels func(id string) bool) error {
	if err := ValidID(a.ID); err != nil {
		return err
	}
	switch {
	case a.Owner == "":
		return invalid("owner", "is empty: only a principal of an org may share")
	case a.ToOrg == "":
		return invalid("to_org", "is required")
	case a.ToOrg == a.Owner:
		return invalid("to_org", "is the owner org %q itself", a.Owner)
	case len(a.Models) == 0:
		return invalid("models", "is empty: name at least one model whose twins are shared")
	}
	if err := names("models", a.Models); err != nil {
		return err
	}
	for i, m := range a.Models {
		if ownedModels != nil && !ownedModels(m) {
			return invalid(fmt.Sprintf("models[%d]", i), "model %q is not owned by org %q", m, a.Owner)
		}
	}
	if err := names("properties", a.Properties); err != nil {
		return err
	}
	if err := names("relationships", a.Relationships); err != nil {
		return err
	}
	if len(a.Purpose) > 4096 {
		return invalid("purpose", "is longer than 4096 bytes")
	}
	if !a.Expires.IsZero() && !a.Created.IsZero() && !a.Expires.After(a.Created) {
		return invalid("expires", "%s is not after the agreement's creation %s", a.Expires.Format(time.RFC3339), a.Created.Format(time.RFC3339))
	}
	return nil
}

// names checks a list of names: non-empty, not system names ("$…"), no
// duplicates.
func names(field string, list []string) error {
	if len(list) > maxNames {
		return invalid(field, "has %d entries; at most %d", len(list), maxNames)
	}
	seen := make(map[string]bool, len(list))
	for i, n := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case n == "":
			return invalid(f, "is empty")
		case len(n) > maxName:
			return invalid(f, "is longer than %d bytes", maxName)
		case strings.HasPrefix(n, "$"):
			return invalid(f, "%q is a system name; system properties are shared as the rules say", n)
		case seen[n]:
			return invalid(f, "%q is listed twice", n)
		}
		seen[n] = true
	}
	return nil
}

// InForce reports whether a holds at time now.
func (a Agreement) InForce(now time.Time) bool {
	return a.Expires.IsZero() || a.Expires.After(now)
}
