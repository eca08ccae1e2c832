package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one entry of the CLI table, shaped like ffcli: a name, its own
// flag set and an Exec function. Subcommands with children (model validate,
// twin get) use sub instead of exec.
type command struct {
	name      string
	usage     string // one line, shown in the command list
	shortHelp string
	flags     *flag.FlagSet
	exec      func(ctx context.Context, env *cliEnv, args []string) error
	sub       []*command
}

// cliEnv carries the streams a command writes to, so tests can capture them.
type cliEnv struct {
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
}

// exitError asks main to exit with a specific code without printing anything
// more (the command has already reported).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError marks bad command-line use; main exits 2 for it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

var commands = map[string]*command{}

// register adds a top-level command; it panics on a duplicate name, which is
// a programming error.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("lodestone: duplicate command " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &cliEnv{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the CLI and returns the process exit code: 0 success, 1 a
// failed command, 2 a usage error.
func run(ctx context.Context, env *cliEnv, args []string) int {
	err := dispatch(ctx, env, args)
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(env.stderr, "lodestone:", ue.msg)
		return 2
	default:
		fmt.Fprintln(env.stderr, "lodestone:", err)
		return 1
	}
}

func dispatch(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stdout, "lodestone", sortedCommands(commands))
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		printUsage(env.stderr, "lodestone", sortedCommands(commands))
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	return execCommand(ctx, env, "lodestone "+c.name, c, args[1:])
}

func execCommand(ctx context.Context, env *cliEnv, path string, c *command, args []string) error {
	if len(c.sub) > 0 {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			printUsage(env.stdout, path, c.sub)
			if len(args) == 0 {
				return usageError{path + ": missing subcommand"}
			}
			return nil
		}
		for _, s := range c.sub {
			if s.name == args[0] {
				return execCommand(ctx, env, path+" "+s.name, s, args[1:])
			}
		}
		printUsage(env.stderr, path, c.sub)
		return usageError{fmt.Sprintf("%s: unknown subcommand %q", path, args[0])}
	}
	fs := c.flags
	if fs == nil {
		fs = flag.NewFlagSet(path, flag.ContinueOnError)
	}
	fs.SetOutput(env.stderr)
	if fs.Usage == nil || c.usage != "" {
		fs.Usage = func() {
			fmt.Fprintf(env.stderr, "usage: %s %s\n", path, c.usage)
			if c.shortHelp != "" {
				fmt.Fprintln(env.stderr, c.shortHelp)
			}
			fs.PrintDefaults()
		}
	}
	// Flag sets live as long as the process; reset them to their defaults so
	// that one run's flags never leak into the next (tests call run often).
	fs.VisitAll(func(f *flag.Flag) { f.Value.Set(f.DefValue) })
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return c.exec(ctx, env, fs.Args())
}

// interleave moves flags that follow positional arguments to the front, so
// "lodestone sx simulate spec.json --json" works as users expect; std flag
// stops at the first positional argument otherwise. "--" ends flag parsing.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func sortedCommands(m map[string]*command) []*command {
	out := make([]*command, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func printUsage(w io.Writer, path string, cs []*command) {
	fmt.Fprintf(w, "usage: %s <command> [flags] [args]\n\ncommands:\n", path)
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.shortHelp)
	}
}
