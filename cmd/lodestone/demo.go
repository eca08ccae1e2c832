package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"lodestone/dtdl"
	"lodestone/models"
)

// model summary parses the bundled ontology with the dtdl package and
// prints its counts, units and inheritance tree (the demo command serves it).

func init() {
	fs := flag.NewFlagSet("lodestone model summary", flag.ContinueOnError)
	o := &demoOptions{}
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	modelCommand.sub = append(modelCommand.sub, &command{
		name:      "summary",
		usage:     "[--json]",
		shortHelp: "summarise the bundled ontology: counts, units, inheritance tree",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("model summary: unexpected argument %q", args[0])}
			}
			return runDemo(ctx, env, o)
		},
	})
}

type demoOptions struct {
	json bool
}

// ontologySummary is the output of demo --json. Counts are of declared
// contents, so inherited contents are counted once, where they are declared.
type ontologySummary struct {
	Interfaces    int            `json:"interfaces"`
	Properties    int            `json:"properties"`
	Relationships int            `json:"relationships"`
	Telemetry     int            `json:"telemetry"`
	Components    int            `json:"components"`
	Commands      int            `json:"commands"`
	Units         []string       `json:"units"` // QuantitativeTypes units in use, sorted
	Models        []modelSummary `json:"models"`
	Tree          []*treeNode    `json:"tree"`
}

// modelSummary describes one interface: its own contents and, in Contents,
// the number including inherited ones.
type modelSummary struct {
	ID            string   `json:"id"`
	DisplayName   string   `json:"displayName"`
	Extends       []string `json:"extends"`
	Properties    int      `json:"properties"`
	Relationships int      `json:"relationships"`
	Telemetry     int      `json:"telemetry"`
	Contents      int      `json:"contents"`
}

// treeNode is an interface in the inheritance tree. An interface that
// extends several appears under the first it names; Also lists the others.
type treeNode struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Also     []string    `json:"also,omitempty"`
	Children []*treeNode `json:"children,omitempty"`
}

func runDemo(_ context.Context, env *cliEnv, o *demoOptions) error {
	s, err := summariseModels(models.Files())
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	printSummary(env.stdout, s)
	return nil
}

// summariseModels parses the model files as one set and summarises them.
func summariseModels(files []models.File) (*ontologySummary, error) {
	docs := make([]dtdl.Document, len(files))
	for i, f := range files {
		docs[i] = dtdl.Document(f)
	}
	ms, err := dtdl.Parse(docs, nil)
	if err != nil {
		var el *dtdl.ErrorList
		if errors.As(err, &el) {
			return nil, fmt.Errorf("demo: bundled models are invalid:\n%s", el.String())
		}
		return nil, fmt.Errorf("demo: parse bundled models: %w", err)
	}
	s := &ontologySummary{Interfaces: ms.Len(), Units: []string{}}
	units := map[string]bool{}
	nodes := map[string]*treeNode{}
	ifaces := ms.Interfaces()
	for _, in := range ifaces {
		m := modelSummary{ID: in.ID, DisplayName: displayName(in.Entity), Extends: []string{}, Contents: len(in.Contents())}
		for _, e := range in.Extends() {
			m.Extends = append(m.Extends, e.ID)
		}
		for _, c := range in.OwnContents() {
			switch c := c.(type) {
			case *dtdl.Property:
				m.Properties++
				addUnits(units, c.Semantic, c.Schema)
			case *dtdl.Telemetry:
				m.Telemetry++
				addUnits(units, c.Semantic, c.Schema)
			case *dtdl.Relationship:
				m.Relationships++
				for _, p := range c.Properties {
					addUnits(units, p.Semantic, p.Schema)
				}
			case *dtdl.Component:
				s.Components++
			case *dtdl.Command:
				s.Commands++
			}
		}
		s.Properties += m.Properties
		s.Relationships += m.Relationships
		s.Telemetry += m.Telemetry
		s.Models = append(s.Models, m)
		nodes[in.ID] = &treeNode{ID: in.ID, Name: shortName(in.ID)}
	}
	// Interfaces() is ordered by DTMI, so children come out sorted too.
	for _, in := range ifaces {
		n := nodes[in.ID]
		ext := in.Extends()
		if len(ext) == 0 {
			s.Tree = append(s.Tree, n)
			continue
		}
		for _, e := range ext[1:] {
			n.Also = append(n.Also, shortName(e.ID))
		}
		parent := nodes[ext[0].ID]
		parent.Children = append(parent.Children, n)
	}
	for u := range units {
		s.Units = append(s.Units, u)
	}
	slices.Sort(s.Units)
	return s, nil
}

// addUnits records the unit of an element and of any fields or map values
// inside its schema.
func addUnits(units map[string]bool, sem dtdl.Semantic, schema dtdl.Schema) {
	if sem.Unit != "" {
		units[sem.Unit] = true
	}
	switch sc := schema.(type) {
	case *dtdl.Array:
		addUnits(units, dtdl.Semantic{}, sc.ElementSchema)
	case *dtdl.Map:
		if sc.Value != nil {
			addUnits(units, sc.Value.Semantic, sc.Value.Schema)
		}
	case *dtdl.Object:
		for _, f := range sc.Fields {
			addUnits(units, f.Semantic, f.Schema)
		}
	}
}

// displayName returns the English (or language-neutral) display name.
func displayName(e dtdl.Entity) string {
	for _, lang := range []string{"", "en", "en-US"} {
		if s, ok := e.DisplayName[lang]; ok {
			return s
		}
	}
	return ""
}

// shortName is the last path segment of a DTMI: "Mine" for
// "dtmi:lodestone:Mine;1".
func shortName(id string) string {
	id, _, _ = strings.Cut(id, ";")
	return id[strings.LastIndex(id, ":")+1:]
}

func printSummary(w io.Writer, s *ontologySummary) {
	fmt.Fprintf(w, "Lodestone ontology (DTDL v3, bundled): %d interfaces, %d properties, %d relationships, %d telemetry\n",
		s.Interfaces, s.Properties, s.Relationships, s.Telemetry)
	fmt.Fprintf(w, "units: %s\n\ninheritance:\n", strings.Join(s.Units, ", "))
	for _, n := range s.Tree {
		printTree(w, n, "", "")
	}
}

func printTree(w io.Writer, n *treeNode, first, rest string) {
	line := n.Name
	if len(n.Also) > 0 {
		line += " (also " + strings.Join(n.Also, ", ") + ")"
	}
	fmt.Fprintf(w, "  %s%s\n", first, line)
	for i, c := range n.Children {
		if i == len(n.Children)-1 {
			printTree(w, c, rest+"└── ", rest+"    ")
		} else {
			printTree(w, c, rest+"├── ", rest+"│   ")
		}
	}
}
