package examples

import (
	"embed"
	"path"
	"strings"
)

// The demo's story (lodestone demo, the dashboard's #/story page) reads
// these: the organisation of the April 2025 scenario (org/), and readings
// of the dynamic cascade model replayed as analyser telemetry (plant/).
// The dashboard's plant pages start from the specs in plant/ too (GET
// /plant/examples: the estimator readings, control strategies, training
// scenario and inspection rules).
//
//go:embed org/*.json plant/*.json
var demoFiles embed.FS

// Demo returns a bundled file of the demo's story by folder ("org" or
// "plant") and name (without .json).
func Demo(folder, name string) ([]byte, bool) {
	if strings.Contains(folder, "/") || strings.Contains(name, "/") {
		return nil, false
	}
	b, err := demoFiles.ReadFile(path.Join(folder, name+".json"))
	return b, err == nil
}
