// Package examples embeds the example specs of the process engines
// (examples/sx, sx-design, sx-dynamic, precip, calcine, flowsheet) so that
// the server can offer them as starting points (GET /process/examples)
// without reading the source tree at run time.
package examples
