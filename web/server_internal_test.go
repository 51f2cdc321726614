package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"sort"
	"strings"
	"testing"
)

// maxServerMethods bounds the methods of Server: it keeps handlers and
// middleware, and what they lean on is a small type of its own (issue 19).
const maxServerMethods = 55

// TestServerKeepsHandlersAndMiddleware counts the methods declared on
// *Server in the package's source.
func TestServerKeepsHandlersAndMiddleware(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var methods []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "Server" {
					methods = append(methods, e.Name()+": "+fn.Name.Name)
				}
			}
		}
	}
	if len(methods) == 0 {
		t.Fatal("no methods found on *Server: is the test in the web directory?")
	}
	if len(methods) > maxServerMethods {
		sort.Strings(methods)
		t.Errorf("*Server has %d methods, want at most %d: give what is not a handler or middleware a type of its own\n%s",
			len(methods), maxServerMethods, strings.Join(methods, "\n"))
	}
}
