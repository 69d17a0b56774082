// Command tessera is the Tessera server, CLI and sandbox worker in one binary.
package main

import (
	"os"

	"github.com/tessera/tessera/runtime/script"
	"github.com/tessera/tessera/server/cli"
)

func main() {
	cli.Subcommands[script.WorkerSubcommand] = script.WorkerMain
	os.Exit(cli.Main(os.Args))
}
