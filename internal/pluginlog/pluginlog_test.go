package pluginlog

import (
	"maps"
	"testing"
)

func TestLevels(t *testing.T) {
	all := func(level string) map[string]string {
		m := map[string]string{}
		for _, v := range Variables {
			m[v] = level
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"terraform shows nothing", nil, all("OFF")},
		{"TF_LOG", map[string]string{"TF_LOG": "debug"}, all("DEBUG")},
		{"TF_LOG_PROVIDER wins over TF_LOG", map[string]string{"TF_LOG": "TRACE", "TF_LOG_PROVIDER": "warn"}, all("WARN")},
		{"TF_LOG=JSON is TRACE", map[string]string{"TF_LOG": "json"}, all("TRACE")},
		{"TF_LOG=off", map[string]string{"TF_LOG": "off"}, all("OFF")},
		{"empty TF_LOG is unset", map[string]string{"TF_LOG": " "}, all("OFF")},
		{"invalid level: Terraform shows everything", map[string]string{"TF_LOG": "verbose"}, nil},
		{
			"a level the user set stays",
			map[string]string{"TF_LOG_SDK_PROTO": "TRACE"},
			map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF", "TF_LOG_PROVIDER_SIRSI": "OFF"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Levels(func(k string) (string, bool) {
				v, ok := tc.env[k]
				return v, ok
			})
			if !maps.Equal(got, tc.want) {
				t.Errorf("Levels(%v) = %v, want %v", tc.env, got, tc.want)
			}
		})
	}
}
