// Package e2e holds the end-to-end tests: the real contactd binary on
// loopback with Postgres, a SIP caller (our sipgo client sending real RTP),
// and an agent in headless Chromium with a fake microphone.
package e2e
