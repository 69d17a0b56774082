package api

// mountFiles registers the files routes.
func (s *Server) mountFiles() error {
	return nil
}
