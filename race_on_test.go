//go:build race

package main

// raceEnabled: the tests run under -race; the soak then runs an exporter
// built with -race too.
const raceEnabled = true
