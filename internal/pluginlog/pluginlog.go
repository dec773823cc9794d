// Package pluginlog sets the provider's log levels to the level Terraform
// shows.
//
// terraform-plugin-go and terraform-plugin-framework log every request at
// TRACE to stderr unless told otherwise and leave the filtering to
// Terraform, which parses each line and drops what is below the level of
// TF_LOG_PROVIDER (else TF_LOG), and everything when neither is set. A
// refreshing plan of 500 optimization policies wrote 167k lines (82 MB)
// that way: about 40 % of the provider's CPU and a third of Terraform's,
// for output nobody could see.
package pluginlog

import "strings"

// Variables are the level variables of the provider's loggers: the SDK
// root logger, its proto and framework subsystems, and the provider's own
// logger (terraform-plugin-go names it after the provider type).
var Variables = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_SIRSI"}

// validLevels are the levels Terraform accepts; JSON means TRACE.
var validLevels = map[string]bool{"TRACE": true, "DEBUG": true, "INFO": true, "WARN": true, "ERROR": true, "OFF": true}

// Levels returns the variables to set before serving: each of Variables
// that the user left unset, at the level Terraform shows provider logs.
// A variable the user set wins, so TF_LOG_SDK_PROTO=TRACE still works. An
// invalid TF_LOG makes Terraform show everything, so nothing is lowered.
func Levels(lookup func(string) (string, bool)) map[string]string {
	shown := env(lookup, "TF_LOG_PROVIDER")
	if shown == "" {
		shown = env(lookup, "TF_LOG")
	}
	switch {
	case shown == "":
		shown = "OFF"
	case shown == "JSON":
		shown = "TRACE"
	case !validLevels[shown]:
		return nil
	}
	set := map[string]string{}
	for _, v := range Variables {
		if env(lookup, v) == "" {
			set[v] = shown
		}
	}
	return set
}

func env(lookup func(string) (string, bool), name string) string {
	v, _ := lookup(name)
	return strings.ToUpper(strings.TrimSpace(v))
}
