//go:build !unix

package main

import "time"

// selfCPU is not measured here: getrusage is Unix only.
func selfCPU() time.Duration { return 0 }
