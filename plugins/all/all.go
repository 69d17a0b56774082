// Package all registers every built-in connector: import it for its side effects.
package all
