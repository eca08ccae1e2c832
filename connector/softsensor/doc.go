// Package softsensor runs the plant twin's soft sensor live: the extended
// Kalman filter of plant/estimate on the telemetry that connectors and
// POST /digitaltwins/{id}/telemetry store (lodestone serve --estimators
// FILE, docs/formats/plant-estimators.md).
//
// An Estimator subscribes to the telemetry events of its sensors' twins.
// An event says which telemetry arrived, not its sample time, so the
// estimator reads the new points of that telemetry from the store (from
// its newest source time less a minute, deduplicated by message id) and
// feeds the filter in arrival order: a reading older than the filter's
// time (a lab assay, delay_h late) is re-filtered in its place, as the
// offline `lodestone plant estimate` does. The estimates go to a twin of
// dtmi:lodestone:SoftSensor;1 through the write pipeline, at most once per
// write_interval_s of data time; an alarm (sensor_drift naming the
// sensor, out_of_sync) is written at once with certified false, recorded
// as a store document of kind "estimator-alarm" and published as a
// "lodestone.plant.alarm" event. The status (filter time, NIS window,
// CUSUMs, alarms, certified) is a document of kind "estimator-status",
// which GET /plant/estimators serves from any server of the database.
package softsensor
