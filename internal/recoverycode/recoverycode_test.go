package recoverycode

import (
	"strings"
	"testing"
)

// The dummy hash must cost what a real check costs, so it must parse with
// the real parameters; a malformed one would return at once and let timing
// tell unknown emails apart.
func TestDummyHashIsARealHash(t *testing.T) {
	dummy, ok := parseHash(DummyHash)
	genuine, ok2 := parseHash(Hash("abcdefghjkmn"))
	if !ok || !ok2 {
		t.Fatalf("parse: dummy %v, real %v", ok, ok2)
	}
	if dummy.memory != genuine.memory || dummy.time != genuine.time || dummy.threads != genuine.threads || len(dummy.key) != len(genuine.key) {
		t.Fatalf("dummy %+v differs from a real hash %+v", dummy, genuine)
	}
}

func TestCheck(t *testing.T) {
	h := Hash("abcdefghjkmn")
	if !Check(h, "abcdefghjkmn") {
		t.Error("the right secret does not match its hash")
	}
	if Check(h, "abcdefghjkmp") {
		t.Error("a wrong secret matches")
	}
	if Check(DummyHash, "abcdefghjkmn") {
		t.Error("the dummy hash matches a secret")
	}
	if Check("argon2id$broken", "abcdefghjkmn") {
		t.Error("a malformed hash matches")
	}
	if Hash("abcdefghjkmn") == h {
		t.Error("two hashes of one secret are equal: no fresh salt")
	}
}

func TestGenerate(t *testing.T) {
	codes := Generate(Count)
	if len(codes) != Count {
		t.Fatalf("%d codes, want %d", len(codes), Count)
	}
	ids := map[string]bool{}
	for _, c := range codes {
		if ids[c.ID] {
			t.Errorf("ID %s twice", c.ID)
		}
		ids[c.ID] = true
		if len(c.ID) != idLength || len(c.Secret) != secretLength {
			t.Errorf("code %+v: want a %d-character ID and %d-character secret", c, idLength, secretLength)
		}
		for _, r := range c.ID + c.Secret {
			if !strings.ContainsRune(Alphabet, r) {
				t.Errorf("code %+v: %q is not in the alphabet", c, r)
			}
		}
	}
}

func TestParse(t *testing.T) {
	want := Code{ID: "abcde", Secret: "fghjkmnpqrst"}
	for _, in := range []string{"abcde-fghjkm-npqrst", " ABCDE-FGHJKM-NPQRST ", "abcde fghjkm npqrst", "abcde-fghjkmnpqrst", "abcde--fghjkm-npqrst"} {
		got, ok := Parse(in)
		if !ok || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, true", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "abcde", "abcdefghjkmnpqrst", "abcd-fghjkm-npqrst", "abcde-fghjkm-npqrs"} {
		if _, ok := Parse(in); ok {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
	c := Generate(1)[0]
	if got, ok := Parse(c.String()); !ok || got != c {
		t.Errorf("Parse(%q) = %+v, %v; want %+v", c.String(), got, ok, c)
	}
}

// Every character of the alphabet must be equally likely. Fed every byte
// value equally often, the sampler must draw every character equally often;
// a plain byte modulo 31 gives the first 8 characters 9 chances in 256 and
// the others 8 (issue 11.11).
func TestRandomIsUnbiased(t *testing.T) {
	next := 0
	fill := func(b []byte) { // 0, 1, ..., 255, 0, 1, ...
		for i := range b {
			b[i] = byte(next)
			next++
		}
	}
	const cycles = 31
	perCycle := 256 / len(Alphabet) * len(Alphabet) // byte values the sampler may keep
	got := randomFrom(fill, cycles*perCycle)
	counts := map[rune]int{}
	for _, r := range got {
		counts[r]++
	}
	if len(counts) != len(Alphabet) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(Alphabet))
	}
	for _, r := range Alphabet {
		if want := cycles * perCycle / len(Alphabet); counts[r] != want {
			t.Errorf("%q drawn %d times, want %d", r, counts[r], want)
		}
	}
}
