package twin

import (
	"encoding/json"
	"time"
)

// Model is a stored DTDL interface. The store keeps the DTDL document as
// given; parsing and validation are package dtdl's job.
type Model struct {
	// ID is the model's DTMI, for example "dtmi:lodestone:Mine;1".
	ID string `json:"id"`
	// DTDL is the raw DTDL JSON of the interface.
	DTDL json.RawMessage `json:"model,omitempty"`
	// UploadTime is when the model was stored; the store sets it.
	UploadTime time.Time `json:"uploadTime"`
	// Decommissioned marks a model that new twins may no longer use.
	Decommissioned bool `json:"decommissioned"`
	// Extends lists the DTMIs of the interfaces this model extends
	// directly, as found by the DTDL parser. The store keeps them so that
	// queries can test model inheritance (IS_OF_MODEL) and so that a model
	// that others extend is not deleted.
	Extends []string `json:"extends,omitempty"`
	// Org is the organisation that owns the model: the org of the
	// principal that uploaded it; "" without --auth.
	Org string `json:"org,omitempty"`
}
