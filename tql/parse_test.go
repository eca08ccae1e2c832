package tql_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/tql"
	"lodestone/tql/tqltest"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"join without RELATED", "SELECT T, CT FROM DIGITALTWINS T JOIN CT T.contains WHERE T.$dtId = 'x'",
			"tql: line 1, col 42: expected RELATED after JOIN alias, found \"T\""},
		{"no FROM", "SELECT *", "tql: line 1, col 9: expected FROM after the SELECT list, found end of query"},
		{"second line", "SELECT *\nFROM DIGITALTWINS\nWHERE x = = 3",
			"tql: line 3, col 11: expected a value, property or function, found \"=\""},
		{"bad hops", "SELECT * FROM DIGITALTWINS MATCH (a)-[*x]->(b)",
			"tql: line 1, col 40: expected a hop count after * (*3, *1..3 or *..3), found \"x\""},
		{"huge hops", "SELECT * FROM DIGITALTWINS MATCH (a)-[*1..99999]->(b)",
			"tql: line 1, col 43: hop count 99999 is not a whole number from 0 to 1000"},
		{"unknown function", "SELECT * FROM DIGITALTWINS WHERE NOPE(1)", "tql: line 1, col 34: unknown function NOPE"},
		{"reserved alias", "SELECT * FROM DIGITALTWINS T WHERE T.count = 1",
			"tql: line 1, col 38: expected a property name after ., found reserved word COUNT (escape it as [[count]])"},
		{"bad AS OF", "SELECT * FROM DIGITALTWINS AS OF '2025-13-01T00:00:00Z'",
			"tql: line 1, col 34: AS OF needs an RFC 3339 time such as '2025-04-01T00:00:00Z', found \"2025-13-01T00:00:00Z\""},
		{"trailing", "SELECT * FROM DIGITALTWINS T T", "tql: line 1, col 30: expected JOIN, MATCH, WHERE, GROUP BY, ORDER BY or end of query, found \"T\""},
		{"deep", "SELECT * FROM DIGITALTWINS WHERE " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300),
			"tql: line 1, col 234: expression nested deeper than 200 levels"},
		{"deep NOT", "SELECT * FROM DIGITALTWINS WHERE " + strings.Repeat("NOT ", 300) + "true",
			"tql: line 1, col 834: expression nested deeper than 200 levels"},
		{"too long", "SELECT * FROM DIGITALTWINS WHERE x IN [" + strings.Repeat("'aaaaaaaaa',", 7000) + "'a']",
			"tql: line 1, col 1: query is 84043 bytes, longer than the limit of 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tql.Parse(tt.query)
			var pe *tql.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("Parse error (-want +got):\n%s", diff)
			}
			if pe.Query != tt.query {
				t.Errorf("ParseError.Query = %q, want the query", pe.Query)
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"unknown", "SELECT X FROM DIGITALTWINS T JOIN U RELATED T.r", "tql: line 1, col 8: unknown collection \"X\""},
		{"case", "SELECT t FROM DIGITALTWINS T JOIN U RELATED T.r",
			"tql: line 1, col 8: unknown collection \"t\" (did you mean \"T\"? names are case-sensitive)"},
		{"rel var hops", "SELECT a FROM DIGITALTWINS MATCH (a)-[r*2]->(b)",
			"tql: line 1, col 37: relationship variable \"r\" needs a single hop (ADT); bind the path instead: MATCH p = ..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tql.Parse(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			err = tql.Check(q, nil)
			var se *tql.SemanticError
			if !errors.As(err, &se) {
				t.Fatalf("Check(%q) error = %v, want a *SemanticError", tt.query, err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("Check(%q) error (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

// TestStringRoundTrip checks that the canonical form of every script query
// parses to the same canonical form.
func TestStringRoundTrip(t *testing.T) {
	qs, err := tqltest.Queries("tqltest/testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range qs {
		q, err := tql.Parse(s)
		if err != nil {
			continue
		}
		n++
		q2, err := tql.Parse(q.String())
		if err != nil {
			t.Errorf("Parse(%q) (canonical form of %q): %v", q.String(), s, err)
			continue
		}
		if diff := cmp.Diff(q.String(), q2.String()); diff != "" {
			t.Errorf("round trip of %q (-first +second):\n%s", s, diff)
		}
	}
	if n < 100 {
		t.Errorf("only %d script queries parse; want at least 100", n)
	}
}

func TestHopBounds(t *testing.T) {
	tests := []struct {
		pattern string
		lo, hi  int
	}{
		{"-[]->", 1, 1},
		{"-[*3]->", 3, 3},
		{"-[*1..3]->", 2, 3}, // ADT: the lower bound is excluded
		{"-[*..3]->", 1, 3},
		{"-[*0..2]->", 1, 2},
	}
	for _, tt := range tests {
		q, err := tql.Parse("SELECT * FROM DIGITALTWINS MATCH (a)" + tt.pattern + "(b)")
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := q.Matches[0].Rels[0].Hops.Bounds()
		if lo != tt.lo || hi != tt.hi {
			t.Errorf("Bounds(%s) = %d, %d, want %d, %d", tt.pattern, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestPositions(t *testing.T) {
	q, err := tql.Parse("SELECT a\nFROM DIGITALTWINS\n  MATCH (a)-[r:x]->(b)\nWHERE a.$dtId = 'k'")
	if err != nil {
		t.Fatal(err)
	}
	got := []tql.Pos{q.Select.Pos, q.From.Pos, q.Matches[0].Pos, q.Matches[0].Nodes[1].Pos, q.Matches[0].Rels[0].Pos, q.Where.Position()}
	want := []tql.Pos{{0, 1, 1}, {9, 2, 1}, {29, 3, 3}, {46, 3, 20}, {38, 3, 12}, {56, 4, 7}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
}

func TestVariablesAndQuantity(t *testing.T) {
	q, err := tql.Parse("SELECT p FROM DIGITALTWINS MATCH p = (a)-[r:x]->() OPTIONAL MATCH (a)-[]->(c) WHERE a.stock > '5 kg'")
	if err != nil {
		t.Fatal(err)
	}
	if q.Variables() != nil {
		t.Error("Variables before Check is not nil")
	}
	if err := tql.Check(q, nil); err != nil {
		t.Fatal(err)
	}
	want := []tql.Variable{
		{Name: "p", Kind: tql.PathVar},
		{Name: "a", Kind: tql.TwinVar},
		{Name: "$2", Kind: tql.TwinVar, Anonymous: true},
		{Name: "r", Kind: tql.RelationshipVar},
		{Name: "c", Kind: tql.TwinVar, Optional: 1},
	}
	if diff := cmp.Diff(want, q.Variables()); diff != "" {
		t.Errorf("Variables (-want +got):\n%s", diff)
	}
	v, u, left, ok := q.Where.(*tql.Binary).Quantity()
	if !ok || v != 5 || u.Name != "kilogram" || left {
		t.Errorf("Quantity() = %v, %v, %v, %v, want 5, kilogram, false, true", v, u.Name, left, ok)
	}
	var refs []string
	tql.Inspect(q.Where, func(e tql.Expr) bool {
		if r, ok := e.(*tql.Ref); ok {
			refs = append(refs, r.Var+"."+strings.Join(r.Path, "."))
		}
		return true
	})
	if diff := cmp.Diff([]string{"a.stock"}, refs); diff != "" {
		t.Errorf("Inspect refs (-want +got):\n%s", diff)
	}
}
