// drive.mjs drives a Lodestone server with the official Azure Digital Twins
// SDK for JavaScript (@azure/digital-twins-core) through models, twins,
// components, relationships, telemetry, paged queries and event routes.
//
// Run by internal/adtsdk's Go test:
//   LODESTONE_URL=https://127.0.0.1:PORT LODESTONE_TOKEN=… LODESTONE_ENDPOINT=name \
//   NODE_EXTRA_CA_CERTS=ca.pem node drive.mjs
// Each step prints one line "ok <step>"; the first failure prints
// "FAIL <step>: <why>" and exits 1. "note <what>" lines report an
// incompatibility the script worked around.

import { DigitalTwinsClient } from "@azure/digital-twins-core";

const url = process.env.LODESTONE_URL;
const token = process.env.LODESTONE_TOKEN;
const endpoint = process.env.LODESTONE_ENDPOINT;
const sensors = Number(process.env.LODESTONE_SENSORS || "0");
if (!url || !token || !endpoint) {
  console.error("set LODESTONE_URL, LODESTONE_TOKEN and LODESTONE_ENDPOINT");
  process.exit(2);
}

// A TokenCredential (@azure/core-auth) that returns the --auth token.
const credential = {
  async getToken(scopes) {
    return { token, expiresOnTimestamp: Date.now() + 3600 * 1000 };
  },
};

const client = new DigitalTwinsClient(url, credential);

// note reports an incompatibility the script works around; the Go test
// lists the notes.
function note(msg) {
  console.log("note " + msg);
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  check(g === w, `${what}: got ${g}, want ${w}`);
}

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    const status = e.statusCode ? ` (HTTP ${e.statusCode}${e.code ? " " + e.code : ""})` : "";
    console.log(`FAIL ${name}: ${e.message}${status}`);
    process.exit(1);
  }
}

async function all(iter) {
  const out = [];
  for await (const v of iter) out.push(v);
  return out;
}

const motorId = "dtmi:lodestone:sdktest:Motor;1";
const pumpId = "dtmi:lodestone:sdktest:Pump;1";
const tankId = "dtmi:lodestone:sdktest:Tank;1";
const models = [
  {
    "@id": motorId, "@type": "Interface", "@context": "dtmi:dtdl:context;2",
    contents: [
      { "@type": "Property", name: "rpm", schema: "double", writable: true },
      { "@type": "Telemetry", name: "current", schema: "double" },
    ],
  },
  {
    "@id": tankId, "@type": "Interface", "@context": "dtmi:dtdl:context;2",
    contents: [
      { "@type": "Property", name: "level", schema: "double", writable: true },
    ],
  },
  {
    "@id": pumpId, "@type": "Interface", "@context": "dtmi:dtdl:context;2",
    contents: [
      { "@type": "Property", name: "flow", schema: "double", writable: true },
      { "@type": "Telemetry", name: "pressure", schema: "double" },
      { "@type": "Component", name: "motor", schema: motorId },
      { "@type": "Relationship", name: "feeds", target: tankId,
        properties: [{ "@type": "Property", name: "since", schema: "string", writable: true }] },
    ],
  },
];

const pumps = 12;

await step("createModels", async () => {
  const r = await client.createModels(models);
  eq(r.map((m) => m.id).sort(), [motorId, pumpId, tankId].sort(), "created model ids");
});

await step("getModel", async () => {
  const m = await client.getModel(pumpId, true);
  eq(m.id, pumpId, "model id");
  check(m.model && m.model["@id"] === pumpId, "the model definition is returned");
  check(m.decommissioned === false, "a new model is not decommissioned");
});

await step("listModels", async () => {
  const ids = [];
  let pages = 0;
  for await (const page of client.listModels(undefined, true, 2).byPage({ maxPageSize: 2 })) {
    pages++;
    for (const m of page.value) ids.push(m.id);
  }
  for (const id of [motorId, pumpId, tankId]) check(ids.includes(id), `listModels has ${id} (got ${ids})`);
  eq(new Set(ids).size, ids.length, "distinct models");
  check(pages >= 2, `GET /models honours max-items-per-page 2: ${pages} page(s) of ${ids.length} models`);
});

