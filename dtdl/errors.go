package dtdl

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem found in a model: which document, which element,
// where in the JSON, which rule and what is wrong, in words a modeller
// understands.
type Error struct {
	File    string `json:"file"`    // document name
	ID      string `json:"id"`      // @id of the element (or its nearest identified ancestor)
	Path    string `json:"path"`    // JSON path inside the document, e.g. $.contents[2].schema
	Rule    string `json:"rule"`    // short rule name, e.g. "pattern", "extends-cycle" (see the package doc)
	Message string `json:"message"` // human description
}

// Error formats the error as "file: id: path: rule: message". Validation
// errors, which have no file, leave out the file and, when empty, the id.
func (e *Error) Error() string {
	switch {
	case e.File != "":
		return fmt.Sprintf("%s: %s: %s: %s: %s", e.File, e.ID, e.Path, e.Rule, e.Message)
	case e.ID != "":
		return fmt.Sprintf("%s: %s: %s: %s", e.ID, e.Path, e.Rule, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Path, e.Rule, e.Message)
}

// ErrorList is every error of one Parse or validation pass. It is returned as
// an error only when it holds at least one Error.
type ErrorList struct {
	Errors []*Error
	// Unresolved lists identifiers that models referred to but no document
	// (nor Options.Resolve) supplied.
	Unresolved []string
}

// Error summarises the list: the first error and how many follow.
func (l *ErrorList) Error() string {
	switch len(l.Errors) {
	case 0:
		return "dtdl: no errors"
	case 1:
		return "dtdl: " + l.Errors[0].Error()
	}
	return fmt.Sprintf("dtdl: %s (and %d more errors)", l.Errors[0].Error(), len(l.Errors)-1)
}

// String lists every error, one per line.
func (l *ErrorList) String() string {
	var b strings.Builder
	for _, e := range l.Errors {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// Len returns the number of errors.
func (l *ErrorList) Len() int { return len(l.Errors) }

func (l *ErrorList) add(e *Error) { l.Errors = append(l.Errors, e) }

// sortStable orders errors by file, then path, keeping discovery order for ties.
func (l *ErrorList) sortStable() {
	sort.SliceStable(l.Errors, func(i, j int) bool {
		if l.Errors[i].File != l.Errors[j].File {
			return l.Errors[i].File < l.Errors[j].File
		}
		return false
	})
}

// err returns l as an error, or nil when it is empty.
func (l *ErrorList) err() error {
	if len(l.Errors) == 0 {
		return nil
	}
	return l
}
