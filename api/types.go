package api

import (
	"encoding/json"
	"time"

	"lodestone/twin"
)

// The JSON request and response types of the API. The Go client reuses them.

// ModelData is a stored model as ADT returns it from GET /models.
type ModelData struct {
	ID             string            `json:"id"`
	DisplayName    map[string]string `json:"displayName,omitempty"`
	Description    map[string]string `json:"description,omitempty"`
	UploadTime     time.Time         `json:"uploadTime"`
	Decommissioned bool              `json:"decommissioned"`
	Model          json.RawMessage   `json:"model,omitempty"`
	// Org is the org that owns the model (uploaded it); absent for
	// models uploaded without --auth. Not in ADT's ModelData.
	Org string `json:"org,omitempty"`
}

// ModelList is a page of models.
type ModelList struct {
	Value    []ModelData `json:"value"`
	NextLink string      `json:"nextLink,omitempty"`
}

// TwinList is a page of twins.
type TwinList struct {
	Value    []twin.Twin `json:"value"`
	NextLink string      `json:"nextLink,omitempty"`
}

// RelationshipList is a page of relationships (ADT: GET …/relationships).
type RelationshipList struct {
	Value    []twin.Relationship `json:"value"`
	NextLink string              `json:"nextLink,omitempty"`
}

// IncomingRelationship is one item of GET …/incomingrelationships.
type IncomingRelationship struct {
	RelationshipID   string  `json:"$relationshipId"`
	SourceID         twin.ID `json:"$sourceId"`
	RelationshipName string  `json:"$relationshipName"`
	RelationshipLink string  `json:"$relationshipLink"`
}

// IncomingRelationshipList is a page of incoming relationships.
type IncomingRelationshipList struct {
	Value    []IncomingRelationship `json:"value"`
	NextLink string                 `json:"nextLink,omitempty"`
}

// QueryRequest is the body of POST /query.
type QueryRequest struct {
	Query             string `json:"query"`
	ContinuationToken string `json:"continuationToken,omitempty"`
	// PageSize overrides the default of 1,000 rows a page.
	PageSize int `json:"pageSize,omitempty"`
}

// QueryResponse is a page of query results. Rows of SELECT * are twins; rows
// of projections are keyed by alias. QueryCharge is the cost of the query
// (rows scanned), which ADT reports in the query-charge header.
type QueryResponse struct {
	Value             []map[string]any `json:"value"`
	ContinuationToken string           `json:"continuationToken,omitempty"`
	QueryCharge       float64          `json:"queryCharge"`
}

// HistoryEntry is one change of a twin: the state after it, or nil after a
// delete. Sequence numbers the twin's changes from 1 at its first one.
type HistoryEntry struct {
	Sequence int64     `json:"sequence"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"` // create, update, delete
	// Patch is the JSON Patch of an update made by PATCH.
	Patch twin.Patch `json:"patch,omitempty"`
	Twin  *twin.Twin `json:"twin,omitempty"`
}

// HistoryList is the change list of a twin, oldest first.
type HistoryList struct {
	Value []HistoryEntry `json:"value"`
}

// TelemetryPoint is one stored telemetry value.
type TelemetryPoint struct {
	Name       string    `json:"name"`
	Value      any       `json:"value"`
	SourceTime time.Time `json:"sourceTime"`
	MessageID  string    `json:"messageId"`
}

// TelemetryList is a time range of telemetry points.
type TelemetryList struct {
	Value []TelemetryPoint `json:"value"`
}

// Snapshot is the whole graph as of a time.
type Snapshot struct {
	AsOf          time.Time           `json:"asOf"`
	Twins         []twin.Twin         `json:"twins"`
	Relationships []twin.Relationship `json:"relationships"`
}

// PropertyInfo describes one content element of a model, resolved with
// inheritance, for forms and unit display.
type PropertyInfo struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"` // Property, Telemetry, Relationship, Component, Command
	Schema       any    `json:"schema,omitempty"`
	Unit         string `json:"unit,omitempty"`
	SemanticType string `json:"semanticType,omitempty"`
	Writable     bool   `json:"writable,omitempty"`
	Target       string `json:"target,omitempty"` // relationship target model
	DefinedIn    string `json:"definedIn"`
}

// PropertyInfoList lists a model's contents.
type PropertyInfoList struct {
	Value []PropertyInfo `json:"value"`
}

// GraphNode is a twin in a neighbourhood view.
type GraphNode struct {
	ID    twin.ID `json:"id"`
	Model string  `json:"model"`
}

// GraphEdge is a relationship in a neighbourhood view.
type GraphEdge struct {
	ID     string  `json:"id"`
	Source twin.ID `json:"source"`
	Target twin.ID `json:"target"`
	Name   string  `json:"name"`
}

// Neighbourhood is a page of a twin's neighbourhood: the twins within Depth
// hops and the relationships between them, expanded on the server.
type Neighbourhood struct {
	Root       twin.ID     `json:"root"`
	Depth      int         `json:"depth"`
	Nodes      []GraphNode `json:"nodes"`
	Edges      []GraphEdge `json:"edges"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// ImportJob is a bulk import job and its status.
type ImportJob struct {
	ID                 string     `json:"id"`
	Status             string     `json:"status"` // notstarted, running, succeeded, failed
	DryRun             bool       `json:"dryRun"`
	CreatedDateTime    time.Time  `json:"createdDateTime"`
	FinishedDateTime   *time.Time `json:"finishedDateTime,omitempty"`
	ModelsCount        int        `json:"modelsCount"`
	TwinsCount         int        `json:"twinsCount"`
	RelationshipsCount int        `json:"relationshipsCount"`
	Error              *ErrorInfo `json:"error,omitempty"`
	ProcessedLines     int        `json:"processedLines"`
	ProcessedBytes     int64      `json:"processedBytes"`
	TotalBytes         int64      `json:"totalBytes,omitempty"`
}

// ErrorInfo is an error inside a successful response (a failed job).
type ErrorInfo struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Details []ErrorDetail `json:"details,omitempty"`
}

// EventRoute sends events that match Filter to an endpoint.
type EventRoute struct {
	ID       string `json:"id"`
	Filter   string `json:"filter"`
	Endpoint string `json:"endpointName"`
}

// Endpoint is a destination of event routes: a JetStream subject or a webhook.
type Endpoint struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // "jetstream" or "webhook"
	Subject string `json:"subject,omitempty"`
	URL     string `json:"url,omitempty"`
}
