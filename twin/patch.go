package twin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Patch operation names (RFC 6902). Only these three are accepted, as in
// ADT.
const (
	OpAdd     = "add"
	OpReplace = "replace"
	OpRemove  = "remove"
)

// Operation is one JSON Patch operation.
type Operation struct {
	// Op is OpAdd, OpReplace or OpRemove.
	Op string
	// Path is a JSON Pointer (RFC 6901), for example "/site/country" or
	// "/$metadata/$model"; "~1" encodes "/" and "~0" encodes "~".
	Path string
	// Value is the value to add or replace with; unused by OpRemove.
	Value any
}

// MarshalJSON implements json.Marshaler; "value" is written for add and
// replace, even when it is null.
func (o Operation) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"op":`)
	writeJSONString(&b, o.Op)
	b.WriteString(`,"path":`)
	writeJSONString(&b, o.Path)
	if o.Op != OpRemove {
		v, err := json.Marshal(o.Value)
		if err != nil {
			return nil, fmt.Errorf("twin: patch value at %q: %w", o.Path, err)
		}
		b.WriteString(`,"value":`)
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Patch is a JSON Patch document: operations applied in order, all or
// nothing.
type Patch []Operation

// PatchError reports an invalid patch operation or one that cannot be
// applied. Index is the operation's position in the patch (-1 when the
// problem is in the result rather than one operation).
type PatchError struct {
	Index int
	Op    string
	Path  string
	Err   error
}

func (e *PatchError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("twin: patch: %s: %v", e.Path, e.Err)
	}
	if e.Op == "" {
		return fmt.Sprintf("twin: patch operation %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("twin: patch operation %d (%s %s): %v", e.Index, e.Op, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *PatchError) Unwrap() error { return e.Err }

// ParsePatch decodes and checks a JSON Patch document: a JSON array of
// objects with "op" (add, replace or remove), "path" (a valid JSON Pointer
// other than the whole document) and, for add and replace, "value" (which
// may be null). Other members are ignored, as RFC 6902 says. Errors are
// *PatchError, or a JSON syntax error wrapped with "twin: patch".
func ParsePatch(data []byte) (Patch, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("twin: patch: not a JSON array of operations: %w", err)
	}
	p := make(Patch, 0, len(raw))
	for i, m := range raw {
		if m == nil {
			return nil, &PatchError{Index: i, Err: errors.New("operation is not an object")}
		}
		var op Operation
		if err := json.Unmarshal(m["op"], &op.Op); err != nil || m["op"] == nil {
			return nil, &PatchError{Index: i, Err: errors.New(`"op" is missing or not a string`)}
		}
		if err := json.Unmarshal(m["path"], &op.Path); err != nil || m["path"] == nil {
			return nil, &PatchError{Index: i, Op: op.Op, Err: errors.New(`"path" is missing or not a string`)}
		}
		switch op.Op {
		case OpAdd, OpReplace:
			v, ok := m["value"]
			if !ok {
				return nil, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: errors.New(`"value" is missing`)}
			}
			if err := json.Unmarshal(v, &op.Value); err != nil {
				return nil, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: err}
			}
		case OpRemove:
		default:
			return nil, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: fmt.Errorf("unsupported operation %q (want add, replace or remove)", op.Op)}
		}
		tok, err := splitPointer(op.Path)
		if err != nil {
			return nil, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: err}
		}
		if len(tok) == 0 {
			return nil, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: errors.New("cannot patch the whole document")}
		}
		p = append(p, op)
	}
	return p, nil
}

// splitPointer splits a JSON Pointer into unescaped reference tokens.
func splitPointer(ptr string) ([]string, error) {
	if ptr == "" {
		return nil, nil
	}
	if ptr[0] != '/' {
		return nil, errors.New("path must start with /")
	}
	parts := strings.Split(ptr[1:], "/")
	for i, s := range parts {
		if !strings.Contains(s, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '~' {
				b.WriteByte(s[j])
				continue
			}
			if j+1 == len(s) || (s[j+1] != '0' && s[j+1] != '1') {
				return nil, errors.New("~ must be followed by 0 or 1 in a path")
			}
			if s[j+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			j++
		}
		parts[i] = b.String()
	}
	return parts, nil
}

// escapeToken escapes one reference token for a JSON Pointer.
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// Pointer returns the JSON Pointer made of the given reference tokens,
// escaping "~" and "/".
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// Apply applies the patch to doc and returns the result. doc is not
// modified and the result shares no maps or slices with doc or the patch.
// Operations apply in order; if one fails, Apply returns a *PatchError and
// no document. Adding to a missing parent is an error (RFC 6902 §4.1);
// "add" on an existing member replaces it; "replace" and "remove" need the
// target to exist. Array elements are addressed by index; "-" appends.
func (p Patch) Apply(doc map[string]any) (map[string]any, error) {
	out := cloneMap(doc)
	if out == nil {
		out = map[string]any{}
	}
	for i, op := range p {
		tok, err := splitPointer(op.Path)
		if err == nil && len(tok) == 0 {
			err = errors.New("cannot patch the whole document")
		}
		if err == nil {
			switch op.Op {
			case OpAdd, OpReplace, OpRemove:
				var res any
				res, err = applyOp(out, tok, op.Op, op.Value)
				if err == nil {
					out = res.(map[string]any)
				}
			default:
				err = fmt.Errorf("unsupported operation %q", op.Op)
			}
		}
		if err != nil {
			return nil, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: err}
		}
	}
	return out, nil
}

// applyOp applies one operation at tok below node and returns the new node
// (a slice may be reallocated). node belongs to the caller's private copy.
func applyOp(node any, tok []string, op string, value any) (any, error) {
	key := tok[0]
	last := len(tok) == 1
	switch n := node.(type) {
	case map[string]any:
		child, ok := n[key]
		if !last {
			if !ok {
				return nil, fmt.Errorf("%q does not exist", key)
			}
			c, err := applyOp(child, tok[1:], op, value)
			if err != nil {
				return nil, err
			}
			n[key] = c
			return n, nil
		}
		switch op {
		case OpAdd:
			n[key] = cloneValue(value)
		case OpReplace:
			if !ok {
				return nil, fmt.Errorf("%q does not exist", key)
			}
			n[key] = cloneValue(value)
		case OpRemove:
			if !ok {
				return nil, fmt.Errorf("%q does not exist", key)
			}
			delete(n, key)
		}
		return n, nil
	case []any:
		if last && op == OpAdd && key == "-" {
			return append(n, cloneValue(value)), nil
		}
		idx, err := arrayIndex(key)
		if err != nil {
			return nil, err
		}
		if last && op == OpAdd {
			if idx > len(n) {
				return nil, fmt.Errorf("index %d out of range", idx)
			}
			n = append(n, nil)
			copy(n[idx+1:], n[idx:])
			n[idx] = cloneValue(value)
			return n, nil
		}
		if idx >= len(n) {
			return nil, fmt.Errorf("index %d out of range", idx)
		}
		if !last {
			c, err := applyOp(n[idx], tok[1:], op, value)
			if err != nil {
				return nil, err
			}
			n[idx] = c
			return n, nil
		}
		if op == OpReplace {
			n[idx] = cloneValue(value)
			return n, nil
		}
		return append(n[:idx], n[idx+1:]...), nil
	default:
		return nil, fmt.Errorf("cannot descend into %q: not an object or array", key)
	}
}

// arrayIndex parses an array reference token: a decimal integer without
// leading zeros (RFC 6901 §4).
func arrayIndex(s string) (int, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("bad array index %q", s)
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("bad array index %q", s)
	}
	return i, nil
}

// cloneMap deep-copies a JSON object.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

// cloneValue deep-copies a JSON value (maps and slices; scalars are
// immutable).
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = cloneValue(e)
		}
		return c
	default:
		return v
	}
}
