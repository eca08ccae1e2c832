package postgres

import (
	"encoding/json"
	"fmt"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/twin"
)

// checkCond checks a write precondition (see rowcodec.CheckCond).
func checkCond(cond store.Condition, exists bool, etag twin.ETag) error {
	return rowcodec.CheckCond(cond, exists, etag)
}

// stampTwin returns t as a put at transaction time now (Unix ns) stores it
// (see rowcodec.StampTwin).
func stampTwin(t twin.Twin, now int64) twin.Twin { return rowcodec.StampTwin(t, nsTime(now)) }

// encodeTwin returns the props and meta columns of t (see rowcodec.EncodeTwin).
func encodeTwin(t *twin.Twin) (props, meta []byte, err error) { return rowcodec.EncodeTwin(t) }

// decodeTwin rebuilds a twin from its columns (see rowcodec.DecodeTwin).
func decodeTwin(id, model, etag string, props, meta []byte) (twin.Twin, error) {
	return rowcodec.DecodeTwin(id, model, etag, props, meta)
}

// encodeProps returns a relationship's properties as JSON text.
func encodeProps(p map[string]any) ([]byte, error) {
	if len(p) == 0 {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode properties: %w: %w", store.ErrInvalid, err)
	}
	return b, nil
}

// decodeProps reads a relationship's properties column.
func decodeProps(b []byte) (map[string]any, error) {
	if string(b) == "{}" {
		return nil, nil
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode properties: %w", err)
	}
	if len(p) == 0 {
		return nil, nil
	}
	return p, nil
}
