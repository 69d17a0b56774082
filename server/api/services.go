package api

// Services holds the runtime services shared between route files. Add a field here when a
// runtime package is ready, and construct it in initServices.
type Services struct {
}

// initServices constructs the runtime services from the server's config and database.
func (s *Server) initServices() error {
	return nil
}
