// Package espeak is the embedded speech synthesiser: it runs the espeak-ng
// program (Debian package espeak-ng) once per prompt, reads the WAV it
// writes to standard output and resamples it from 22050 Hz to the 16 kHz
// that contactd uses inside. The program is started with an argument list,
// never through a shell, and is killed when the context ends.
//
// Prompts repeat, so wrap a Synth in tts.NewCache.
package espeak
