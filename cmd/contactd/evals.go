package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/asreval"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/ivr"
)

func asrEval(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("asr-eval", flag.ContinueOnError)
	list := fs.String("list", "", "file of lines: path.wav<TAB>reference text")
	cfgPath := fs.String("config", os.Getenv("CONTACTD_CONFIG"), "config file (empty: built-in demo)")
	provider := fs.String("provider", "", "recogniser to use (default: the config's)")
	dataDir := fs.String("data-dir", "", "data directory for model caches (default: the config's)")
	var ef asreval.Flags
	ef.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list == "" {
		fs.Usage()
		return errors.New("asr-eval: --list is required")
	}
	cfg, err := config.Load(*cfgPath, os.Getenv)
	if err != nil {
		return err
	}
	if *provider != "" {
		cfg.ASR.Provider = *provider
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	phrases, err := recognizerPhrases(cfg)
	if err != nil {
		return err
	}
	acfg := asr.Config{Phrases: phrases, DataDir: cfg.DataDir, Options: cfg.ASR.Options}
	if err := ef.Apply(&acfg); err != nil {
		return err
	}
	rec, err := asr.New(ctx, cfg.ASR.Provider, acfg)
	if err != nil {
		return err
	}
	defer rec.Close()
	var silence time.Duration
	if ms, err := strconv.Atoi(acfg.Options["silence_ms"]); err == nil {
		silence = time.Duration(ms) * time.Millisecond
	}
	if len(ef.Streams) > 0 {
		_, err = asreval.RunStreams(ctx, rec, *list, os.Stdout, ef.StreamsOptions(silence))
		return err
	}
	_, err = asreval.RunOptions(ctx, rec, *list, os.Stdout, ef.Options(silence))
	return err
}

func ivrEval(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("ivr-eval", flag.ContinueOnError)
	data := fs.String("data", "", "TSV file: intent<TAB>text")
	cfgPath := fs.String("config", os.Getenv("CONTACTD_CONFIG"), "config file (empty: built-in demo)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return errors.New("ivr-eval: --data is required")
	}
	cfg, err := config.Load(*cfgPath, os.Getenv)
	if err != nil {
		return err
	}
	ex, err := cfg.ClassifierExamples()
	if err != nil {
		return fmt.Errorf("ivr-eval: config: %w", err)
	}
	clf, err := ivr.TrainClassifier(ex)
	if err != nil {
		return err
	}
	f, err := os.Open(*data)
	if err != nil {
		return fmt.Errorf("ivr-eval: %w", err)
	}
	defer f.Close()
	_, err = ivr.Eval(clf, f, os.Stdout)
	return err
}
