package config

import (
	"flag"
	"fmt"
	"sort"
)

// Flags binds settings to a flag.FlagSet and remembers which flags were
// given, so an unset flag never overrides the file or the environment.
type Flags[T any] struct {
	table []*field[T]
	bound []*binding[T]
}

// ServerFlags binds settings of agentd server and agentd dev.
func ServerFlags() *Flags[*Server] { return &Flags[*Server]{table: fields} }

// AgentFlags binds settings of agentd agent.
func AgentFlags() *Flags[*Agent] { return &Flags[*Agent]{table: agentFields} }

type binding[T any] struct {
	field *field[T]
	name  string
	value *flagValue
}

type flagValue struct {
	boolean bool
	raw     string
	given   bool
}

func (v *flagValue) String() string { return v.raw }

func (v *flagValue) Set(s string) error {
	v.raw, v.given = s, true
	return nil
}

// IsBoolFlag lets "-insecure" stand for "-insecure=true".
func (v *flagValue) IsBoolFlag() bool { return v.boolean }

// Bind registers the flag of setting name on fs; flagName overrides the
// table's flag name (dev mode calls operator_token "-dev-token"), "" keeps
// it. It panics on an unknown setting: that is a programming error.
func (fl *Flags[T]) Bind(fs *flag.FlagSet, name, flagName string, usage string) {
	f := fieldByName(fl.table, name)
	if f == nil {
		panic(fmt.Sprintf("config: no setting %q", name))
	}
	if flagName == "" {
		flagName = f.flag
	}
	if usage == "" {
		usage = f.usage
	}
	v := &flagValue{boolean: f.boolean}
	fs.Var(v, flagName, usage)
	fl.bound = append(fl.bound, &binding[T]{field: f, name: flagName, value: v})
}

// BindAll registers every setting under its table flag name, naming its
// environment variable and HCL attribute in the usage text.
func (fl *Flags[T]) BindAll(fs *flag.FlagSet) {
	for _, f := range fl.table {
		fl.Bind(fs, f.name, "", fmt.Sprintf("%s (env %s, file %s)", f.usage, f.env, f.name))
	}
}

func (fl *Flags[T]) set() []*binding[T] {
	if fl == nil {
		return nil
	}
	var out []*binding[T]
	for _, b := range fl.bound {
		if b.value.given {
			out = append(out, b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
