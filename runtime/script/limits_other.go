//go:build !linux

package script

import (
	"errors"
	"os/exec"
)

// limitAddressSpace is only implemented on Linux; workers refuse to start elsewhere when a memory
// limit is requested, since running without one would be unsafe.
func limitAddressSpace(bytes uint64) error {
	return errors.New("the script sandbox memory limit needs Linux (RLIMIT_AS)")
}

func isolate(cmd *exec.Cmd) {}

func confine() error { return nil }
