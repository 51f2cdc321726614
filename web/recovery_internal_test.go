package web

import "testing"

// The dummy hash must cost what a real check costs, so it must parse with
// the real parameters; a malformed one would return at once and let timing
// tell unknown emails apart.
func TestDummyCodeHashIsARealHash(t *testing.T) {
	dummy, ok := parseCodeHash(dummyCodeHash)
	genuine, ok2 := parseCodeHash(hashCode("abcdefghjkmn"))
	if !ok || !ok2 {
		t.Fatalf("parse: dummy %v, real %v", ok, ok2)
	}
	if dummy.memory != genuine.memory || dummy.time != genuine.time || dummy.threads != genuine.threads || len(dummy.key) != len(genuine.key) {
		t.Fatalf("dummy %+v differs from a real hash %+v", dummy, genuine)
	}
	if !checkCode(hashCode("abcdefghjkmn"), "abcdefghjkmn") || checkCode(dummyCodeHash, "abcdefghjkmn") {
		t.Fatal("checkCode")
	}
}
