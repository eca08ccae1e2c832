// Package tenancy is the policy of who sees and writes what between
// organisations: every model, twin, relationship and telemetry point
// belongs to the org of the principal that created it (recorded in the
// stored entity as "$org", see package twin), and a sharing [Agreement]
// lets an owner org show some of its things to one other org.
//
// The package is pure: it reads no store and no clock. The API builds a
// [Policy] from the agreements it stores and the current time, and asks
// it about each entity it is about to return.
//
// # Rules
//
//   - Unrestricted: the principal of a server without --auth (Method
//     "anonymous") sees and writes everything.
//   - Own org: a principal sees everything of its org; it writes there
//     when it holds the writer (or admin) role. The route guard of package
//     auth decides the roles of reads.
//   - Org "" (things written without --auth, such as a loaded world): every
//     principal reads them; only an admin writes them.
//   - Shared: a twin of org O is visible to org R iff an agreement in force
//     (not expired: Expires is zero or after now) has Owner O, ToOrg R and
//     the twin's model in Models. The model match is exact: a twin of a
//     model that extends a listed model is not shared. The visible
//     properties are the union of Properties over those agreements, and
//     the same names are the visible telemetry. A shared twin shows "$dtId",
//     "$etag", "$metadata.$model", the listed properties and their
//     metadata, nothing else (not its writer, signer or update time).
//   - A relationship of org O is visible to R iff its name is in the
//     Relationships of an agreement in force from O to R and both its end
//     twins are visible to R; its properties are filtered by the
//     Properties of those agreements. A relationship of R's own org or of
//     org "" is visible iff both its ends are.
//   - A model of O is visible to R iff an agreement in force from O to R
//     lists it.
//   - Nothing else of O is visible to R, and the API answers 404 for it,
//     never 403: existence is not disclosed.
//
// See docs/formats/sharing.md for the agreements' JSON and routes.
package tenancy
