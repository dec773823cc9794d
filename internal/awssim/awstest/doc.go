// Package awstest holds the honesty harness for the simulated AWS account:
// a strict response validator driven by the botocore service models, a
// recording HTTP transport, a moto_server launcher and an AWS CLI runner.
//
// The SDK decoders silently drop members they do not know, so a response that
// decodes is not proof that it is right; every response the simulator sends
// in a test goes through Model.ValidateResponse, which rejects unknown or
// misnamed members, wrong types, wrong list/map wrappers and unknown enum
// values.
//
// The models, moto_server and the aws CLI come from the machine's Python.
// When they are missing a test is skipped with a visible message, except
// under CI=true, where their absence fails the test: a CI run that silently
// skips the honesty checks would prove nothing.
package awstest
