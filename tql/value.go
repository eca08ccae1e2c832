package tql

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// undefinedT is the value of a missing property; it never reaches a result.
type undefinedT struct{}

var undefined any = undefinedT{}

func toNum(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// rank orders values of different types for ORDER BY.
func rank(v any) int {
	switch v.(type) {
	case undefinedT:
		return 0
	case nil:
		return 1
	case bool:
		return 2
	case string:
		return 4
	case []any:
		return 5
	case map[string]any:
		return 6
	}
	if _, ok := toNum(v); ok {
		return 3
	}
	return 7
}

// compareValues orders two values of the same type; ok is false when they
// are not comparable (different types, or undefined).
func compareValues(x, y any) (int, bool) {
	if xn, ok := toNum(x); ok {
		if yn, ok := toNum(y); ok {
			return cmp.Compare(xn, yn), true
		}
		return 0, false
	}
	switch xv := x.(type) {
	case string:
		if yv, ok := y.(string); ok {
			return strings.Compare(xv, yv), true
		}
	case bool:
		if yv, ok := y.(bool); ok {
			switch {
			case xv == yv:
				return 0, true
			case !xv:
				return -1, true
			}
			return 1, true
		}
	}
	return 0, false
}

// equalValues is = between defined values: false across types.
func equalValues(x, y any) bool {
	if c, ok := compareValues(x, y); ok {
		return c == 0
	}
	switch xv := x.(type) {
	case nil:
		return y == nil
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for i := range xv {
			if !equalValues(xv[i], yv[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for k, a := range xv {
			b, ok := yv[k]
			if !ok || !equalValues(a, b) {
				return false
			}
		}
		return true
	}
	return false
}

// orderValues is the total order of ORDER BY.
func orderValues(x, y any) int {
	rx, ry := rank(x), rank(y)
	if rx != ry {
		return cmp.Compare(rx, ry)
	}
	if c, ok := compareValues(x, y); ok {
		return c
	}
	if rx >= 5 {
		return strings.Compare(canonical(x), canonical(y))
	}
	return 0
}

// canonical renders a value as JSON with sorted keys (encoding/json sorts
// map keys), for grouping and ordering of arrays and objects.
func canonical(v any) string {
	switch x := v.(type) {
	case undefinedT:
		return "undefined"
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func not3(v any) any {
	if b, ok := v.(bool); ok {
		return !b
	}
	return undefined
}

func and3(x, y any) any {
	xb, xok := x.(bool)
	yb, yok := y.(bool)
	switch {
	case xok && !xb || yok && !yb:
		return false
	case xok && yok:
		return true
	}
	return undefined
}

func or3(x, y any) any {
	xb, xok := x.(bool)
	yb, yok := y.(bool)
	switch {
	case xok && xb || yok && yb:
		return true
	case xok && yok:
		return false
	}
	return undefined
}
