package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	fs := flag.NewFlagSet("lodestone version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the version as JSON")
	register(&command{
		name:      "version",
		usage:     "[--json]",
		shortHelp: "print the module version, the VCS revision and time it was built from, and the Go version",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("version: unexpected argument %q", args[0])}
			}
			v := buildVersion()
			if *asJSON {
				return printJSON(env.stdout, v)
			}
			fmt.Fprintln(env.stdout, v.String())
			return nil
		},
	})
}

// versionInfo is what the binary knows of its own build (go version -m
// reads the same): the module version ("(devel)" for a build from a
// checkout), and the VCS stamp when the build had one.
type versionInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

func buildVersion() versionInfo {
	v := versionInfo{Module: "lodestone", Version: "(unknown)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one-line form: "lodestone (devel) rev 1a2b3c4d5e6f
// (2026-12-06T23:00:00Z, modified) go1.26.0".
func (v versionInfo) String() string {
	s := v.Module + " " + v.Version
	if v.Revision != "" {
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " rev " + rev
		switch {
		case v.Time != "" && v.Modified:
			s += " (" + v.Time + ", modified)"
		case v.Time != "":
			s += " (" + v.Time + ")"
		case v.Modified:
			s += " (modified)"
		}
	}
	return s + " " + v.Go
}
