//go:build race

package script_test

// raceEnabled: ThreadSanitizer needs large shadow mappings that the workers' RLIMIT_AS refuses,
// so tests that allocate near the memory limit skip under -race.
const raceEnabled = true
