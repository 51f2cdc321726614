package sqlstore

import "github.com/passkeyd/passkeyd"

// PreparedReads counts the queries prepared on st's read pool.
func PreparedReads(st passkeyd.Store) int {
	s := st.(interface{ sqlStore() *Store }).sqlStore()
	s.readStmts.mu.Lock()
	defer s.readStmts.mu.Unlock()
	return len(s.readStmts.m)
}