await step("upsertDigitalTwin", async () => {
  // Twins, components and relationships come back in .body, with the
  // ETag header as .etag (the SDK's 1.x response shape).
  const tank = await client.upsertDigitalTwin("tank-1", JSON.stringify({ $metadata: { $model: tankId }, level: 2.5 }));
  eq(tank.body.$dtId, "tank-1", "tank $dtId");
  check(tank.etag, "upsert returns an ETag header");
  eq(tank.body.$etag, tank.etag, "$etag and the ETag header");
  for (let i = 0; i < pumps; i++) {
    const id = `pump-${String(i).padStart(2, "0")}`;
    const t = await client.upsertDigitalTwin(id, JSON.stringify({
      $metadata: { $model: pumpId }, flow: 10 + i,
      motor: { $metadata: {}, rpm: 1450 },
    }));
    eq(t.body.$dtId, id, "pump $dtId");
  }
});

let etag;
await step("getDigitalTwin", async () => {
  const r = await client.getDigitalTwin("pump-00");
  const t = r.body;
  eq(t.$dtId, "pump-00", "$dtId");
  eq(t.$metadata.$model, pumpId, "$metadata.$model");
  eq(t.flow, 10, "flow");
  etag = r.etag;
  check(etag, "getDigitalTwin gives an ETag");
});

await step("updateDigitalTwin", async () => {
  await client.updateDigitalTwin("pump-00", [{ op: "replace", path: "/flow", value: 42 }], { ifMatch: etag });
  const t = (await client.getDigitalTwin("pump-00")).body;
  eq(t.flow, 42, "flow after the patch");
});

await step("updateDigitalTwin with a stale ETag fails with 412", async () => {
  try {
    await client.updateDigitalTwin("pump-00", [{ op: "replace", path: "/flow", value: 1 }], { ifMatch: etag });
  } catch (e) {
    eq(e.statusCode, 412, "status");
    return;
  }
  throw new Error("a stale If-Match was accepted");
});

await step("getComponent", async () => {
  const c = (await client.getComponent("pump-01", "motor")).body;
  eq(c.rpm, 1450, "motor rpm");
});

await step("updateComponent", async () => {
  await client.updateComponent("pump-01", "motor", [{ op: "replace", path: "/rpm", value: 1500 }]);
  const c = (await client.getComponent("pump-01", "motor")).body;
  eq(c.rpm, 1500, "motor rpm after the patch");
});

await step("upsertRelationship", async () => {
  for (let i = 0; i < pumps; i++) {
    const id = `pump-${String(i).padStart(2, "0")}`;
    const r = await client.upsertRelationship(id, `${id}-feeds-tank-1`, {
      $relationshipId: `${id}-feeds-tank-1`, $sourceId: id, $targetId: "tank-1", $relationshipName: "feeds", since: "2026-01-01",
    });
    eq(r.body.$targetId, "tank-1", "relationship target");
  }
});

await step("getRelationship", async () => {
  const r = (await client.getRelationship("pump-02", "pump-02-feeds-tank-1")).body;
  eq(r.$relationshipName, "feeds", "relationship name");
  eq(r.since, "2026-01-01", "relationship property");
});

await step("updateRelationship", async () => {
  await client.updateRelationship("pump-02", "pump-02-feeds-tank-1", [{ op: "replace", path: "/since", value: "2026-06-01" }]);
  const r = (await client.getRelationship("pump-02", "pump-02-feeds-tank-1")).body;
  eq(r.since, "2026-06-01", "relationship property after the patch");
});

await step("listRelationships", async () => {
  const rels = await all(client.listRelationships("pump-03"));
  eq(rels.map((r) => r.$relationshipId), ["pump-03-feeds-tank-1"], "outgoing relationships");
});

await step("listIncomingRelationships (paged)", async () => {
  const ids = [];
  let pages = 0;
  for await (const page of client.listIncomingRelationships("tank-1").byPage()) {
    pages++;
    for (const r of page.value) ids.push(r.sourceId || r.$sourceId);
  }
  eq(ids.length, pumps, "incoming relationships");
  check(pages >= 1, "at least one page");
});

await step("queryTwins (paged by continuation token)", async () => {
  // The Go test imported more sensors than a page holds (1,000).
  const ids = [];
  let pages = 0;
  for await (const page of client.queryTwins("SELECT * FROM digitaltwins WHERE IS_OF_MODEL('dtmi:lodestone:sdktest:Sensor;1')").byPage()) {
    pages++;
    for (const t of page.value) ids.push(t.$dtId);
  }
  eq(new Set(ids).size, sensors, "distinct sensors found by the query");
  eq(ids.length, sensors, "sensors found by the query");
  check(pages >= 2, `the query came in several pages (got ${pages})`);
});

