package config

import (
	"errors"
	"strings"
	"testing"
)

// TestSIPTLSAndSRTP: sip.tls_* and the SRTP policy parse, and their
// mistakes come back as FieldErrors naming the field.
func TestSIPTLSAndSRTP(t *testing.T) {
	base := string(Demo())
	const anchor = "sip:\n  addr: 0.0.0.0:5060\n"
	if !strings.Contains(base, anchor) {
		t.Fatal("demo config changed; update the anchor")
	}
	edit := func(extra string) []byte { return []byte(strings.Replace(base, anchor, anchor+extra, 1)) }

	c, err := Parse("test.yaml", edit("  tls_addr: 0.0.0.0:5061\n  tls_cert: c.pem\n  tls_key: k.pem\n  require_srtp_on_tls: true\n  allow_sdes_without_tls: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SIP.TLSAddr != "0.0.0.0:5061" || c.SIP.TLSCert != "c.pem" || c.SIP.TLSKey != "k.pem" || !c.SIP.RequireSRTPOnTLS || !c.SIP.AllowSDESWithoutTLS {
		t.Fatalf("sip = %+v", c.SIP)
	}
	if c, err := Parse("test.yaml", []byte(base)); err != nil || c.SIP.AllowSDESWithoutTLS || c.SIP.RequireSRTPOnTLS {
		t.Fatalf("defaults: %v, %+v", err, c.SIP)
	}
	for _, tc := range []struct{ extra, want string }{
		{"  tls_addr: 5061\n  tls_cert: c.pem\n  tls_key: k.pem\n", "sip.tls_addr: want host:port"},
		{"  tls_addr: 0.0.0.0:5061\n  tls_cert: c.pem\n", "sip.tls_cert: tls_addr needs both"},
		{"  require_srtp_on_tls: true\n", "sip.require_srtp_on_tls: needs sip.tls_addr"},
	} {
		_, err := Parse("test.yaml", edit(tc.extra))
		var fe *FieldError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &fe) {
			t.Errorf("%q: err = %v, want a FieldError with %q", tc.extra, err, tc.want)
		}
	}
}
