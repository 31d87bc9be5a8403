// Package prompts is the tts provider "prompts": recorded prompt files.
// A directory (one per language or voice talent) holds WAV files and an
// index.yaml that maps each prompt's exact text to its file:
//
//	"Thanks for calling. In a few words, how can I help you today?": greeting.wav
//	"Sorry, I didn't catch that.": sorry.wav
//
// Texts are matched exactly after trimming surrounding space. Every file is
// read, checked and resampled to 16 kHz when the provider is built, so a
// missing or broken recording stops start-up instead of a call. Texts
// without a recording (queue positions, order numbers) go to a fallback
// synthesizer, another registered tts provider.
//
// Options: dir (required), fallback (provider name, default espeak; "none"
// makes unknown texts an error), fallback.NAME (option NAME of the
// fallback, e.g. fallback.voice: en-us).
package prompts
