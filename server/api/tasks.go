package api

// mountTasks registers the tasks routes.
func (s *Server) mountTasks() error {
	return nil
}
