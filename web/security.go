package web

import (
	"crypto/tls"
	"fmt"
	"net/http"
)

// ContentSecurityPolicy is sent with every response. The UI pages load
// their scripts and styles from files of their own origin (no inline
// script or style), talk to the API and the events WebSocket on it ('self'
// covers ws: and wss: to the same host), play recordings from blob: URLs
// and are never framed.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
	"frame-ancestors 'none'"

// securityHeaders sets the security headers on every response, and HSTS
// on those that went over TLS.
//
// CSRF does not apply to this API: the UI keeps its bearer token in
// sessionStorage and sends it in the Authorization header (the WebSocket
// in its URL), never in a cookie, so a request that another site makes the
// browser send carries no credentials. No CORS headers are sent, so other
// origins cannot read answers either. The events WebSocket, which browsers
// open across origins, checks Origin (see events).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), geolocation=(), microphone=(self)")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// TLSConfig loads the certificate chain and key for HTTPS (PEM files, as
// for http.ListenAndServeTLS). TLS 1.2 is the minimum; HTTP/1.1 is
// offered, which the events WebSocket needs.
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load %s and %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"}}, nil
}