await step("queryTwins (max-items-per-page)", async () => {
  const ids = [];
  let pages = 0;
  for await (const page of client.queryTwins(`SELECT * FROM digitaltwins WHERE IS_OF_MODEL('${pumpId}')`, 5).byPage({ maxPageSize: 5 })) {
    pages++;
    check(page.value.length <= 5, `page ${pages} has ${page.value.length} rows, asked for 5`);
    for (const t of page.value) ids.push(t.$dtId);
  }
  eq(new Set(ids).size, pumps, "distinct pumps");
  eq(ids.length, pumps, "pumps found by the query");
  check(pages >= 2 || ids.length <= 5, `POST /query honours max-items-per-page 5: ${pages} page(s) of ${ids.length}`);
});

await step("queryTwins (JOIN)", async () => {
  const rows = await all(client.queryTwins("SELECT T FROM digitaltwins P JOIN T RELATED P.feeds WHERE P.$dtId = 'pump-04'"));
  eq(rows.length, 1, "rows");
  eq(rows[0].T.$dtId, "tank-1", "joined twin");
});

await step("upsertEventRoute", async () => {
  // Lodestone's filter syntax (type=…&subject=…), not ADT's SQL-like one.
  // ADT answers 204; the SDK takes any other success status for an error.
  await client.upsertEventRoute("sdk-route", endpoint, "type=lodestone.telemetry&subject=pump-05*");
  const r = await client.getEventRoute("sdk-route");
  eq(r.id, "sdk-route", "route id");
  eq(r.endpointName, endpoint, "route endpoint");
  eq(r.filter, "type=lodestone.telemetry&subject=pump-05*", "route filter");
});

await step("listEventRoutes", async () => {
  const ids = (await all(client.listEventRoutes())).map((r) => r.id);
  check(ids.includes("sdk-route"), `listEventRoutes has sdk-route (got ${ids})`);
});

await step("publishTelemetry", async () => {
  await client.publishTelemetry("pump-05", { pressure: 3.25 }, "sdk-msg-1");
});

await step("publishComponentTelemetry", async () => {
  // @azure/digital-twins-core 1.1.0 hands its payload and messageId
  // arguments to the generated sendComponentTelemetry(id, componentPath,
  // messageId, telemetry) in the wrong order (dist/index.js), so the
  // documented call would send the payload as the Message-Id header and the
  // message id as the body. Passing them swapped puts each where ADT wants it.
  await client.publishComponentTelemetry("pump-05", "motor", "sdk-msg-2", { current: 12.5 });
});

await step("decomissionModel", async () => {
  await client.decomissionModel(tankId);
  const m = await client.getModel(tankId);
  eq(m.decommissioned, true, "decommissioned");
});

await step("upsertDigitalTwin with If-None-Match * on an existing twin fails with 412", async () => {
  try {
    await client.upsertDigitalTwin("pump-00", JSON.stringify({ $metadata: { $model: pumpId }, flow: 1, motor: { $metadata: {} } }), { ifNoneMatch: "*" });
  } catch (e) {
    eq(e.statusCode, 412, "status");
    return;
  }
  throw new Error("a create-only upsert replaced an existing twin");
});

await step("deleteModel", async () => {
  const spare = "dtmi:lodestone:sdktest:Spare;1";
  await client.createModels([{ "@id": spare, "@type": "Interface", "@context": "dtmi:dtdl:context;2", contents: [] }]);
  await client.deleteModel(spare);
  try {
    await client.getModel(spare);
  } catch (e) {
    eq(e.statusCode, 404, "status of a deleted model");
    return;
  }
  throw new Error("the deleted model is still there");
});

await step("deleteRelationship", async () => {
  await client.deleteRelationship("pump-11", "pump-11-feeds-tank-1");
  const rels = await all(client.listRelationships("pump-11"));
  eq(rels.length, 0, "relationships left");
});

await step("deleteDigitalTwin", async () => {
  await client.deleteDigitalTwin("pump-11");
  try {
    await client.getDigitalTwin("pump-11");
  } catch (e) {
    eq(e.statusCode, 404, "status of a deleted twin");
    return;
  }
  throw new Error("the deleted twin is still there");
});

await step("deleteEventRoute", async () => {
  await client.deleteEventRoute("sdk-route");
  const ids = (await all(client.listEventRoutes())).map((r) => r.id);
  check(!ids.includes("sdk-route"), "the route is gone");
});

await step("a wrong token is refused with 401", async () => {
  const bad = new DigitalTwinsClient(url, { getToken: async () => ({ token: "not-the-token-0123456789", expiresOnTimestamp: Date.now() + 3600e3 }) });
  try {
    await bad.getDigitalTwin("pump-00");
  } catch (e) {
    eq(e.statusCode, 401, "status");
    return;
  }
  throw new Error("a wrong token was accepted");
});

console.log("done");
