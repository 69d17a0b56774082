package api

// mountAdmin registers the admin routes.
func (s *Server) mountAdmin() error {
	return nil
}
