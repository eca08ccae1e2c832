package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"lodestone/dtdl"
)

// The model command validates DTDL models offline:
//
//	lodestone model validate FILE|DIR... [--json] [--allow-undefined-extensions]
//
// Every file given (directories are read recursively for *.json, skipping
// testdata folders unless they are named) is parsed
// as one model set, so extends and Component schemas resolve across files.
// Exit status: 0 all valid, 1 any invalid, 2 usage errors.

// modelCommand groups the model tools; other files append children
// (model summary in demo.go).
var modelCommand = &command{
	name:      "model",
	shortHelp: "DTDL models: validate model files, summarise the bundled ontology",
}

func init() {
	fset := flag.NewFlagSet("lodestone model validate", flag.ContinueOnError)
	asJSON := fset.Bool("json", false, `print {"valid": bool, "errors": [...]} as JSON`)
	allowUndef := fset.Bool("allow-undefined-extensions", false, "accept @context extensions the parser does not know")
	modelCommand.sub = append(modelCommand.sub, &command{
		name:      "validate",
		usage:     "FILE|DIR... [--json] [--allow-undefined-extensions]",
		shortHelp: "validate DTDL model files as one set; exit 0 valid, 1 invalid, 2 usage",
		flags:     fset,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			// Flag values live as long as the process; reset them so
			// repeated runs (tests) start from the defaults.
			defer func() { *asJSON, *allowUndef = false, false }()
			return modelValidate(env, args, *asJSON, *allowUndef)
		},
	})
	register(modelCommand)
}

// modelValidateOutput is the --json shape of model validate.
type modelValidateOutput struct {
	Valid  bool          `json:"valid"`
	Errors []*dtdl.Error `json:"errors"`
}

func modelValidate(env *cliEnv, args []string, asJSON, allowUndef bool) error {
	if len(args) == 0 {
		return usageError{"model validate: no FILE or DIR given"}
	}
	docs, err := readModelDocs(args)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return usageError{"model validate: no *.json files found in " + strings.Join(args, " ")}
	}
	ms, err := dtdl.Parse(docs, &dtdl.Options{AllowUndefinedExtensions: allowUndef})
	out := modelValidateOutput{Valid: err == nil, Errors: []*dtdl.Error{}}
	if err != nil {
		var el *dtdl.ErrorList
		if !errors.As(err, &el) {
			return err
		}
		out.Errors = el.Errors
		withLineColumn(out.Errors, docs)
	}
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, e := range out.Errors {
			fmt.Fprintln(env.stdout, e.Error())
		}
		if out.Valid {
			fmt.Fprintf(env.stdout, "valid: %d interfaces in %d files\n", ms.Len(), len(docs))
		} else {
			fmt.Fprintf(env.stderr, "invalid: %d errors in %d files\n", len(out.Errors), len(docs))
		}
	}
	if !out.Valid {
		return exitError{1}
	}
	return nil
}

// withLineColumn rewrites the byte offsets of JSON syntax errors as a line
// and column: people read files by lines.
func withLineColumn(errs []*dtdl.Error, docs []dtdl.Document) {
	byName := map[string][]byte{}
	for _, d := range docs {
		byName[d.Name] = d.Data
	}
	for _, e := range errs {
		data, ok := byName[e.File]
		if e.Rule != "json-syntax" || !ok {
			continue
		}
		var v any
		var se *json.SyntaxError
		if err := json.Unmarshal(data, &v); errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			e.Message = fmt.Sprintf("invalid JSON at line %d, column %d: %s", line, col, se.Error())
		}
	}
}

// readModelDocs reads the files named, walking directories for *.json files
// in lexical order, skipping testdata folders below the directories named.
// A path that does not exist is a usage error.
func readModelDocs(args []string) ([]dtdl.Document, error) {
	var docs []dtdl.Document
	seen := map[string]bool{}
	add := func(path string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		// Read at most one byte past the parser's size limit: a larger
		// file is reported as too large without being read whole.
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("model validate: read %s: %w", path, err)
		}
		data, err := io.ReadAll(io.LimitReader(f, dtdl.DefaultMaxDocumentSize+1))
		f.Close()
		if err != nil {
			return fmt.Errorf("model validate: read %s: %w", path, err)
		}
		docs = append(docs, dtdl.Document{Name: filepath.ToSlash(path), Data: data})
		return nil
	}
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, usageError{fmt.Sprintf("model validate: %s: no such file or directory", arg)}
		}
		if !info.IsDir() {
			if err := add(arg); err != nil {
				return nil, err
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// testdata folders hold test inputs, often invalid on
			// purpose (as for go build): skipped unless named.
			if d.IsDir() && d.Name() == "testdata" && path != arg {
				return fs.SkipDir
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("model validate: walk %s: %w", arg, err)
		}
		sort.Strings(files)
		for _, f := range files {
			if err := add(f); err != nil {
				return nil, err
			}
		}
	}
	return docs, nil
}
