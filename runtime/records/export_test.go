package records

// TraceQueries makes s report every list query to f (tests only).
func TraceQueries(s *Store, f func(sql string, args []any)) { s.traceQuery = f }
