package main

// plantCmd is the plant twin's command group. Its subcommands register
// themselves from their own files (plant_*.go) by appending to sub in init.
var plantCmd = &command{
	name:      "plant",
	usage:     "<subcommand> [flags] [args]",
	shortHelp: "plant twin: reliability, maintenance, estimation, control testing, operator training",
}

func init() { register(plantCmd) }
