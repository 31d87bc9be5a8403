package web

import (
	"errors"
	"net/url"
	"strconv"
	"time"
)

// The list endpoints' common query parameters. Each error is the
// message for a 400.

// queryLimit reads ?limit= (1-1000); def when it is absent.
func queryLimit(q url.Values, def int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, errors.New("limit: want a number 1-1000")
	}
	return n, nil
}

// queryBefore reads ?before= (keyset paging back from an id ≥ 1); 0 when
// it is absent.
func queryBefore(q url.Values) (int64, error) {
	v := q.Get("before")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, errors.New("before: want an id ≥ 1")
	}
	return n, nil
}

// queryRange reads ?from=&to= (YYYY-MM-DD or RFC 3339; zero when absent).
// to is exclusive, but a day given as to is included.
func queryRange(q url.Values) (from, to time.Time, err error) {
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := q.Get(name); v != "" {
			t, err := parseDay(v)
			if err != nil {
				return from, to, errors.New(name + ": want YYYY-MM-DD or an RFC 3339 time")
			}
			*dst = t
		}
	}
	if v := q.Get("to"); len(v) == len("2006-01-02") {
		to = to.Add(24 * time.Hour)
	}
	return from, to, nil
}

func parseDay(v string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}
