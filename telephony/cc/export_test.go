package cc

// FactsInMemory is how many fact rows the service still holds, for the
// tests that check nothing is kept for ever.
func (s *Service) FactsInMemory() int {
	n := make(chan int, 1)
	s.post(func() { n <- len(s.facts) })
	return <-n
}
