// Package tenancytest helps test the enforcement of package tenancy
// differentially: [Random] makes a random world of orgs, models, twins,
// relationships, telemetry names, agreements (some expired) and
// principals, and [Rules] is a reference of the sharing rules written
// directly from the rules in the package documentation of tenancy,
// without calling its Policy. [Rules.Graph] computes the visible,
// projected graph a principal sees from the full graph; a query evaluated
// over it (tql.Eval over a MemGraph) is the reference answer every route
// is compared with.
package tenancytest
