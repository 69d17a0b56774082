package api

// mountRecords registers the records routes.
func (s *Server) mountRecords() error {
	return nil
}
