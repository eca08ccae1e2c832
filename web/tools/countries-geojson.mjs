// countries-geojson.mjs converts Natural Earth's 1:110m country boundaries,
// as TopoJSON in the npm package world-atlas, to the GeoJSON the dashboard's
// map loads (web/static/vendor/world-atlas-2.0.2/countries-110m.geojson).
// Run once when the boundaries are refreshed, never at run time:
//
//	cd /tmp && npm pack world-atlas@2.0.2 topojson-client@3.1.0
//	tar xzf world-atlas-2.0.2.tgz && mv package world-atlas
//	tar xzf topojson-client-3.1.0.tgz && mv package topojson-client
//	node web/tools/countries-geojson.mjs /tmp/topojson-client /tmp/world-atlas/countries-110m.json \
//	  > web/static/vendor/world-atlas-2.0.2/countries-110m.geojson
//
// Coordinates are rounded to 0.01° (about 1 km, far below the 1:110m
// scale's own precision) to keep the file small. Each feature keeps the
// package's properties: id (ISO 3166-1 numeric, as a string) and name.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [clientDir, topoFile] = process.argv.slice(2);
if (!clientDir || !topoFile) {
  console.error("usage: node countries-geojson.mjs TOPOJSON_CLIENT_DIR countries-110m.json");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const topojson = require(path.resolve(clientDir, "dist/topojson-client.js"));
const topo = JSON.parse(readFileSync(topoFile, "utf8"));
const fc = topojson.feature(topo, topo.objects.countries);
// Antarctica (010) is dropped: no facility is there and its ring spans
// every longitude. Rings that cross the antimeridian (Fiji's and
// Chukotka's slivers, spanning more than 180° of longitude once cut) are
// dropped too: drawn flat they would streak across the whole map.
const span = (ring) => Math.max(...ring.map((p) => p[0])) - Math.min(...ring.map((p) => p[0]));
const keep = (g) => {
  if (!g) return g;
  const polys = (g.type === "Polygon" ? [g.coordinates] : g.coordinates).filter((p) => span(p[0]) <= 180);
  return polys.length === 1 ? { type: "Polygon", coordinates: polys[0] } : { type: "MultiPolygon", coordinates: polys };
};
const round = (c) => (typeof c[0] === "number" ? [Math.round(c[0] * 100) / 100, Math.round(c[1] * 100) / 100] : c.map(round));
const out = {
  type: "FeatureCollection",
  features: fc.features.filter((f) => f.id !== "010").map((f) => ({ ...f, geometry: keep(f.geometry) })).map((f) => ({
    type: "Feature",
    id: f.id,
    properties: { id: f.id, name: f.properties.name },
    geometry: f.geometry && { type: f.geometry.type, coordinates: round(f.geometry.coordinates) },
  })),
};
process.stdout.write(JSON.stringify(out) + "\n");
