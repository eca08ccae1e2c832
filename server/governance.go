package server

import (
	"flag"
	"fmt"
	"os"

	"lodestone/org/governance"
)

// registerGovernFlags adds the flag of the governed subjects.
func (o *Options) registerGovernFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Govern, "govern", o.Govern, "governance file: the models, twins and properties whose changes go through proposal, review and approval (docs/formats/governance.md)")
}

// MergeGovernFlags copies --govern over o when it was given.
func MergeGovernFlags(o *Options, f Options, set map[string]bool) {
	if set["govern"] {
		o.Govern = f.Govern
	}
}

// governance reads the governance file (nil without one).
func (o *Options) governance() (*governance.Config, error) {
	if o.Govern == "" {
		return nil, nil
	}
	b, err := os.ReadFile(o.Govern)
	if err != nil {
		return nil, fmt.Errorf("server: govern: %w", err)
	}
	c, err := governance.DecodeConfig(b)
	if err != nil {
		return nil, fmt.Errorf("server: govern %s: %w", o.Govern, err)
	}
	return c, nil
}
