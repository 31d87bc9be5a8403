package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
)

// dial is the bundled test caller: it calls a SIP URI, waits for the
// greeting to finish, speaks a WAV file, optionally presses keys, records
// what it hears, and hangs up.
func dial(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	codec := fs.String("codec", "opus", "codec to offer: opus, PCMU or PCMA")
	transport := fs.String("transport", "udp", "udp or tcp")
	from := fs.String("from", "+15550100", "caller number")
	wav := fs.String("wav", "", "WAV file to speak after the greeting (any rate, mono)")
	keys := fs.String("dtmf", "", "keys to press after speaking, e.g. 1 or 0")
	record := fs.String("record", "", "write what the caller hears to this WAV file")
	hold := fs.Duration("hold", 30*time.Second, "stay on the line this long after speaking, then hang up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("dial: want one SIP URI, e.g. sip:support@127.0.0.1:5060")
	}
	var speech []int16
	if *wav != "" {
		f, err := os.Open(*wav)
		if err != nil {
			return err
		}
		pcm, rate, ch, err := media.ReadWAV(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("dial: %s: %w", *wav, err)
		}
		if ch != 1 {
			return fmt.Errorf("dial: %s: want a mono WAV, got %d channels", *wav, ch)
		}
		speech = media.Resample(pcm, rate, media.SampleRate)
	}
	c, err := sip.Dial(ctx, sip.DialConfig{Target: fs.Arg(0), Transport: *transport, From: *from, Codecs: []string{*codec}})
	if err != nil {
		return err
	}
	defer c.Hangup(context.Background())
	leg := c.Leg()
	fmt.Fprintf(os.Stderr, "connected with %s\n", leg.Codec().Name)
	heard := &listener{}
	go heard.run(leg)

	heard.waitForSilenceAfterSpeech(ctx, 900*time.Millisecond, 20*time.Second)
	if len(speech) > 0 {
		fmt.Fprintln(os.Stderr, "speaking", *wav)
		if err := media.Play(ctx, leg, speech); err != nil {
			return err
		}
	}
	for _, k := range strings.TrimSpace(*keys) {
		if err := c.SendDTMF(k); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
	select {
	case <-ctx.Done():
	case <-c.Done():
		fmt.Fprintln(os.Stderr, "remote hung up")
	case <-time.After(*hold):
	}
	if *record != "" {
		f, err := os.Create(*record)
		if err != nil {
			return err
		}
		defer f.Close()
		return media.WriteWAV(f, heard.pcm(), media.SampleRate, 1)
	}
	return nil
}
