// Command lodestone is the one binary of Lodestone: the server, the worker and
// every offline engine (cascades, flowsheets, supply studies) behind one CLI.
//
// Each subcommand lives in its own file and registers itself in the command
// table with register, so subsystems can grow the CLI without touching this file.
package main
