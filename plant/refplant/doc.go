// Package refplant is the reference separation plant of the demo: an
// illustrative rare-earth SX plant (trains, Pr/Nd cascades of mixer-settler
// stages, agitator drives, dosing and transfer pumps in duty/standby pairs,
// flowmeters, an on-line XRF analyser per train, interface and level
// transmitters on the settlers of two stages per cascade, precipitation and
// calcining) as twins and relationships of the Lodestone ontology,
// structured by the ISO 14224 taxonomy: plant → section (PlantSection) →
// equipment unit (Equipment and its classes) → subunit (Subunit) →
// maintainable item (MaintainableItem).
//
// The data is data/refplant.json, embedded. Every number carries its
// source in the twin's Entity.sources (by property) or says that it is an
// assumption; the file's "sources" table holds the citations. It is not
// any real plant. No public life data for SX equipment was found, so the
// maintainable items carry no Weibull parameters.
//
// The package is pure and imports nothing from the twin graph (the plant
// layer may not): [Load] returns plain [Twin] and [Relationship] values
// with the field names of the graph's, which the server turns into
// twin.Twin and twin.Relationship when it loads the demo.
//
// [Plant.TrainBlock] turns a train's equipment into the availability block
// diagram of package reliability (drives and meters in series, duty/standby
// pump pairs), given MTBF and MTTR per equipment class: the plant twin's
// availability that the supply layer's capacity needs
// (plant.EffectiveCapacity). plant.PlantAvailability builds the same
// diagrams from the twin graph (its tests check that they agree) and takes
// the figures from failure records.
package refplant
