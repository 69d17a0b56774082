// Command tessera is the Tessera server, CLI and sandbox worker in one binary.
package main

import (
	"os"

	"github.com/tessera/tessera/server/cli"
)

func main() { os.Exit(cli.Main(os.Args)) }
