package sqlstore_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
)

// The stores' API is passkeyd.Store, passkeyd.OIDCStore (the OpenID
// Connect provider's tables), passkeyd.ConsoleStore (the console's) and Migrate: the Store they share must not
// leak through (no DB, no clock, no exported field).
func TestStoresShowOnlyTheStoreInterface(t *testing.T) {
	var want []string
	for _, iface := range []reflect.Type{reflect.TypeFor[passkeyd.Store](), reflect.TypeFor[passkeyd.OIDCStore](), reflect.TypeFor[passkeyd.ConsoleStore]()} {
		for i := range iface.NumMethod() {
			want = append(want, iface.Method(i).Name)
		}
	}
	want = append(want, "Migrate")
	slices.Sort(want)
	for _, typ := range []reflect.Type{reflect.TypeFor[*sqlite.Store](), reflect.TypeFor[*postgres.Store]()} {
		var got []string
		for i := range typ.NumMethod() {
			got = append(got, typ.Method(i).Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%v has the methods %v, want %v", typ, got, want)
		}
		for i := range typ.Elem().NumField() {
			if f := typ.Elem().Field(i); f.IsExported() {
				t.Errorf("%v has the exported field %s", typ, f.Name)
			}
		}
	}
}
