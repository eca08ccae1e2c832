package supply

// Export-control modes.
const (
	ControlLicence = "licence" // each controlled lane needs a licence: review delay, approval probability
	ControlBan     = "ban"     // controlled flows stop
	ControlQuota   = "quota"   // controlled flows share a volume quota per period
)

// Control scopes.
const (
	ScopeOrigin  = "origin"  // exports from nodes in the issuing country
	ScopeContent = "content" // goods made abroad that contain controlled material of the issuing country's origin
	ScopeBoth    = "both"
)

// Control is an export control as a first-class object: who issues it,
// what it covers, how it restricts flows, and when it is announced, takes
// effect, is suspended and resumes.
type Control struct {
	Name string `json:"name" req:"true"`
	// Builtin names a built-in control (see BuiltinControls) to start
	// from; the other fields, when set, override it.
	Builtin string `json:"builtin,omitempty"`
	// Country is the issuing country; a lane is an export when its
	// destination node is in another country.
	Country string `json:"country,omitempty"`
	// Elements lists controlled elements or products, matched against the
	// tokens of an arc's material ("Dy oxide" matches "Dy"). Empty: all.
	Elements []string `json:"elements,omitempty"`
	// Destinations limits the control to these destination countries.
	Destinations []string `json:"destinations,omitempty"`
	Scope        string   `json:"scope,omitempty"` // origin (default), content or both
	// ContentThreshold is the least share of controlled-origin content that
	// brings a foreign-made good into scope (by content). The share is
	// tracked by mass in the simulation (No. 61 uses value: a proxy).
	ContentThreshold float64 `json:"content_threshold,omitempty"`
	Mode             string  `json:"mode,omitempty"`
	// ReviewDays is the licence review delay in days; ApprovalProbability
	// the chance an application is granted; LicenceValidDays how long a
	// licence lasts (0: to the end of the run).
	ReviewDays          int     `json:"review_days,omitempty"`
	ApprovalProbability float64 `json:"approval_probability,omitempty"`
	LicenceValidDays    int     `json:"licence_valid_days,omitempty"`
	// QuotaUnits is the volume allowed per QuotaPeriodDays (default 365)
	// across all controlled lanes, in the upstream node's units.
	QuotaUnits      float64 `json:"quota_units,omitempty"`
	QuotaPeriodDays int     `json:"quota_period_days,omitempty"`
	Announced       Date    `json:"announced,omitempty"`
	Effective       Date    `json:"effective,omitempty"`
	Suspended       Date    `json:"suspended,omitempty"` // first day of a suspension
	Resumes         Date    `json:"resumes,omitempty"`   // first day the control applies again; empty: never
	Source          string  `json:"source,omitempty"`
}

// no18Elements are the elements of MOFCOM & GAC Announcement No. 18 (2025)
// [S52 of the research note]. BuiltinControls copies it into each control.
//
//lodestone:readonly
var no18Elements = []string{"Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"}

