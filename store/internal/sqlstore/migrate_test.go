package sqlstore

import (
	"errors"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/contactd/contactd/store"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name    string
		fs      fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"ordered by number", fstest.MapFS{"0010_b.sql": file("b"), "0002_a.sql": file("a"), "README": file("x")}, []int{2, 10}, false},
		{"empty", fstest.MapFS{}, nil, false},
		{"no number", fstest.MapFS{"init.sql": file("")}, nil, true},
		{"zero", fstest.MapFS{"0000_x.sql": file("")}, nil, true},
		{"duplicate", fstest.MapFS{"0001_a.sql": file(""), "1_b.sql": file("")}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := LoadMigrations(tc.fs)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("versions = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	driver := errors.New("driver says no")
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"no rows", fmt.Errorf("%w: %w", ErrNoRows, driver), store.ErrNotFound},
		{"unique", fmt.Errorf("%w: %w", ErrUnique, driver), store.ErrConflict},
		{"foreign key", fmt.Errorf("%w: %w", ErrForeignKey, driver), store.ErrNotFound},
		{"other", driver, driver},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := wrap(tc.err, "op %q", "x")
			if !errors.Is(err, tc.want) {
				t.Errorf("wrap(%v) = %v, want errors.Is %v", tc.err, err, tc.want)
			}
		})
	}
	if wrap(nil, "op") != nil {
		t.Error("wrap(nil) != nil")
	}
}
