// Package asreval measures a recogniser on a list of recordings: the
// `contactd asr-eval --list FILE` command. Each line of the list is
// "path.wav<TAB>reference text" (paths relative to the list's folder;
// blank lines and lines starting with # are skipped). Every file is read
// (PCM16 WAV, any rate, mono or stereo mixed down), resampled to 16 kHz,
// transcribed whole with Recognizer.Recognize, and printed with its
// hypothesis; the last line is "WER=<fraction> RTF=<fraction>": word
// errors (Levenshtein over normalised words) over reference words, and
// decoding time over audio time.
package asreval
