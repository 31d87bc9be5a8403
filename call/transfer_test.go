package call

import (
	"errors"
	"testing"
)

func TestParseTarget(t *testing.T) {
	queues := func(n string) bool { return n == "billing" || n == "orders" }
	for in, want := range map[string]target{
		"queue:billing":             {queue: "billing"},
		"agent:carol":               {agent: "carol"},
		"billing":                   {queue: "billing"},
		"carol":                     {agent: "carol"},
		"sip:carol@127.0.0.1:5060":  {agent: "carol"},
		"<sip:orders@example.com>":  {queue: "orders"},
		"sips:agent%3Adave@host":    {agent: "dave"},
		"+1 (555) 700-0000":         {number: "+15557000000"},
		"number:+15557000":          {number: "+15557000"},
		"sip:+15557000@carrier.com": {number: "+15557000"},
	} {
		got, err := parseTarget(in, queues)
		if err != nil || got != want {
			t.Errorf("parseTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "queue:", "sip:@host", "sip:host", "fax:123", "number:abc", "number:12",
		"agent:" + string(make([]byte, 80))} {
		if got, err := parseTarget(bad, queues); !errors.Is(err, ErrBadTarget) {
			t.Errorf("parseTarget(%q) = %+v, %v; want ErrBadTarget", bad, got, err)
		}
	}
}
