// Package ui embeds the built single-page app (ui/dist, produced by `npm run build`).
package ui

import "embed"

// Dist holds the built UI. Before the first UI build it holds only a placeholder.
//
//go:embed all:dist
var Dist embed.FS
