package bulk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"lodestone/twin"
)

// Section names a part of an import file.
type Section string

// The sections of an import file, in the order they must appear.
const (
	SectionHeader        Section = "Header"
	SectionModels        Section = "Models"
	SectionTwins         Section = "Twins"
	SectionRelationships Section = "Relationships"
)

var sectionOrder = map[Section]int{SectionHeader: 0, SectionModels: 1, SectionTwins: 2, SectionRelationships: 3}

// Header is the content of the Header section.
type Header struct {
	FileVersion  string `json:"fileVersion,omitempty"`
	Author       string `json:"author,omitempty"`
	Organization string `json:"organization,omitempty"`
}

// Item is one line of content: exactly one of its fields is set, matching
// Section.
type Item struct {
	Section      Section
	Line         int // 1-based line number in the input
	Header       *Header
	Model        json.RawMessage // one DTDL interface, compacted
	Twin         *twin.Twin
	Relationship *twin.Relationship
}

// ErrFormat is wrapped by every decoding error; checked with errors.Is.
var ErrFormat = errors.New("bulk: bad import file")

// LineError is a decoding error at one line.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("bulk: line %d: %v", e.Line, e.Err) }

// Unwrap lets errors.Is find ErrFormat and the cause.
func (e *LineError) Unwrap() []error { return []error{ErrFormat, e.Err} }

// MaxLineBytes is the longest line a Reader accepts (one model or twin).
const MaxLineBytes = 16 << 20

// Reader decodes an import file item by item.
type Reader struct {
	sc      *bufio.Scanner
	line    int
	section Section
	seen    map[Section]bool
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	return &Reader{sc: sc, seen: map[Section]bool{}}
}

// Next returns the next content item, or io.EOF at the end of the input.
func (r *Reader) Next() (Item, error) {
	for r.sc.Scan() {
		r.line++
		raw := bytes.TrimSpace(r.sc.Bytes())
		if r.line == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		}
		if len(raw) == 0 {
			continue
		}
		if raw[0] != '{' {
			return Item{}, r.errorf("not a JSON object")
		}
		if s, ok, err := sectionMarker(raw); err != nil {
			return Item{}, r.errorf("%v", err)
		} else if ok {
			if err := r.enter(s); err != nil {
				return Item{}, err
			}
			continue
		}
		it := Item{Section: r.section, Line: r.line}
		switch r.section {
		case "":
			return Item{}, r.errorf(`content before any section; start with {"Section": "Header"} or {"Section": "Models"}`)
		case SectionHeader:
			var h Header
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&h); err != nil {
				return Item{}, r.errorf("header: %v", err)
			}
			it.Header = &h
		case SectionModels:
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return Item{}, r.errorf("model is not valid JSON: %v", err)
			}
			it.Model = buf.Bytes()
		case SectionTwins:
			var t twin.Twin
			if err := json.Unmarshal(raw, &t); err != nil {
				return Item{}, r.errorf("twin: %v", err)
			}
			if t.ID == "" {
				return Item{}, r.errorf("twin: missing $dtId")
			}
			it.Twin = &t
		case SectionRelationships:
			rel, err := decodeRelationship(raw)
			if err != nil {
				return Item{}, r.errorf("relationship: %v", err)
			}
			it.Relationship = rel
		}
		return it, nil
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Item{}, &LineError{Line: r.line + 1, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}
		}
		return Item{}, err
	}
	return Item{}, io.EOF
}

func (r *Reader) errorf(format string, args ...any) error {
	return &LineError{Line: r.line, Err: fmt.Errorf(format, args...)}
}

func (r *Reader) enter(s Section) error {
	if r.seen[s] {
		return r.errorf("section %s appears twice", s)
	}
	if r.section != "" && sectionOrder[s] < sectionOrder[r.section] {
		return r.errorf("section %s after %s; the order is Header, Models, Twins, Relationships", s, r.section)
	}
	r.seen[s] = true
	r.section = s
	return nil
}

