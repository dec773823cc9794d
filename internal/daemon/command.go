package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one node of agentd's command tree. Every command opens the
// same way (a flag set writing to stderr, -h printing the usage with the
// subcommands and the flags' defaults, exit 0 for -h and 2 for a usage
// error, stray arguments refused), so that opening lives here once.
type command struct {
	name string
	// synopsis is the command's line in its parent's list.
	synopsis string
	// args follows the command's path in its usage line ("[flags]").
	args string
	// about is printed below the usage line.
	about string
	// flags binds the command's flags on fs and returns its body, run once
	// they are parsed; nil for a command that only groups subcommands.
	flags func(env *environment, fs *flag.FlagSet) func() int
	// positional lets the body read arguments after the flags
	// (fs.Args()); otherwise they are refused.
	positional bool
	subs       []*command
}

// execute runs the command at path ("agentd server") with args: a
// subcommand named by the first argument, else the command itself.
func (c *command) execute(env *environment, path string, args []string) int {
	if len(args) > 0 {
		for _, s := range c.subs {
			if s.name == args[0] {
				return s.execute(env, path+" "+s.name, args[1:])
			}
		}
	}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var body func() int
	if c.flags != nil {
		body = c.flags(env, fs)
	}
	fs.Usage = func() { c.usage(env.stderr, path, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if body == nil {
		if fs.Arg(0) == "help" {
			fs.Usage()
			return exitOK
		}
		if fs.NArg() > 0 {
			kind := "command"
			if strings.Contains(path, " ") {
				kind = "subcommand"
			}
			fmt.Fprintf(env.stderr, "%s: unknown %s %q\n\n", path, kind, fs.Arg(0))
		}
		fs.Usage()
		return exitUsage
	}
	if fs.NArg() > 0 && !c.positional {
		fmt.Fprintf(env.stderr, "%s: unexpected arguments %q\n", path, fs.Args())
		return exitUsage
	}
	return body()
}

// usage prints the usage lines of this command and every runnable one
// below it, the description, the commands below with their synopses, and
// the flags with their defaults.
func (c *command) usage(w io.Writer, path string, fs *flag.FlagSet) {
	var forms, list [][2]string
	if c.flags != nil {
		forms = append(forms, [2]string{path, c.args})
	}
	var walk func(prefix string, cs []*command)
	walk = func(prefix string, cs []*command) {
		for _, s := range cs {
			if s.flags != nil {
				forms = append(forms, [2]string{path + " " + prefix + s.name, s.args})
				list = append(list, [2]string{prefix + s.name, s.synopsis})
			}
			walk(prefix+s.name+" ", s.subs)
		}
	}
	walk("", c.subs)
	var b strings.Builder
	for i, f := range forms {
		lead := "       "
		if i == 0 {
			lead = "Usage: "
		}
		fmt.Fprintf(&b, "%s%s\n", lead, strings.TrimSpace(f[0]+" "+f[1]))
	}
	if c.about != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(c.about))
	}
	if len(list) > 0 {
		b.WriteString("\nCommands:\n")
		width := 0
		for _, l := range list {
			width = max(width, len(l[0]))
		}
		for _, l := range list {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, l[0], l[1])
		}
		fmt.Fprintf(&b, "\nRun '%s <command> -h' for the flags of a command.\n", path)
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("\nFlags:\n")
	}
	fmt.Fprint(w, b.String())
	if hasFlags {
		fs.PrintDefaults()
	}
}
