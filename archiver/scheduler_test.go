package archiver

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logSink collects log messages so a test can wait for one.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logSink) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logSink) WithGroup(string) slog.Handler      { return l }
func (l *logSink) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPanickingJobIsRecoveredAndRunsAgain(t *testing.T) {
	sink := &logSink{}
	s := NewScheduler(slog.New(sink), nil)
	var runs atomic.Int32
	if err := s.Add("boom", "@every 1s", time.Minute, func(context.Context) error {
		runs.Add(1)
		panic("connector bug")
	}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop(context.Background())
	waitFor(t, "a second run after a panic", func() bool { return runs.Load() >= 2 })
	if !sink.has("panic") {
		t.Fatal("the panic was not logged")
	}
}

func TestJobStillRunningIsSkipped(t *testing.T) {
	sink := &logSink{}
	s := NewScheduler(slog.New(sink), nil)
	var runs atomic.Int32
	release := make(chan struct{})
	s.Add("slow", "@every 1s", time.Minute, func(ctx context.Context) error {
		runs.Add(1)
		<-release
		return nil
	})
	s.Start()
	waitFor(t, "cron to skip the overlapping run", func() bool { return sink.has("skip") })
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d runs started while the first was still running; want 1", n)
	}
	close(release)
	s.Stop(context.Background())
}

func TestStopCancelsRunningJobsAndWaits(t *testing.T) {
	var outcomes []string
	var mu sync.Mutex
	s := NewScheduler(nil, func(name, outcome string) { mu.Lock(); outcomes = append(outcomes, name+":"+outcome); mu.Unlock() })
	started := make(chan struct{})
	var sawCancel atomic.Bool
	s.Add("capture", "@every 1s", time.Hour, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		sawCancel.Store(true)
		return ctx.Err()
	})
	s.Start()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !sawCancel.Load() {
		t.Fatal("Stop returned before the running job saw its context cancelled")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 1 || outcomes[0] != "capture:error" {
		t.Fatalf("outcomes = %v", outcomes)
	}
}

func TestRunTimeout(t *testing.T) {
	s := NewScheduler(nil, nil)
	err := s.RunNow("slow", 10*time.Millisecond, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the run's time limit to end it", err)
	}
}

func TestBadSpec(t *testing.T) {
	s := NewScheduler(nil, nil)
	for _, spec := range []string{"", "every day", "61 * * * *", "@every banana"} {
		if err := s.Add("x", spec, time.Minute, func(context.Context) error { return nil }); err == nil {
			t.Errorf("spec %q accepted", spec)
		}
	}
}
