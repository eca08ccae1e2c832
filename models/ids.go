package models

// The identifiers (DTMIs) of the interfaces of the ontology, one per model
// file; a test checks that they match the files.
const (
	// AlloyMaker identifies the Alloy maker interface (AlloyMaker.json).
	AlloyMaker = "dtmi:lodestone:AlloyMaker;1"
	// Analyser identifies the Analyser interface (Analyser.json).
	Analyser = "dtmi:lodestone:Analyser;1"
	// Calciner identifies the Calciner interface (Calciner.json).
	Calciner = "dtmi:lodestone:Calciner;1"
	// Company identifies the Company interface (Company.json).
	Company = "dtmi:lodestone:Company;1"
	// Concentrator identifies the Concentrator interface (Concentrator.json).
	Concentrator = "dtmi:lodestone:Concentrator;1"
	// Connector identifies the Connector interface (Connector.json).
	Connector = "dtmi:lodestone:Connector;1"
	// Country identifies the Country interface (Country.json).
	Country = "dtmi:lodestone:Country;1"
	// Deposit identifies the Deposit interface (Deposit.json).
	Deposit = "dtmi:lodestone:Deposit;1"
	// Entity identifies the Entity interface (Entity.json).
	Entity = "dtmi:lodestone:Entity;1"
	// Equipment identifies the Equipment interface (Equipment.json).
	Equipment = "dtmi:lodestone:Equipment;1"
	// ExportControl identifies the Export control interface (ExportControl.json).
	ExportControl = "dtmi:lodestone:ExportControl;1"
	// Facility identifies the Facility interface (Facility.json).
	Facility = "dtmi:lodestone:Facility;1"
	// Lane identifies the Lane interface (Lane.json).
	Lane = "dtmi:lodestone:Lane;1"
	// Lot identifies the Lot interface (Lot.json).
	Lot = "dtmi:lodestone:Lot;1"
	// MagnetPlant identifies the Magnet plant interface (MagnetPlant.json).
	MagnetPlant = "dtmi:lodestone:MagnetPlant;1"
	// Material identifies the Material interface (Material.json).
	Material = "dtmi:lodestone:Material;1"
	// MetalRefinery identifies the Metal refinery interface (MetalRefinery.json).
	MetalRefinery = "dtmi:lodestone:MetalRefinery;1"
	// Mine identifies the Mine interface (Mine.json).
	Mine = "dtmi:lodestone:Mine;1"
	// Mixer identifies the Mixer interface (Mixer.json).
	Mixer = "dtmi:lodestone:Mixer;1"
	// OEM identifies the OEM interface (OEM.json).
	OEM = "dtmi:lodestone:OEM;1"
	// Policy identifies the Policy interface (Policy.json).
	Policy = "dtmi:lodestone:Policy;1"
	// Precipitator identifies the Precipitator interface (Precipitator.json).
	Precipitator = "dtmi:lodestone:Precipitator;1"
	// ProcessUnit identifies the Process unit interface (ProcessUnit.json).
	ProcessUnit = "dtmi:lodestone:ProcessUnit;1"
	// Pump identifies the Pump interface (Pump.json).
	Pump = "dtmi:lodestone:Pump;1"
	// SXCascade identifies the SX cascade interface (SXCascade.json).
	SXCascade = "dtmi:lodestone:SXCascade;1"
	// SoftSensor identifies the Soft sensor interface (SoftSensor.json).
	SoftSensor = "dtmi:lodestone:SoftSensor;1"
	// SXStage identifies the SX stage interface (SXStage.json).
	SXStage = "dtmi:lodestone:SXStage;1"
	// ScenarioRun identifies the Scenario run interface (ScenarioRun.json).
	ScenarioRun = "dtmi:lodestone:ScenarioRun;1"
	// SeparationPlant identifies the Separation plant interface (SeparationPlant.json).
	SeparationPlant = "dtmi:lodestone:SeparationPlant;1"
	// Settler identifies the Settler interface (Settler.json).
	Settler = "dtmi:lodestone:Settler;1"
	// SimulatedPerformance identifies the Process-twin results interface (SimulatedPerformance.json).
	SimulatedPerformance = "dtmi:lodestone:SimulatedPerformance;1"
	// Stockpile identifies the Stockpile interface (Stockpile.json).
	Stockpile = "dtmi:lodestone:Stockpile;1"
	// Subsidy identifies the Subsidy interface (Subsidy.json).
	Subsidy = "dtmi:lodestone:Subsidy;1"
	// Tariff identifies the Tariff interface (Tariff.json).
	Tariff = "dtmi:lodestone:Tariff;1"
	// Warehouse identifies the Warehouse interface (Warehouse.json).
	Warehouse = "dtmi:lodestone:Warehouse;1"
	// PlantSection identifies the Plant section interface (PlantSection.json).
	PlantSection = "dtmi:lodestone:PlantSection;1"
	// Subunit identifies the Subunit interface (Subunit.json).
	Subunit = "dtmi:lodestone:Subunit;1"
	// MaintainableItem identifies the Maintainable item interface (MaintainableItem.json).
	MaintainableItem = "dtmi:lodestone:MaintainableItem;1"
	// Motor identifies the Motor interface (Motor.json).
	Motor = "dtmi:lodestone:Motor;1"
	// Gearbox identifies the Gearbox interface (Gearbox.json).
	Gearbox = "dtmi:lodestone:Gearbox;1"
	// Instrument identifies the Instrument interface (Instrument.json).
	Instrument = "dtmi:lodestone:Instrument;1"
	// Flowmeter identifies the Flowmeter interface (Flowmeter.json).
	Flowmeter = "dtmi:lodestone:Flowmeter;1"
	// Filter identifies the Filter interface (Filter.json).
	Filter = "dtmi:lodestone:Filter;1"
	// Kiln identifies the Kiln interface (Kiln.json).
	Kiln = "dtmi:lodestone:Kiln;1"
	// WorkOrder identifies the Work order interface (WorkOrder.json).
	WorkOrder = "dtmi:lodestone:WorkOrder;1"
	// FailureRecord identifies the Failure record interface (FailureRecord.json).
	FailureRecord = "dtmi:lodestone:FailureRecord;1"
	// OrgActor identifies the Organisation actor interface (OrgActor.json).
	OrgActor = "dtmi:lodestone:OrgActor;1"
	// DecisionRule identifies the Decision rule interface (DecisionRule.json).
	DecisionRule = "dtmi:lodestone:DecisionRule;1"
)
