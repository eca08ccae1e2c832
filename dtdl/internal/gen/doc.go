// Command gen derives the compact unit tables of package dtdl from the DTDL
// metamodel files in the shared conformance corpus. Run it from the module
// root:
//
//	go run ./dtdl/internal/gen -lang ../shared/conformance/dtdl/language -o dtdl/units_gen.go
package main
