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

// withUsage adds one line of usage (a command's synopsis) to a usage
// error; run prints it after the error. execCommand adds it to the usage
// errors its command returns.
type withUsage struct {
	err   error
	usage string
}

func (e withUsage) Error() string { return e.err.Error() }
func (e withUsage) Unwrap() error { return e.err }

// usageLine returns a usage error with its synopsis.
func usageLine(msg, usage string) error { return withUsage{usageError{msg}, usage} }

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
		// The error first, then one line of usage: the reader sees what
		// went wrong without scrolling back over a command list.
		fmt.Fprintln(env.stderr, "lodestone:", ue.msg)
		var wu withUsage
		if errors.As(err, &wu) && wu.usage != "" {
			fmt.Fprintln(env.stderr, wu.usage)
		}
		return 2
	default:
		fmt.Fprintln(env.stderr, "lodestone:", err)
		return 1
	}
}

const topUsage = "usage: lodestone <command> [flags] [args]; 'lodestone help' lists the commands"

func dispatch(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		printUsage(env.stdout, "lodestone", sortedCommands(commands))
		return usageError{"no command given"}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return help(env, args[1:])
	}
	c, ok := commands[args[0]]
	if !ok {
		return usageLine(fmt.Sprintf("unknown command %q%s", args[0], didYouMean(args[0], commandNames(sortedCommands(commands)))), topUsage)
	}
	return execCommand(ctx, env, "lodestone "+c.name, c, args[1:])
}

// help prints the help of the command named by args (lodestone help twin
// get) to stdout, or the command list without args.
func help(env *cliEnv, args []string) error {
	if len(args) == 0 {
		printUsage(env.stdout, "lodestone", sortedCommands(commands))
		fmt.Fprintln(env.stdout, "\n'lodestone help COMMAND [SUBCOMMAND]' prints the help of one command.")
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return usageLine(fmt.Sprintf("help: unknown command %q%s", args[0], didYouMean(args[0], commandNames(sortedCommands(commands)))), topUsage)
	}
	path := "lodestone " + c.name
	for _, name := range args[1:] {
		s := findSub(c, name)
		if s == nil {
			return usageLine(fmt.Sprintf("help: %s has no subcommand %q%s", path, name, didYouMean(name, commandNames(c.sub))), "usage: lodestone help "+strings.TrimPrefix(path, "lodestone ")+" [SUBCOMMAND]")
		}
		c, path = s, path+" "+s.name
	}
	printCommandHelp(env.stdout, path, c)
	return nil
}

func findSub(c *command, name string) *command {
	for _, s := range c.sub {
		if s.name == name {
			return s
		}
	}
	return nil
}

// printCommandHelp prints a command's synopsis, its help line and its
// flags, or the list of its subcommands.
func printCommandHelp(w io.Writer, path string, c *command) {
	if len(c.sub) > 0 {
		if c.shortHelp != "" {
			fmt.Fprintf(w, "%s: %s\n\n", path, c.shortHelp)
		}
		printUsage(w, path, c.sub)
		return
	}
	fmt.Fprintf(w, "usage: %s %s\n", path, c.usage)
	if c.shortHelp != "" {
		fmt.Fprintln(w, c.shortHelp)
	}
	if c.flags == nil {
		return
	}
	n := 0
	c.flags.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	out := c.flags.Output()
	c.flags.SetOutput(w)
	c.flags.PrintDefaults()
	c.flags.SetOutput(out)
}

func execCommand(ctx context.Context, env *cliEnv, path string, c *command, args []string) error {
	if len(c.sub) > 0 {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			printUsage(env.stdout, path, c.sub)
			if len(args) == 0 {
				return usageLine(path+": missing subcommand", "usage: "+path+" <"+strings.Join(commandNames(c.sub), "|")+"> ...")
			}
			return nil
		}
		if s := findSub(c, args[0]); s != nil {
			return execCommand(ctx, env, path+" "+s.name, s, args[1:])
		}
		return usageLine(fmt.Sprintf("%s: unknown subcommand %q%s", strings.TrimPrefix(path, "lodestone "), args[0], didYouMean(args[0], commandNames(c.sub))),
			"usage: "+path+" <"+strings.Join(commandNames(c.sub), "|")+"> ...")
	}
	synopsis := fmt.Sprintf("usage: %s %s (lodestone help %s)", path, c.usage, strings.TrimPrefix(path, "lodestone "))
	fs := c.flags
	if fs == nil {
		fs = flag.NewFlagSet(path, flag.ContinueOnError)
	}
	// The flag package prints its error and the whole usage on a parse
	// error; run prints the error and one usage line instead, and -h
	// prints the full help below.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	// Flag sets live as long as the process; reset them to their defaults so
	// that one run's flags never leak into the next (tests call run often).
	fs.VisitAll(func(f *flag.Flag) { f.Value.Set(f.DefValue) })
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(env.stderr)
			printCommandHelp(env.stderr, path, c)
			return err
		}
		return usageLine(strings.TrimPrefix(path, "lodestone ")+": "+flagError(fs, err), synopsis)
	}
	fs.SetOutput(env.stderr)
	err := c.exec(ctx, env, fs.Args())
	var ue usageError
	var wu withUsage
	if errors.As(err, &ue) && !errors.As(err, &wu) {
		return withUsage{err, synopsis}
	}
	return err
}

// flagError rewords the flag package's error, with a suggestion for a
// mistyped flag name.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	const undefined = "flag provided but not defined: -"
	if !strings.HasPrefix(msg, undefined) {
		return msg
	}
	name := strings.TrimPrefix(msg, undefined)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	s := fmt.Sprintf("unknown flag --%s", name)
	if best := closest(name, names); best != "" {
		s += fmt.Sprintf(" (did you mean --%s?)", best)
	}
	return s
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

func commandNames(cs []*command) []string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.name
	}
	return names
}

func printUsage(w io.Writer, path string, cs []*command) {
	fmt.Fprintf(w, "usage: %s <command> [flags] [args]\n\ncommands:\n", path)
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.shortHelp)
	}
}

// didYouMean returns ` (did you mean "x"?)` for the closest of names to
// s, or "" when none is close.
func didYouMean(s string, names []string) string {
	if best := closest(s, names); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// closest returns the one name s is a prefix of (two letters at least),
// or else the name nearest to s in edit distance if it is near enough to
// be a typo: at most one edit per three letters (at least one). Ties go
// to the first in names.
func closest(s string, names []string) string {
	var prefixed []string
	for _, n := range names {
		if len(s) >= 2 && strings.HasPrefix(n, s) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestD := "", -1
	for _, n := range names {
		d := editDistance(strings.ToLower(s), strings.ToLower(n))
		if bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	if limit := max(1, len(s)/3); bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the edit distance between a and b, in bytes, counting
// a swap of two neighbours as one edit (optimal string alignment: "modle"
// is one edit from "model").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
