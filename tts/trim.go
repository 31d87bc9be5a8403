package tts

// leadLevel is the least sample magnitude that counts as sound when
// trimming a prompt's lead: about -54 dBFS, below any voice's onset and
// above a synthesiser's dither or rounding noise.
const leadLevel = 64

// leadKeep is the quiet lead a trimmed prompt keeps, so its first sound
// does not start on a click.
const leadKeep = 10 * SampleRate / 1000

// TrimLead drops the near-silent samples a synthesiser puts before a
// prompt's first sound (espeak-ng: about 40 ms before "Please hold"),
// keeping 10 ms of them. The caller hears the prompt that much sooner
// after their turn ends. Audio with no sound at all is returned as is.
// The result shares pcm's backing array.
func TrimLead(pcm []int16) []int16 {
	for i, v := range pcm {
		if v >= leadLevel || v <= -leadLevel {
			return pcm[max(0, i-leadKeep):]
		}
	}
	return pcm
}
