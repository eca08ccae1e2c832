package postgres

import (
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

// encodeProps returns a relationship's props column with its owner (see
// rowcodec.EncodeRelProps).
func encodeProps(r *twin.Relationship) ([]byte, error) { return rowcodec.EncodeRelProps(r) }

// decodeProps reads a relationship's props column into r.
func decodeProps(b []byte, r *twin.Relationship) error { return rowcodec.DecodeRelProps(b, r) }
