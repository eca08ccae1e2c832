package credibility

import "fmt"

// Grades, best first. NA is given by the model filter to values no engine
// computed.
const (
	A  = "A"
	B  = "B"
	C  = "C"
	D  = "D"
	NA = "N/A"
)

// Report is the credibility report of a twin or a model.
type Report struct {
	// Subject is the twin id or the model id (DTMI).
	Subject string `json:"subject"`
	// Kind is "twin" or "model".
	Kind string `json:"kind"`
	// Twins are the twins graded (the twin itself, or the model's twins).
	Twins int `json:"twins"`
	// GeneratedAt is when the report was computed (RFC 3339).
	GeneratedAt string `json:"generatedAt"`
	// Filters are data, model and operational, in that order.
	Filters []Filter `json:"filters"`
}

// Filter is one filter's grade, the rule that gave it and its evidence.
type Filter struct {
	Name  string `json:"name"`
	Grade string `json:"grade"`
	// Rule states every grade's condition of this filter.
	Rule string `json:"rule"`
	// Why says which condition gave the grade, with the numbers.
	Why      string     `json:"why"`
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one number (or fact) a grade used.
type Evidence struct {
	Name   string `json:"name"`
	Value  any    `json:"value"`
	Unit   string `json:"unit,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// DataInputs are the numbers of data defensibility.
type DataInputs struct {
	// Values counts the property values graded (all but "source" and
	// "sources"); Cited those with a citation (their entry of the twin's
	// "sources" map, or the twin's "source" text).
	Values, Cited int
	// StaleCitations counts the values not counted as cited because they
	// were changed after their citation was written.
	StaleCitations int
	// CitedKeys are the bibliography keys cited; PrimaryKeys those of
	// kind "primary"; UnresolvedKeys those not in the bibliography.
	CitedKeys, PrimaryKeys, UnresolvedKeys []string
	// TelemetryDeclared counts the telemetry names the models declare;
	// TelemetryCovered those with a point in the window.
	TelemetryDeclared, TelemetryCovered int
	// Window is the telemetry window in hours.
	WindowHours float64
	// NewestAgeHours is the age of the newest telemetry point; negative
	// when there is none in the window.
	NewestAgeHours float64
	// Writes counts the changes of the twins; SignedWrites those that
	// carried a verified signature.
	Writes, SignedWrites int
	// SignatureNote says what counts as a signed write.
	SignatureNote string
}

// The thresholds of the data rule.
const (
	freshHours   = 1.0
	cutB, cutC   = 0.8, 0.3
	signedForA   = 0.5
	coverageForB = 0.5
)

// DataRule is the stated rule of data defensibility.
var DataRule = fmt.Sprintf("A: every value cited, at least one primary source, every declared telemetry has a point at most %g h old, and at least %g of the writes signed; "+
	"B: at least %g of the values cited, and no telemetry declared or at least %g of it with a point in the window; "+
	"C: at least %g of the values cited, or some telemetry in the window; D: otherwise", freshHours, signedForA, cutB, coverageForB, cutC)

// GradeData applies DataRule.
func GradeData(in DataInputs) Filter {
	cited := share(in.Cited, in.Values)
	cov := 1.0
	if in.TelemetryDeclared > 0 {
		cov = share(in.TelemetryCovered, in.TelemetryDeclared)
	}
	signed := share(in.SignedWrites, in.Writes)
	fresh := in.TelemetryDeclared == 0 || (cov == 1 && in.NewestAgeHours >= 0 && in.NewestAgeHours <= freshHours)
	f := Filter{Name: "data", Rule: DataRule, Evidence: []Evidence{
		{Name: "values", Value: in.Values, Detail: "property values graded (source and sources themselves excluded)"},
		{Name: "citedValues", Value: in.Cited},
		{Name: "citedShare", Value: round(cited)},
		{Name: "staleCitations", Value: in.StaleCitations, Detail: "values changed after their citation was written, not counted as cited"},
		{Name: "citedKeys", Value: nonNil(in.CitedKeys), Detail: "bibliography keys cited (world/data/bibliography.json)"},
		{Name: "primaryKeys", Value: nonNil(in.PrimaryKeys)},
		{Name: "unresolvedKeys", Value: nonNil(in.UnresolvedKeys), Detail: "cited keys not in the bibliography"},
		{Name: "telemetryDeclared", Value: in.TelemetryDeclared},
		{Name: "telemetryCovered", Value: in.TelemetryCovered, Detail: fmt.Sprintf("declared telemetry names with a point in the last %g h", in.WindowHours)},
		{Name: "telemetryCoverage", Value: round(cov)},
		{Name: "newestTelemetryAge", Value: ageValue(in.NewestAgeHours), Unit: "h", Detail: "null when no point is in the window"},
		{Name: "writes", Value: in.Writes},
		{Name: "signedWrites", Value: in.SignedWrites, Detail: in.SignatureNote},
		{Name: "signedShare", Value: round(signed)},
	}}
	switch {
	case cited == 1 && len(in.PrimaryKeys) > 0 && fresh && signed >= signedForA && in.Values > 0:
		f.Grade, f.Why = A, "every value cited, primary sources, fresh telemetry, signed writes"
	case in.Values > 0 && cited >= cutB && (in.TelemetryDeclared == 0 || cov >= coverageForB):
		f.Grade, f.Why = B, fmt.Sprintf("%.2f of the values cited, telemetry coverage %.2f", cited, cov)
		if signed < signedForA {
			f.Why += fmt.Sprintf("; not A: %.2f of the writes signed", signed)
		}
	case (in.Values > 0 && cited >= cutC) || in.TelemetryCovered > 0:
		f.Grade, f.Why = C, fmt.Sprintf("%.2f of the values cited, %d of %d telemetry names with points", cited, in.TelemetryCovered, in.TelemetryDeclared)
	default:
		f.Grade, f.Why = D, fmt.Sprintf("%.2f of the values cited and no telemetry in the window", cited)
	}
	return f
}

// ModelInputs are the numbers of model defensibility.
type ModelInputs struct {
	// Computed counts the twins whose values an engine computed (they
	// carry modelVersion and inputHash); Converged those whose run
	// converged; SpecMatched those whose inputHash is the hash of the
	// cascade spec they name (provenance); FittedCited those whose spec
	// or cascade names the data its parameters were fitted to.
	Computed, Converged, SpecMatched, FittedCited int
	// Engines are the modelVersion values.
	Engines []string
	// Cases are the engine's validation cases run now.
	Cases []Case
}

// Case is one validation case: a computed number against a reference
// (closed form or measurement) with its residual and tolerance.
type Case struct {
	Name      string  `json:"name"`
	Reference string  `json:"reference"`
	Computed  float64 `json:"computed"`
	Expected  float64 `json:"expected"`
	Residual  float64 `json:"residual"`
	Tolerance float64 `json:"tolerance"`
	Passed    bool    `json:"passed"`
}

// ModelRule is the stated rule of model defensibility.
const ModelRule = "N/A: no value was computed by an engine (no twin carries modelVersion and inputHash); the values are data, graded under data. " +
	"A: every computed result converged, was computed from the spec version provenance names (input hash matches), the spec names the data its parameters were fitted to, and every validation case of the engine passes; " +
	"B: every result converged and every validation case passes; C: some result converged, or the validation cases pass; D: otherwise"

// GradeModel applies ModelRule.
func GradeModel(in ModelInputs) Filter {
	passed := 0
	for _, c := range in.Cases {
		if c.Passed {
			passed++
		}
	}
	allPass := len(in.Cases) > 0 && passed == len(in.Cases)
	f := Filter{Name: "model", Rule: ModelRule, Evidence: []Evidence{
		{Name: "computedTwins", Value: in.Computed},
		{Name: "convergedTwins", Value: in.Converged},
		{Name: "specMatchedTwins", Value: in.SpecMatched, Detail: "results whose inputHash is the hash of the cascade spec version provenance names"},
		{Name: "fittedDataCitedTwins", Value: in.FittedCited, Detail: "results whose spec or cascade names a source of its parameters"},
		{Name: "engines", Value: nonNil(in.Engines)},
		{Name: "validationCases", Value: nonNilCases(in.Cases)},
		{Name: "validationPassed", Value: passed},
	}}
	n := in.Computed
	switch {
	case n == 0:
		f.Grade, f.Why = NA, "no twin graded carries an engine result"
	case in.Converged == n && in.SpecMatched == n && in.FittedCited == n && allPass:
		f.Grade, f.Why = A, "converged, spec matched, fitted data cited, validation passed"
	case in.Converged == n && allPass:
		f.Grade, f.Why = B, fmt.Sprintf("converged and validated; not A: %d of %d spec-matched, %d of %d with fitted data cited", in.SpecMatched, n, in.FittedCited, n)
	case in.Converged > 0 || allPass:
		f.Grade, f.Why = C, fmt.Sprintf("%d of %d converged, %d of %d validation cases passed", in.Converged, n, passed, len(in.Cases))
	default:
		f.Grade, f.Why = D, fmt.Sprintf("no result converged and %d of %d validation cases passed", passed, len(in.Cases))
	}
	return f
}

// OpsInputs are the numbers of operational defensibility.
type OpsInputs struct {
	// Auth is whether the server authenticates callers; Policy describes
	// who may change the twins and their model.
	Auth   bool
	Policy string
	// Log is whether the server keeps the transparency log.
	Log bool
	// Changes counts the twins' changes since the log started; Logged
	// those with a log entry.
	Changes, Logged int
	// VerifyRan is whether verify ran; VerifyOK its verdict;
	// Mismatches its count; TreeSize and SignedSize the log's.
	VerifyRan, VerifyOK  bool
	Mismatches           int
	TreeSize, SignedSize int64
	VerifiedAt           string
}

// OpsRule is the stated rule of operational defensibility.
const OpsRule = "A: callers are authenticated, the transparency log is kept, every change of the graded twins since the log started is logged, and verify (run now) finds no mismatch; " +
	"B: as A without authentication; C: authentication on but no log, or the log is kept but some change is not in it; " +
	"D: verify finds a mismatch (store and log disagree), or neither authentication nor a log"

// GradeOps applies OpsRule.
func GradeOps(in OpsInputs) Filter {
	f := Filter{Name: "operational", Rule: OpsRule, Evidence: []Evidence{
		{Name: "authentication", Value: in.Auth},
		{Name: "whoMayChange", Value: in.Policy},
		{Name: "transparencyLog", Value: in.Log},
		{Name: "changes", Value: in.Changes, Detail: "changes of the graded twins since the log started"},
		{Name: "loggedChanges", Value: in.Logged},
		{Name: "verifyRan", Value: in.VerifyRan, Detail: in.VerifiedAt},
		{Name: "verifyOK", Value: in.VerifyOK},
		{Name: "verifyMismatches", Value: in.Mismatches},
		{Name: "logTreeSize", Value: in.TreeSize},
		{Name: "logSignedSize", Value: in.SignedSize},
	}}
	complete := in.Log && in.Logged == in.Changes
	switch {
	case in.VerifyRan && !in.VerifyOK:
		f.Grade, f.Why = D, fmt.Sprintf("verify found %d mismatches", in.Mismatches)
	case !in.Auth && !in.Log:
		f.Grade, f.Why = D, "no authentication and no transparency log"
	case in.Auth && complete && in.VerifyOK:
		f.Grade, f.Why = A, "authenticated, every change logged, verify clean"
	case !in.Auth && complete && in.VerifyOK:
		f.Grade, f.Why = B, "every change logged and verify clean; not A: no authentication"
	default:
		f.Grade, f.Why = C, fmt.Sprintf("authentication %v, log %v, %d of %d changes logged", in.Auth, in.Log, in.Logged, in.Changes)
	}
	return f
}

func share(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func round(x float64) float64 { return float64(int64(x*1e4+0.5)) / 1e4 }

func ageValue(h float64) any {
	if h < 0 {
		return nil
	}
	return round(h)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilCases(c []Case) []Case {
	if c == nil {
		return []Case{}
	}
	return c
}
