package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"
)

// vendored pins every file under static/vendor by its SHA-256, so that a
// library is changed only on purpose: refreshing one means updating its
// folder (named NAME-VERSION), this table and docs/adr/0004 in one commit.
// The npm tarballs the files came from had these integrity values:
//
//	echarts-6.1.0.tgz         sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==
//	world-atlas-2.0.2.tgz     sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==
//	topojson-client-3.1.0.tgz sha512-605uxS6bcYxGXw9qi62XyrV6Q3xwbndjachmNxu8HWTtVPxZfEJN9fd/SZS1Q54Sn2y0TMyMxFj/cJINqGHrKw== (conversion only, not vendored)
var vendored = map[string]string{
	"vendor/echarts-6.1.0/LICENSE":                    "634293835b43a6dd2094fa39182a3d9a6b9ca43b7fdb9ac354e8037af2a3093a",
	"vendor/echarts-6.1.0/NOTICE":                     "d491d358344f842685c1b1585970999db65fe30ecf7ef3867af8814f4016c016",
	"vendor/echarts-6.1.0/echarts.min.js":             "b66b25aeb4df84e33199dc21694014d336d222cbd9deb0e5a7c14bd6aa0d0fd0",
	"vendor/echarts-6.1.0/licenses/LICENSE-d3":        "e1211892da0b0e0585b7aebe8f98c1274fba15bafe47fa1f4ee8a7a502c06304",
	"vendor/world-atlas-2.0.2/LICENSE":                "8048290dfdb6e83fbed17e8985c8cfc4ce9da9b842642f3d3e497280790cfa31",
	"vendor/world-atlas-2.0.2/NOTICE":                 "d65e3497eafcb1cca79ae10f979d310dedbf4031cdd53eb293d9faec73129ac1",
	"vendor/world-atlas-2.0.2/countries-110m.geojson": "76194132f4068098b800b47c308a794b63e60b91b761b4c58b33c161ed7e5ca7",
}

func TestVendoredChecksums(t *testing.T) {
	root := Static()
	seen := map[string]bool{}
	err := fs.WalkDir(root, "vendor", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		seen[p] = true
		want, ok := vendored[p]
		if !ok {
			t.Errorf("%s: vendored file with no pinned checksum (add it to vendored)", p)
			return nil
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, pinned %s", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range vendored {
		if !seen[p] {
			t.Errorf("%s: pinned but missing", p)
		}
	}
}

// TestVendoredLicences checks that every vendored library folder carries
// its licence.
func TestVendoredLicences(t *testing.T) {
	dirs, err := fs.ReadDir(Static(), "vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if !strings.Contains(d.Name(), "-") {
			t.Errorf("vendor/%s: name the folder NAME-VERSION", d.Name())
		}
		if _, err := fs.Stat(Static(), "vendor/"+d.Name()+"/LICENSE"); err != nil {
			t.Errorf("vendor/%s: no LICENSE", d.Name())
		}
	}
}
