// Package openai is the tts provider "openai": any server with OpenAI's
// POST /v1/audio/speech (OpenAI itself, and the OpenAI-compatible fronts of
// Piper and Kokoro). It posts {"model","input","voice","response_format"}
// and turns the answer into 16 kHz mono PCM: a WAV (the default; any rate,
// mono or stereo) or raw little-endian PCM16 (response_format pcm, at
// sample_rate, 24000 for OpenAI).
//
// Options: url (base, default https://api.openai.com/v1; ".../v1" or the
// server root both work), model (default tts-1), voice (default alloy),
// response_format (wav or pcm, default wav), sample_rate (for pcm, default
// 24000), speed (0.25-4, default the server's), api_key (default: env
// CONTACTD_OPENAI_API_KEY; optional for local servers; never logged),
// timeout (default 20s).
//
// Prompts repeat: wrap it in tts.NewCache (cmd/contactd does).
package openai
