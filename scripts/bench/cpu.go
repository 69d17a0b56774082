package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// machineCPU is the CPU time every process on this machine has used so far (user, nice,
// system, irq and softirq from /proc/stat; steal and idle left out), or 0 where /proc/stat is
// not there. The difference over a measured span divided by the operations done in it is the
// cost of one operation across the server, PostgreSQL, the sandbox workers and the load
// generator: steadier than a rate on a shared machine, where the rate moves with what else runs.
func machineCPU() time.Duration {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	fields := strings.Fields(sc.Text()) // cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// cpuPer is the machine CPU used between from and now per operation (0 when unknown).
func cpuPer(from time.Duration, ops float64) time.Duration {
	now := machineCPU()
	if from == 0 || now == 0 || ops <= 0 {
		return 0
	}
	return time.Duration(float64(now-from) / ops)
}
