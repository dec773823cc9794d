// Package deploy holds no code: the install kit (IAM policies, systemd
// units, the Terraform module) lives beside it, and its tests verify each
// artefact with the tool that will consume it.
package deploy
