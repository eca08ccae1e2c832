// Package tql is Lodestone's twin query language: the query language of Azure
// Digital Twins (ADT) plus what ADT users ask for and cannot have there.
//
// A query goes through four steps:
//
//	Parse   text → *Query (syntax only; a *ParseError names line and column)
//	Check   resolves names and enforces the rules (a *SemanticError)
//	Eval    runs a checked query against a [Graph] and returns one page
//	Run     all three, from the text
//
// The AST is exported so that store backends can compile a query to SQL; the
// evaluator in this package is the reference implementation that they are
// tested against (package tqltest runs the same scripts against any engine).
//
// # ADT compatibility
//
// SELECT *, projections of collections and property paths (T.name,
// T.$dtId, T.$metadata.$model), AS aliases, TOP(n), COUNT(); FROM
// DIGITALTWINS [alias], FROM RELATIONSHIPS [alias]; JOIN x RELATED y.rel
// [relAlias]; MATCH (a)-[r:n1|n2]->(b), <-[]-, -[]-, hop counts *3, *1..3,
// *..3; WHERE with = != < <= > >=, IN, NIN, AND, OR, NOT and the functions
// IS_OF_MODEL (inheritance-aware, with exact), IS_DEFINED, IS_NULL, IS_BOOL,
// IS_NUMBER, IS_STRING, IS_PRIMITIVE, IS_OBJECT, STARTSWITH, ENDSWITH,
// CONTAINS and ARRAY_CONTAINS.
//
// Case rules are ADT's: keywords and function names are case-insensitive;
// collection aliases, property names and string values are case-sensitive.
// A reserved word is used as a name by escaping it: [[Group]]. Strings take
// single or double quotes, with backslash escapes ('D\'Souza').
//
// Hop ranges follow the ADT reference literally: in *a..b the lower bound is
// excluded and the upper bound included, so *1..3 means two or three hops and
// *..3 means one to three; *3 means exactly three and no count means one.
// A relationship variable needs a single hop (ADT); bind a path instead
// (MATCH p = (a)-[*..6]->(b)) to return the relationships of a longer walk.
// Within one walk a relationship is traversed at most once, so cycles end.
// At most 10 hops per query (Options.MaxHops).
//
// Source: Azure Digital Twins query language reference (learn.microsoft.com,
// reference-query-clause-*.md, reference-query-functions.md,
// reference-query-operators.md, reference-query-reserved.md, 2022–2025) and
// the samples in Azure-Samples/digital-twins-docs-code queries/*.sql.
//
// # Beyond ADT
//
//   - MATCH and JOIN need no $dtId anchor. A query without one scans; the
//     scan is bounded by Options.MaxScan (rows read) and either refused with a
//     *CostError or cut into pages (Options.OnLimit = Page).
//   - ORDER BY key [ASC|DESC], ... by expression, by select alias or by
//     ordinal; GROUP BY with SUM, AVG, MIN, MAX and COUNT.
//   - OPTIONAL MATCH: rows are kept with the optional variables null when the
//     optional pattern (with the WHERE conditions that name its variables) has
//     no match.
//   - Path results: MATCH p = (a)-[:suppliesTo*..6]->(b) binds p to
//     {"twins": [ids...], "relationships": [documents...]}.
//   - AS OF 'RFC 3339 time' after the collection reads the graph as it was at
//     that instant (the graph must implement [HistoryGraph]).
//   - SELECT * over a JOIN or a MATCH of several twins returns rows keyed by
//     collection name (ADT rejects SELECT * with JOIN). Options.RequireAnchor
//     restores ADT's rule that MATCH and JOIN queries name a $dtId.
//   - Quantities: comparing a property with a string such as '500 kg'
//     converts the literal into the unit the property's model declares (see
//     [UnitResolver] and [LookupUnit]); without a declared unit the string is
//     compared as a string, as in ADT.
//
// # Values and comparison
//
// Documents are JSON objects in ADT shape (map[string]any, numbers float64).
// A missing property is undefined; comparing undefined, or ordering values of
// different types, is undefined, and a row passes WHERE only when its
// condition is true (AND, OR and NOT use three-valued logic). = between
// different types is false and != is true. ORDER BY sorts undefined < null <
// booleans < numbers < strings < arrays and objects.
//
// # Paging and cost
//
// Eval returns at most Options.PageSize rows (1,000 by default, as ADT) and
// an opaque continuation token for the next page. Every result carries
// Cost.RowsScanned: twins and relationships read, index lookups included.
package tql
