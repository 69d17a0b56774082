package api

// mountReports registers the reports routes.
func (s *Server) mountReports() error {
	return nil
}
