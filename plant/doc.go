// Package plant is the plant twin's root: the ISO 14224 equipment
// taxonomy of a rare-earth SX plant and the effective capacity a
// separation plant offers the supply network. Its sub-packages hold the
// engines: reliability (life-data fits, availability, age replacement,
// maintenance plans), refplant (the reference plant of the demo), and the
// estimator, control and training packages.
//
// # Taxonomy
//
// ISO 14224:2016 (petroleum, petrochemical and natural gas industries —
// collection and exchange of reliability and maintenance data for
// equipment) divides an installation into nine levels: 1 industry,
// 2 business category, 3 installation, 4 plant/unit, 5 section/system
// (use and location data), 6 equipment unit, 7 subunit, 8 component or
// maintainable item, 9 part (equipment subdivision) (research note
// plant-trust.md §b.5 [V]). The ontology maps levels 3–8 to
// SeparationPlant, PlantSection, the Equipment classes, Subunit and
// MaintainableItem; [SXEquipmentClasses] lists the equipment classes of an
// SX plant with the ISO 14224 class each belongs to. The class names follow
// ISO 14224 Annex A as recalled, not checked against the standard's text.
//
// # Effective capacity
//
// A separation plant's capacity in the supply network is (issue 13 item 3)
//
//	capacity = trains × design throughput per train × recovery × scale-up × availability
//
// where recovery comes from the process twin (a fraction of the feed REO
// reaching product), scale-up is the explicit factor from the process
// twin's scale (bench or pilot) to the plant's (1 when the recovery is
// already plant-scale), and availability is the plant twin's steady-state
// availability of one train (so trains × availability is the expected
// number of trains running, for independent trains). Every term carries
// its source; [EffectiveCapacity] checks the result against the nameplate
// and warns when it is outside the band (a bench cascade once set a plant's
// capacity to 2.95 t/yr: the check catches that).
//
// # Availability from the equipment
//
// [PlantAvailability] gives the availability term from the twin graph:
// the FailureRecord twins of the equipment each SX train needs, fitted per
// equipment model (MTBF the fitted mean life, MTTR the mean recorded
// downtime), each train's reliability block diagram (units in series,
// duty/standby groups by tag), and the mean over the trains. Without life
// data it says why instead of giving a number: the reference plant has
// none (no public MTBF or MTTR for SX equipment was found).
package plant
