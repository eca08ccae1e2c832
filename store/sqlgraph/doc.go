// Package sqlgraph lets the query language read the twin graph straight from
// a SQL store: it implements tql.Graph (with history and model scans) over
// the relations a backend exposes through store.SQLer, so a query walks the
// graph through the store's indexes instead of loading it into memory.
//
// Lookups by $dtId, by model and by relationship (source and name, or
// target) are single indexed queries; scans read in keyset-paginated batches
// in the order tql.Graph's contract requires, so a query that stops after a
// page reads only that page.
//
// # Pushdown
//
// Run evaluates a query with as much of the work in SQL as gives the same
// result as the reference evaluator (tql.Eval over New), and falls back to
// the evaluator for the rest. Queries anchored by $dtId (or $sourceId) are
// lookups and go to the evaluator as they are. A JOIN or MATCH query that
// the evaluator starts by scanning the twins of a model (its first
// top-level IS_OF_MODEL conjunct, without OPTIONAL MATCH) gets the
// conditions on that variable alone added to the scan, as below; walks from
// the scanned twins stay indexed lookups. For a query over one collection:
//
//   - WHERE: every top-level AND conjunct that compiles is added to the
//     scan's SQL, so SQL returns only matching rows. Comparisons of a
//     property, $dtId, $etag or $metadata.$model (or a relationship's
//     system properties) with a literal, IN and NIN lists, AND, OR, NOT,
//     IS_OF_MODEL (through the model_bases relation), IS_DEFINED, IS_NULL,
//     IS_BOOL, IS_NUMBER, IS_STRING, IS_PRIMITIVE, IS_OBJECT, STARTSWITH,
//     ENDSWITH and CONTAINS compile; quantity comparisons ('500 kg'),
//     ARRAY_CONTAINS and comparisons between two properties do not. A
//     compiled condition keeps tql's three-valued logic (undefined is SQL
//     NULL, comparisons across JSON types are false or undefined as in tql),
//     so the evaluator, which still checks WHERE, sees exactly the rows it
//     would keep.
//   - GROUP BY and aggregates over twins, when the whole WHERE compiles,
//     run as one SQL statement; groups come in the evaluator's order (by
//     the first $dtId of each group). Data SQL cannot aggregate exactly
//     (arrays or objects as keys, nulls, arrays or objects in MIN/MAX,
//     non-integral numbers in SUM/AVG, whose last bits depend on the order
//     of summation) makes Run fall back.
//   - ORDER BY (with or without TOP), first page: SQL sorts the matching
//     twins in the evaluator's order (undefined < null < booleans < numbers
//     < strings, ties by $dtId) and the evaluator runs over the page's twins
//     only; continuation pages go to the evaluator.
//
// Cost: the SQL path counts the rows SQL examined: the twins (or
// relationships) of the scanned range, in the scanned model when the
// evaluator would scan by model, plus the rows of lookups. That is what the
// evaluator reads without pushdown, so costs are the same (the tests check
// equality); what pushdown saves is decoding and
// evaluating the rows that do not match. When that count exceeds
// Options.MaxScan, Run leaves the query to the evaluator, so the cost guard
// refuses or pages it exactly as without pushdown.
//
// Both dialects of store.SQLer are compiled: SQLite with json_type and
// json_extract, PostgreSQL with jsonb operators (#>, #>>, jsonb_typeof).
package sqlgraph
