package actuator

import (
	"reflect"
	"slices"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
)

// RequiredIAMActions lists, sorted, the IAM actions the actuator may call:
// every method of every client interface Config takes (EC2API,
// CloudWatchAPI, and any added later), named "<service>:<operation>". The
// interfaces are the only way the actuator reaches AWS, so a call added to
// one is in this list — and in the policies generated from it — without a
// second edit.
func RequiredIAMActions() []string {
	var out []string
	cfg := reflect.TypeFor[Config]()
	for i := range cfg.NumField() {
		f := cfg.Field(i).Type
		// Client factories: func(region string) SomeAPI.
		if f.Kind() != reflect.Func || f.NumIn() != 1 || f.In(0).Kind() != reflect.String ||
			f.NumOut() != 1 || f.Out(0).Kind() != reflect.Interface {
			continue
		}
		api := f.Out(0)
		for m := range api.Methods() {
			out = append(out, awsclient.IAMAction(sdkPackage(m.Type), m.Name))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sdkPackage is the SDK service package of an interface method, from its
// input type (…/service/ec2 → "ec2").
func sdkPackage(method reflect.Type) string {
	// Methods of an interface type have no receiver: In(0) is the
	// context, In(1) the *XxxInput.
	pkg := method.In(1).Elem().PkgPath()
	return pkg[strings.LastIndex(pkg, "/")+1:]
}
