package tenants

// WithBeforeCheck makes the store call f just before each password check
// (each argon2id computation of a log-in), so tests can count them and
// hold them at a barrier.
func WithBeforeCheck(f func()) Option { return func(s *Store) { s.beforeCheck = f } }
