// Package none is the asr provider "none": speech recognition turned off.
// Its streams take audio and discard it, never report a result, and close
// their Results channel on Close; Recognize returns an empty result. Use it
// for DTMF-only deployments (the IVR's keypad menus still work), or to
// measure the media path without a recogniser (bench/relay.sh). Calls
// still get a recording; their transcripts are empty. It has no options.
package none
