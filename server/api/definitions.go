package api

// mountDefinitions registers the definitions routes.
func (s *Server) mountDefinitions() error {
	return nil
}
