package api

// mountCatalog registers the catalog routes.
func (s *Server) mountCatalog() error {
	return nil
}
