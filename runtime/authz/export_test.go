package authz

// ClearTeamCache drops the cached team lists (benchmarks of the cold path).
func (a *Authorizer) ClearTeamCache() {
	a.teamMu.Lock()
	clear(a.teamCache)
	a.teamMu.Unlock()
}
