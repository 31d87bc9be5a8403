package sip

import (
	"os"
	"path/filepath"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// FuzzRequest feeds raw bytes through sipgo's parser and then through the
// request handling we can reach without a network: the INVITE offer
// (parseSDP, negotiate, SRTP policy and a=crypto lines), session timer negotiation, the Require/CSeq
// checks' inputs and SIP INFO digit parsing. Nothing may panic. The seed
// corpus (testdata/fuzz/FuzzRequest plus the RFC 4475 messages) runs as
// part of go test; run longer with
// go test ./sip -run '^$' -fuzz FuzzRequest -fuzztime 1m.
func FuzzRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/torture/*/*.dat")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	srv, err := NewServer(Config{Addr: "127.0.0.1:0", Logger: testLogger(), AllowSDESWithoutTLS: true}, newToneHandler())
	if err != nil {
		f.Fatal(err)
	}
	parser := sipmsg.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := parser.ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sipmsg.Request)
		if !ok {
			return
		}
		_, _, _ = srv.negotiateTimer(req)
		_ = hasOption(req, "Require", "timer")
		body := req.Body()
		if ct := req.ContentType(); ct != nil && isSDP(ct.Value()) {
			if m, err := parseSDP(body); err == nil {
				_, _ = negotiate(m, supportedCodecs())
				_ = answerDirection(m.Direction, false)
				_, _ = srv.mediaSecurity(req, m) // sdes.go: policy and a=crypto
			}
		}
		_, _ = parseDTMFRelay(string(body))
		_, _ = parseDigit(string(body))
	})
}