// BuiltinControls returns the built-in export controls of the research note
// (c.6), keyed by name. Each carries its source. Where the note gives no
// number the field is a stated modelling choice.
//
//   - CN-2025-18: MOFCOM & GAC Announcement No. 18 of 2025, effective
//     4 Apr 2025: Sm, Gd, Tb, Dy, Lu, Sc, Y metals, alloys, oxides,
//     compounds, targets and magnet materials need a dual-use export licence
//     [S52]. Review "upwards of 45 business days" [S20] → 63 calendar days
//     (derived: 45 × 7/5). Approval probability 0.25 from press reports that
//     ~25% of applications were approved early on [S62c] — low confidence;
//     override it. Not suspended by No. 70 [S54].
//   - CN-2025-57: Announcement No. 57 of 9 Oct 2025 adds Ho, Er, Tm, Eu, Yb
//     [S53]. The note gives no separate effective date: the announcement date
//     is used. Suspended by No. 70 (7 Nov 2025) until 10 Nov 2026 [S54]; the
//     suspension is taken to start on the announcement date of No. 70.
//   - CN-2025-61: Announcement No. 61 of 9 Oct 2025: foreign-made items
//     containing ≥ 0.1% (by value) Chinese-origin controlled rare earths need
//     a licence from 1 Dec 2025 [S53][S53b] (by content; tracked by mass
//     here). Suspended by No. 70 until 10 Nov 2026 [S54] — so it never took
//     effect before the suspension.
func BuiltinControls() map[string]Control {
	heavy57 := []string{"Ho", "Er", "Tm", "Eu", "Yb"}
	all := append(append([]string{}, no18Elements...), heavy57...)
	return map[string]Control{
		"CN-2025-18": {
			Name: "CN-2025-18", Country: "CN", Elements: append([]string{}, no18Elements...),
			Scope: ScopeOrigin, Mode: ControlLicence, ReviewDays: 63, ApprovalProbability: 0.25,
			Announced: "2025-04-04", Effective: "2025-04-04",
			Source: "MOFCOM & GAC Announcement No. 18 (2025) [S52]; review ~45 business days [S20]; approval ~25% (press, low confidence) [S62c]",
		},
		"CN-2025-57": {
			Name: "CN-2025-57", Country: "CN", Elements: heavy57,
			Scope: ScopeOrigin, Mode: ControlLicence, ReviewDays: 63, ApprovalProbability: 0.25,
			Announced: "2025-10-09", Effective: "2025-10-09", Suspended: "2025-11-07", Resumes: "2026-11-10",
			Source: "MOFCOM Announcement No. 57 (2025) [S53]; suspended by No. 70 until 10 Nov 2026 [S54]; review and approval as No. 18 (assumed)",
		},
		"CN-2025-61": {
			Name: "CN-2025-61", Country: "CN", Elements: all,
			Scope: ScopeContent, ContentThreshold: 0.001, Mode: ControlLicence, ReviewDays: 63, ApprovalProbability: 0.25,
			Announced: "2025-10-09", Effective: "2025-12-01", Suspended: "2025-11-07", Resumes: "2026-11-10",
			Source: "MOFCOM Announcement No. 61 (2025), ≥0.1% by value, from 1 Dec 2025 [S53][S53b]; suspended by No. 70 until 10 Nov 2026 [S54]",
		},
	}
}

// resolve fills a control from its built-in base.
func (c Control) resolve(field string) (Control, error) {
	if c.Builtin == "" {
		return c, nil
	}
	base, ok := BuiltinControls()[c.Builtin]
	if !ok {
		return c, fieldErr(field+".builtin", "unknown built-in control %q", c.Builtin)
	}
	base.Name = c.Name
	if c.Country != "" {
		base.Country = c.Country
	}
	if c.Elements != nil {
		base.Elements = c.Elements
	}
	if c.Destinations != nil {
		base.Destinations = c.Destinations
	}
	if c.Scope != "" {
		base.Scope = c.Scope
	}
	if c.ContentThreshold != 0 {
		base.ContentThreshold = c.ContentThreshold
	}
	if c.Mode != "" {
		base.Mode = c.Mode
	}
	if c.ReviewDays != 0 {
		base.ReviewDays = c.ReviewDays
	}
	if c.ApprovalProbability != 0 {
		base.ApprovalProbability = c.ApprovalProbability
	}
	if c.LicenceValidDays != 0 {
		base.LicenceValidDays = c.LicenceValidDays
	}
	if c.QuotaUnits != 0 {
		base.QuotaUnits = c.QuotaUnits
	}
	if c.QuotaPeriodDays != 0 {
		base.QuotaPeriodDays = c.QuotaPeriodDays
	}
	for _, d := range []struct {
		dst *Date
		src Date
	}{{&base.Announced, c.Announced}, {&base.Effective, c.Effective}, {&base.Suspended, c.Suspended}, {&base.Resumes, c.Resumes}} {
		if d.src != "" {
			*d.dst = d.src
		}
	}
	if c.Source != "" {
		base.Source = c.Source
	}
	return base, nil
}
