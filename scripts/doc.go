// Package scripts holds no code: its tests check the shell the repository
// asks people and CI to run (scripts/*.sh, the README's by-hand steps).
package scripts
