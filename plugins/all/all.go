// Package all registers every built-in connector: import it for its side effects.
package all

import (
	_ "github.com/tessera/tessera/plugins/http" // HTTP request
)
