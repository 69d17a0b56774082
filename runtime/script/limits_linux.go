package script

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// limitAddressSpace caps this process's virtual address space (RLIMIT_AS) at its current size
// plus bytes, and disables core dumps. The Go runtime reserves over a gigabyte of address space
// at start-up (mostly PROT_NONE), so the limit is the head-room for growth: allocations beyond it
// fail and the runtime dies with "out of memory".
func limitAddressSpace(bytes uint64) error {
	cur, err := addressSpace()
	if err != nil {
		return err
	}
	limit := cur + bytes
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		return fmt.Errorf("setting RLIMIT_AS to %d bytes: %w", limit, err)
	}
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	return nil
}

// confine adds defence in depth beyond the JavaScript sandbox itself: no file may be written or
// grown (RLIMIT_FSIZE 0; pipes are unaffected), few descriptors may be open, and the process
// can never gain privileges (PR_SET_NO_NEW_PRIVS) nor be inspected by ptrace (not dumpable).
func confine() error {
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{}); err != nil {
		return fmt.Errorf("setting RLIMIT_FSIZE: %w", err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 64, Max: 64}); err != nil {
		return fmt.Errorf("setting RLIMIT_NOFILE: %w", err)
	}
	const prSetDumpable, prSetNoNewPrivs = 4, 38
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("setting no_new_privs: %w", errno)
	}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetDumpable, 0, 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("clearing dumpable: %w", errno)
	}
	return nil
}

// isolate puts a worker in its own process group so terminal signals meant for the server
// (Ctrl-C) do not kill it mid-call; the server stops workers by closing their stdin.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// addressSpace reads this process's virtual memory size (VmSize) in bytes.
func addressSpace() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading the address space size: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmSize %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("reading the address space size: no VmSize in /proc/self/status")
}
