// Package webtest drives a real headless Chromium as a softphone in tests.
//
// End-to-end tests start one [Browser] with [Start]. Chromium runs with a fake
// microphone that plays a WAV file in a loop (make one with [WriteToneWAV] or
// espeak-ng) and a fake permission prompt that always allows, so a page can
// call getUserMedia, open an RTCPeerConnection to the server under test and
// send real Opus RTP over loopback without a person, a sound card or a
// display. Remote audio plays without a user gesture, so WebRTC statistics
// such as inbound totalAudioEnergy work.
//
// The helpers are thin wrappers over chromedp (v0.23.0, the generic API) that
// bound every action with a timeout, so a broken page fails a test instead of
// hanging it: [Browser.Navigate], [Browser.Click], [Browser.SetValue],
// [Browser.Eval] (which awaits promises) and [Browser.WaitJS] (which polls a
// JavaScript condition). [Browser.Console] returns what the page logged, for
// the failure message of a test.
//
// Chromium must be installed (Debian: apt-get install chromium). Without it,
// [Start] returns an error that wraps [ErrNoChromium], so a caller may skip.
package webtest
