package credibility

import "testing"

// TestGradeData walks each condition of DataRule.
func TestGradeData(t *testing.T) {
	full := DataInputs{Values: 4, Cited: 4, PrimaryKeys: []string{"S6"}, TelemetryDeclared: 2, TelemetryCovered: 2, NewestAgeHours: 0.5, Writes: 2, SignedWrites: 1, WindowHours: 24}
	tests := []struct {
		name string
		edit func(*DataInputs)
		want string
	}{
		{"everything", func(*DataInputs) {}, A},
		{"unsigned", func(in *DataInputs) { in.SignedWrites = 0 }, B},
		{"no primary source", func(in *DataInputs) { in.PrimaryKeys = nil }, B},
		{"stale telemetry", func(in *DataInputs) { in.NewestAgeHours = 5 }, B},
		{"half the telemetry", func(in *DataInputs) { in.TelemetryCovered = 1 }, B},
		{"no telemetry declared", func(in *DataInputs) { in.TelemetryDeclared, in.TelemetryCovered, in.NewestAgeHours = 0, 0, -1 }, A},
		{"declared telemetry silent", func(in *DataInputs) { in.TelemetryCovered, in.NewestAgeHours = 0, -1 }, C},
		{"few citations", func(in *DataInputs) { in.Cited = 2 }, C},
		{"no citation, telemetry flowing", func(in *DataInputs) { in.Cited = 0 }, C},
		{"nothing", func(in *DataInputs) { in.Cited, in.TelemetryCovered, in.NewestAgeHours = 0, 0, -1 }, D},
		{"no values", func(in *DataInputs) { *in = DataInputs{} }, D},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := full
			tt.edit(&in)
			if f := GradeData(in); f.Grade != tt.want || f.Rule != DataRule || f.Why == "" {
				t.Errorf("grade %s (%s), want %s", f.Grade, f.Why, tt.want)
			}
		})
	}
}

// TestGradeModel walks each condition of ModelRule.
func TestGradeModel(t *testing.T) {
	pass := []Case{{Name: "k", Passed: true}}
	fail := []Case{{Name: "k", Passed: false}}
	tests := []struct {
		name string
		in   ModelInputs
		want string
	}{
		{"no engine result", ModelInputs{}, NA},
		{"all", ModelInputs{Computed: 2, Converged: 2, SpecMatched: 2, FittedCited: 2, Cases: pass}, A},
		{"fitted data not cited", ModelInputs{Computed: 2, Converged: 2, SpecMatched: 2, Cases: pass}, B},
		{"one not converged", ModelInputs{Computed: 2, Converged: 1, SpecMatched: 2, FittedCited: 2, Cases: pass}, C},
		{"validation fails", ModelInputs{Computed: 1, Converged: 1, SpecMatched: 1, FittedCited: 1, Cases: fail}, C},
		{"no validation case", ModelInputs{Computed: 1, Converged: 1, SpecMatched: 1, FittedCited: 1}, C},
		{"nothing converged, validation fails", ModelInputs{Computed: 1, Cases: fail}, D},
	}
	for _, tt := range tests {
		if f := GradeModel(tt.in); f.Grade != tt.want || f.Rule != ModelRule {
			t.Errorf("%s: grade %s (%s), want %s", tt.name, f.Grade, f.Why, tt.want)
		}
	}
}

// TestGradeOps walks each condition of OpsRule.
func TestGradeOps(t *testing.T) {
	clean := OpsInputs{Auth: true, Log: true, Changes: 3, Logged: 3, VerifyRan: true, VerifyOK: true}
	tests := []struct {
		name string
		edit func(*OpsInputs)
		want string
	}{
		{"all", func(*OpsInputs) {}, A},
		{"no auth", func(in *OpsInputs) { in.Auth = false }, B},
		{"a change not logged", func(in *OpsInputs) { in.Logged = 2 }, C},
		{"auth, no log", func(in *OpsInputs) { *in = OpsInputs{Auth: true} }, C},
		{"no auth, no log", func(in *OpsInputs) { *in = OpsInputs{} }, D},
		{"verify mismatch", func(in *OpsInputs) { in.VerifyOK, in.Mismatches = false, 1 }, D},
	}
	for _, tt := range tests {
		in := clean
		tt.edit(&in)
		if f := GradeOps(in); f.Grade != tt.want || f.Rule != OpsRule {
			t.Errorf("%s: grade %s (%s), want %s", tt.name, f.Grade, f.Why, tt.want)
		}
	}
}
