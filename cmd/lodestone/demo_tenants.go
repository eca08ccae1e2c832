package main

import (
	"fmt"
	"io"
	"strings"

	"lodestone/server"
)

// demoTenants sets up lodestone demo --tenants: the demo's identity file
// in its data folder (server.DemoAuth: the demo's admin, plantco's admin
// and magnetco's buyer) becomes --auth, and the tokens are printed.
func demoTenants(w io.Writer, o *server.Options) error {
	if o.Auth != "" {
		return usageError{"demo --tenants: brings its own identity file; leave out --auth"}
	}
	path, toks, err := server.DemoAuth(o.DataDir)
	if err != nil {
		return err
	}
	o.Auth = path
	fmt.Fprintf(w, "Tokens of the demo (%s; paste one into the dashboard's token box to see what that company sees, or export LODESTONE_TOKEN=…; without a token you act as the demo's admin, org demo):\n", path)
	for _, t := range toks {
		fmt.Fprintf(w, "  %-15s org %-9s %-7s %s\n", t.Subject, t.Org, strings.Join(t.Roles, ","), t.Token)
	}
	fmt.Fprintf(w, "plantco shares %s (model %s) with magnetco by agreement %s: its capacity, not its reserved share or notes.\n",
		server.DemoOfferTwin, server.DemoOfferModel, server.DemoAgreement)
	return nil
}
