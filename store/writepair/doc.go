// Package writepair holds BenchmarkStoreWritePair, which runs the same
// twin creates and patches through store.Store on SQLite and on
// PostgreSQL side by side, as the write pipeline calls them: PutTwin with
// If-None-Match and the model-set version, and PatchTwinFrom under
// If-Match of the twin's version that the last patch stored (the
// pipeline's twin cache) or, when there is none or it is stale, of the
// version read from the store, each with a
// store.Recorder in its context, and the committed records acknowledged in
// batches as the pipeline's relay does. It is the store's half of issue 9's
// write pair; the HTTP half is BenchmarkWritePair in package server.
//
//	LODESTONE_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//		go test -run='^$' -bench=StoreWritePair -benchtime=5s ./store/...
//
// Without LODESTONE_TEST_POSTGRES the PostgreSQL sub-benchmarks skip (and
// fail under CI=true). The package has no code outside its tests.
package writepair
