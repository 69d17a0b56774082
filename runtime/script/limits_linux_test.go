package script

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// TestConfine runs this test binary again with confine() applied and checks that it can no
// longer write files.
func TestConfine(t *testing.T) {
	if os.Getenv("TESSERA_CONFINE_PROBE") == "1" {
		if err := confine(); err != nil {
			fmt.Println("confine:", err)
			os.Exit(3)
		}
		f, err := os.CreateTemp("", "confine-probe")
		if err != nil {
			os.Exit(0) // cannot even create: confined enough
		}
		defer os.Remove(f.Name())
		if _, err := f.Write([]byte("x")); err == nil {
			fmt.Println("write succeeded")
			os.Exit(4)
		}
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConfine$")
	cmd.Env = append(os.Environ(), "TESSERA_CONFINE_PROBE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("confined probe: %v: %s", err, out)
	}
}
