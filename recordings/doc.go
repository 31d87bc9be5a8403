// Package recordings keeps call recordings on disk, optionally encrypted
// at rest.
//
// A recording is written by the media recorder as a plain WAV
// (recordings/<call>.wav in the data dir). With a key, Files.Seal turns the
// finished WAV into <call>.wav.enc and removes the plaintext; Files.Open
// finds either form and decrypts on the fly, with random access for HTTP
// range requests; SealPending encrypts what a crash left in plaintext.
// Repair fixes the header of a recording whose call a crash cut short
// (the sizes cover the audio actually written) and flags it partial with
// a sidecar, <call>.wav.partial (JSON: reason, seconds kept); run it
// before SealPending.
//
// The encrypted format (version 1) is chunked AES-256-GCM, after the
// STREAM construction, so that a recording of any length streams in
// constant memory and every chunk is authenticated on its own:
//
//	header (52 bytes)  "CTDREC" | version 1 | 0 | chunk size (uint32 BE)
//	                   | key id (8) | salt (32)
//	chunk i            AES-GCM(fileKey, nonce_i, plaintext_i, aad = header)
//
// The file key is HKDF-SHA256(key, salt, "contactd recording v1"), fresh
// for every file, so nonces can count: nonce_i is the chunk index (uint64
// BE), three zero bytes and a last-chunk flag. A chunk moved, dropped or
// swapped with another file's fails authentication, and so does a file cut
// at a chunk boundary (its new last chunk lacks the flag). Every chunk but
// the last holds exactly the chunk size of plaintext. The key id
// (HMAC-SHA256(key, "contactd recording key id")[:8]) lets Open say "wrong
// key" instead of "damaged".
package recordings
