package api

// mountFlows registers the flows routes.
func (s *Server) mountFlows() error {
	return nil
}
