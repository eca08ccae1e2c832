// Command lodestone is the one binary of Lodestone: the server, the worker and
// every offline engine (cascades, flowsheets, supply studies) behind one CLI.
//
// Each subcommand lives in its own file and registers itself in the command
// table with register, so subsystems can grow the CLI without touching this file.
//
// Conventions every command gets from main.go: `lodestone help CMD [SUB]`
// prints a command's help; a usage error prints the error, then one usage
// line, and exits 2 (with "did you mean" for a mistyped command,
// subcommand or flag); a failed command exits 1. Commands that talk to a
// server (twin, rel, query, import, export, --graph runs) find it with
// --server, $LODESTONE_SERVER or http://127.0.0.1:8080, or open a data
// folder in-process with --data; their --as-of takes a date (YYYY-MM-DD)
// or an RFC 3339 time (parseAsOf), and the JSON files they read report
// errors by line and column (decodeJSONFile).
package main
