package postgres

import (
	"encoding/json"
	"fmt"

	"lodestone/store"
	"lodestone/twin"
)

// checkCond applies a write precondition to the stored entity's state.
func checkCond(cond store.Condition, exists bool, etag twin.ETag) error {
	if cond.IfNoneMatch && exists {
		return fmt.Errorf("already exists (If-None-Match: *): %w", store.ErrPreconditionFailed)
	}
	if cond.IfMatch != "" {
		if !exists {
			return fmt.Errorf("does not exist (If-Match): %w", store.ErrPreconditionFailed)
		}
		if !etag.Matches(cond.IfMatch) {
			return fmt.Errorf("etag %s does not match %s: %w", etag, cond.IfMatch, store.ErrPreconditionFailed)
		}
	}
	return nil
}

// stampTwin sets what the store owns on a twin written by a put: a new
// ETag and update times now, keeping the writer's source times. The result
// shares t's Properties map.
func stampTwin(t twin.Twin, now int64) twin.Twin {
	ts := nsTime(now)
	out := t
	out.ETag = twin.NewETag()
	out.Metadata.LastUpdateTime = ts
	if len(t.Properties) == 0 {
		out.Metadata.Properties = nil
		return out
	}
	md := make(map[string]twin.PropertyMetadata, len(t.Properties))
	for k := range t.Properties {
		md[k] = twin.PropertyMetadata{LastUpdateTime: ts, SourceTime: t.Metadata.Properties[k].SourceTime}
	}
	out.Metadata.Properties = md
	return out
}

// encodeTwin returns the props and meta columns of t as JSON text. meta
// leaves out the entry of a property whose only metadata is a
// lastUpdateTime equal to the twin's "$lastUpdateTime" (every property
// written by a put), which store.SQLer allows; decodeTwin puts it back.
func encodeTwin(t *twin.Twin) (props, meta []byte, err error) {
	props = []byte("{}")
	if len(t.Properties) > 0 {
		if props, err = json.Marshal(t.Properties); err != nil {
			return nil, nil, fmt.Errorf("encode properties: %w: %w", store.ErrInvalid, err)
		}
	}
	md := t.Metadata
	md.Properties = nil
	for k, pm := range t.Metadata.Properties {
		if pm.SourceTime.IsZero() && pm.LastUpdateTime.Equal(md.LastUpdateTime) {
			if _, ok := t.Properties[k]; ok {
				continue
			}
		}
		if md.Properties == nil {
			md.Properties = make(map[string]twin.PropertyMetadata)
		}
		md.Properties[k] = pm
	}
	if meta, err = md.MarshalJSON(); err != nil {
		return nil, nil, fmt.Errorf("encode metadata: %w: %w", store.ErrInvalid, err)
	}
	return props, meta, nil
}

// decodeTwin rebuilds a twin from its columns (see encodeTwin).
func decodeTwin(id, model, etag string, props, meta []byte) (twin.Twin, error) {
	t := twin.Twin{ID: twin.ID(id), ETag: twin.ETag(etag)}
	if err := t.Metadata.UnmarshalJSON(meta); err != nil {
		return t, fmt.Errorf("decode metadata: %w", err)
	}
	t.Metadata.Model = model
	if string(props) != "{}" {
		if err := json.Unmarshal(props, &t.Properties); err != nil {
			return t, fmt.Errorf("decode properties: %w", err)
		}
		if len(t.Properties) == 0 {
			t.Properties = nil
		}
	}
	for k := range t.Properties {
		if _, ok := t.Metadata.Properties[k]; ok {
			continue
		}
		if t.Metadata.Properties == nil {
			t.Metadata.Properties = make(map[string]twin.PropertyMetadata, len(t.Properties))
		}
		t.Metadata.Properties[k] = twin.PropertyMetadata{LastUpdateTime: t.Metadata.LastUpdateTime}
	}
	return t, nil
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
