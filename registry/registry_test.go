package registry

import (
	"strings"
	"testing"
)

type factory func() string

func TestRegistry(t *testing.T) {
	r := New[factory]("test")
	r.Register("b", func() string { return "B" })
	r.Register("a", func() string { return "A" })
	if got := strings.Join(r.Names(), ","); got != "a,b" {
		t.Fatalf("Names = %s", got)
	}
	f, err := r.Get("b")
	if err != nil || f() != "B" {
		t.Fatalf("Get(b) = %v", err)
	}
	if _, err := r.Get("zzz"); err == nil || !strings.Contains(err.Error(), `unknown provider "zzz" (have [a b])`) {
		t.Fatalf("Get(zzz) err = %v", err)
	}
	for name, reg := range map[string]func(){
		"duplicate": func() { r.Register("a", func() string { return "" }) },
		"nil":       func() { r.Register("c", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s registration did not panic", name)
				}
			}()
			reg()
		}()
	}
}
