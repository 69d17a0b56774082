package api

// mountApps registers the apps routes.
func (s *Server) mountApps() error {
	return nil
}
