package api

// mountForms registers the forms routes.
func (s *Server) mountForms() error {
	return nil
}
