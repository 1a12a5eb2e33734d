package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/civicarchive/civicarchive/configs"
)

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// env is what every command gets: the outside world, passed in so tests can
// run the real program in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// ready, when set, is told the server's address once it listens.
	ready func(addr string)
}

// run executes one command line and returns the process exit status:
// 0 success, 1 failure, 2 bad configuration or usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr})
}

func runEnv(ctx context.Context, args []string, e *env) int {
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(e.stderr, "civicarchive: "+strings.ReplaceAll(err.Error(), "\n", " "))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var se *configs.SettingError
	if errors.As(err, &se) || isUsageError(err) {
		return 2
	}
	return 1
}

// isUsageError recognises cobra's complaints about the command line.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument", "required flag", "accepts ", "requires at least"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// settingsFlags registers one persistent flag per setting; values are
// applied over defaults, file and environment by loadConfig.
type settingsFlags struct {
	config string
	fs     *pflag.FlagSet
}

func newRoot(e *env) *cobra.Command {
	sf := &settingsFlags{}
	root := &cobra.Command{
		Use:           "civicarchive",
		Short:         "Keep a city's official social media as public records",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("civicarchive {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&sf.config, "config", "", "YAML settings file (see configs/default.yaml)")
	defaults := configs.Defaults()
	for _, s := range defaults.Settings() {
		def := s.Value()
		pf.String(s.Flag, def, s.Usage+" (env "+s.Env+")")
	}
	sf.fs = pf
	root.AddCommand(
		newServeCmd(e, sf),
		newTokenCmd(e, sf),
		newUserCmd(e, sf),
		newCustodyCmd(e, sf),
		newHealthcheckCmd(e, sf),
		newSearchCmd(e, sf),
		newReindexCmd(e, sf),
		newRescreenCmd(e, sf),
		newVerifyCmd(e),
		newKeyCmd(e, sf),
	)
	return root
}

// load builds and validates the Config: defaults → --config file →
// environment → flags given on the command line.
func (sf *settingsFlags) load(e *env) (configs.Config, error) {
	cfg, err := configs.Load(sf.config, e.getenv)
	if err != nil {
		return cfg, err
	}
	for _, s := range cfg.Settings() {
		f := sf.fs.Lookup(s.Flag)
		if f == nil || !f.Changed {
			continue
		}
		if err := s.Set(f.Value.String()); err != nil {
			return cfg, &configs.SettingError{Setting: "--" + s.Flag, Msg: err.Error()}
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// newLogger builds the process's one slog logger from the settings.
func newLogger(cfg configs.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
