package config

import (
	"flag"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
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
	fl.bind(fs, name, flagName, usage, "")
}

func (fl *Flags[T]) bind(fs *flag.FlagSet, name, flagName, usage, def string) {
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
	// raw starts as the default only so that -h shows it: a flag counts
	// only once given.
	v := &flagValue{boolean: f.boolean, raw: def}
	fs.Var(v, flagName, usage)
	fl.bound = append(fl.bound, &binding[T]{field: f, name: flagName, value: v})
}

// BindAll registers every setting under its table flag name, naming its
// environment variable and HCL attribute in the usage text, and showing
// its value in defaults (a Server or Agent) as the flag's default in -h.
func (fl *Flags[T]) BindAll(fs *flag.FlagSet, defaults any) {
	for _, f := range fl.table {
		fl.bind(fs, f.name, "", fmt.Sprintf("%s (env %s, file %s)", f.usage, f.env, f.name), defaultText(defaults, f.name))
	}
}

// defaultText is the value of setting name ("tls.cert_file") in defaults,
// found by matching each dotted part, without underscores, to a struct
// field's name case-insensitively (TLS.CertFile); "" when it is the zero
// value or not a plain field.
func defaultText(defaults any, name string) string {
	v := reflect.Indirect(reflect.ValueOf(defaults))
	for _, part := range strings.Split(name, ".") {
		if v.Kind() != reflect.Struct {
			return ""
		}
		want := strings.ReplaceAll(part, "_", "")
		var next reflect.Value
		for i := 0; i < v.NumField(); i++ {
			if strings.EqualFold(v.Type().Field(i).Name, want) {
				next = v.Field(i)
				break
			}
		}
		if !next.IsValid() {
			return ""
		}
		v = next
	}
	if v.IsZero() {
		return ""
	}
	switch x := v.Interface().(type) {
	case time.Duration:
		return x.String()
	case []string:
		return strings.Join(x, ",")
	case string, bool, int, int64, float64:
		return fmt.Sprint(x)
	}
	return ""
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