// sectionMarker reports whether raw is a {"Section": "…"} line.
func sectionMarker(raw []byte) (Section, bool, error) {
	if !bytes.Contains(raw, []byte(`"Section"`)) {
		return "", false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", false, err
	}
	v, ok := m["Section"]
	if !ok || len(m) != 1 {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, errors.New("section name is not a string")
	}
	sec := Section(s)
	if _, known := sectionOrder[sec]; !known {
		return "", false, fmt.Errorf("unknown section %q; want Header, Models, Twins or Relationships", s)
	}
	return sec, true, nil
}

// decodeRelationship accepts ADT's import form ("$dtId" names the source)
// and its API form ("$sourceId").
func decodeRelationship(raw []byte) (*twin.Relationship, error) {
	// One pass over the members: the import form's "$dtId" is read as the
	// source directly, so the line is never re-encoded and parsed again
	// (that was a fifth of a large import's time).
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("relationship is null")
	}
	if _, both := m["$sourceId"]; both {
		if _, dt := m["$dtId"]; dt {
			return nil, errors.New("both $dtId and $sourceId are given")
		}
	}
	var rel twin.Relationship
	for k, v := range m {
		var dst *string
		switch k {
		case "$dtId", "$sourceId":
			dst = (*string)(&rel.SourceID)
		case "$relationshipId":
			dst = &rel.ID
		case "$targetId":
			dst = (*string)(&rel.TargetID)
		case "$relationshipName":
			dst = &rel.Name
		case "$etag":
			dst = (*string)(&rel.ETag)
		default:
			if strings.HasPrefix(k, "$") {
				return nil, fmt.Errorf("unknown system property %q", k)
			}
			var val any
			if err := json.Unmarshal(v, &val); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if rel.Properties == nil {
				rel.Properties = make(map[string]any, len(m))
			}
			rel.Properties[k] = val
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return nil, fmt.Errorf("%s is not a string", k)
		}
	}
	var missing []string
	if rel.SourceID == "" {
		missing = append(missing, "$dtId")
	}
	if rel.ID == "" {
		missing = append(missing, "$relationshipId")
	}
	if rel.TargetID == "" {
		missing = append(missing, "$targetId")
	}
	if rel.Name == "" {
		missing = append(missing, "$relationshipName")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return &rel, nil
}

// Writer encodes an import file. Calls must follow the section order; a
// Writer starts each section on its first item.
type Writer struct {
	w       *bufio.Writer
	section Section
	err     error
}

// NewWriter returns a Writer to w. Call Flush when done.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 256<<10)} }

func (w *Writer) start(s Section) {
	if w.err != nil || w.section == s {
		return
	}
	if w.section != "" && sectionOrder[s] < sectionOrder[w.section] {
		w.err = fmt.Errorf("bulk: section %s written after %s", s, w.section)
		return
	}
	w.section = s
	w.line(map[string]string{"Section": string(s)})
}

func (w *Writer) line(v any) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.err = err
		return
	}
	w.w.Write(b)
	w.err = w.w.WriteByte('\n')
}

// Header writes the Header section.
func (w *Writer) Header(h Header) error { w.start(SectionHeader); w.line(h); return w.err }

// Model writes one DTDL interface to the Models section.
func (w *Writer) Model(dtdl json.RawMessage) error {
	w.start(SectionModels)
	if w.err == nil {
		var buf bytes.Buffer
		if err := json.Compact(&buf, dtdl); err != nil {
			w.err = fmt.Errorf("bulk: model: %w", err)
			return w.err
		}
		w.w.Write(buf.Bytes())
		w.err = w.w.WriteByte('\n')
	}
	return w.err
}

// Twin writes one twin to the Twins section.
func (w *Writer) Twin(t twin.Twin) error { w.start(SectionTwins); w.line(t); return w.err }

// Relationship writes one relationship to the Relationships section in the
// API form ("$sourceId"), which Reader also accepts.
func (w *Writer) Relationship(r twin.Relationship) error {
	w.start(SectionRelationships)
	w.line(r)
	return w.err
}

// Flush writes buffered data and returns the first error met.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}
