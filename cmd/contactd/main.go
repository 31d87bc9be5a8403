// Command contactd is the contact-centre server and its tools.
//
//	contactd serve                     run the server
//	contactd asr-eval --list FILE      word error rate of the configured recogniser
//	contactd ivr-eval --data FILE.tsv  intent accuracy and confusion matrix
//	contactd dial [flags] sip:URI      place a test call (the bundled caller)
//	contactd export [--since DATE]     calls, transcripts, tickets, evaluations as JSON lines
//	contactd db-harden --admin-url URL make the Postgres audit log unchangeable by contactd's role
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: contactd <command> [flags]

commands:
  serve      run the contact-centre server
  asr-eval   transcribe a list of WAV files and print WER and RTF
  ivr-eval   evaluate the intent classifier on a TSV file
  dial       place a call to a SIP URI with a WAV file (test caller)
  export     write calls with transcripts, tickets and evaluations as JSON lines
  db-harden  (Postgres, as the DBA) make the audit log append-only for contactd's own role

Run "contactd <command> -h" for the command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, args)
	case "asr-eval":
		err = asrEval(ctx, args)
	case "ivr-eval":
		err = ivrEval(ctx, args)
	case "dial":
		err = dial(ctx, args)
	case "export":
		err = export(ctx, args, os.Stdout)
	case "db-harden":
		err = dbHarden(ctx, args, os.Stdout)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "contactd: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "contactd:", err)
		os.Exit(1)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
