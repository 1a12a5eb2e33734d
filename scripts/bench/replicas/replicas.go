package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// replica is one `civicarchive serve` process.
type replica struct {
	name    string
	dataDir string
	env     []string
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	started time.Time
	logPath string
	exited  chan struct{}

	mu         sync.Mutex
	caughtUp   time.Duration // the index's own "search index caught up" took, first time
	indexedLog int
}

// childEnv is the parent's environment without any CIVICARCHIVE_ or AWS_
// setting, plus vars.
func childEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CIVICARCHIVE_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

func replicaEnv(shared map[string]string, name, dataDir string) []string {
	vars := map[string]string{"CIVICARCHIVE_DATA_DIR": dataDir, "CIVICARCHIVE_REPLICA_ID": name}
	for k, v := range shared {
		vars[k] = v
	}
	return childEnv(vars)
}

// buildBinary builds cmd/civicarchive into dir.
func buildBinary(repo, dir string) string {
	bin := filepath.Join(dir, "civicarchive")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/civicarchive")
	cmd.Dir, cmd.Stdout, cmd.Stderr = repo, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fatal("go build: %v", err)
	}
	return bin
}

// adminToken makes an admin API token with the CLI (in the shared catalog).
func adminToken(bin string, env []string) string {
	cmd := exec.Command(bin, "token", "create", "--name", "bench", "--role", "admin")
	cmd.Env, cmd.Stderr = env, os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fatal("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// startReplica starts `serve --listen 127.0.0.1:0` and waits for its
// listening line (JSON logs, as scripts/e2e.sh reads "url").
func startReplica(bin, name, dataDir string, env []string) *replica {
	r := &replica{name: name, dataDir: dataDir, env: env, logPath: dataDir + ".log"}
	logf, err := os.Create(r.logPath)
	if err != nil {
		fatal("%v", err)
	}
	pr, pw := io.Pipe()
	r.cmd = exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
	r.cmd.Env, r.cmd.Stdout, r.cmd.Stderr = env, logf, io.MultiWriter(logf, pw)
	r.started = time.Now()
	if err := r.cmd.Start(); err != nil {
		fatal("start %s: %v", name, err)
	}
	r.exited = make(chan struct{})
	go func() { r.cmd.Wait(); logf.Close(); close(r.exited) }()
	addCleanup(func() { r.stop() })
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line["msg"] {
			case "civicarchive listening":
				if u, ok := line["url"].(string); ok && !sent {
					urlc <- u
					sent = true
				}
			case "search index caught up":
				r.mu.Lock()
				if r.caughtUp == 0 {
					took, _ := line["took"].(float64) // slog's JSON handler writes durations in nanoseconds
					n, _ := line["indexed"].(float64)
					r.caughtUp, r.indexedLog = time.Duration(took), int(n)
				}
				r.mu.Unlock()
			}
		}
	}()
	select {
	case u := <-urlc:
		r.base = u
	case <-r.exited:
		fatal("%s exited at start; see %s", name, r.logPath)
	case <-time.After(2 * time.Minute):
		fatal("%s did not log its URL within 2 minutes; see %s", name, r.logPath)
	}
	return r
}

func (r *replica) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.exited:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(40 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// api does one JSON API request and decodes the answer into out (if not nil).
func api(method, u, token string, body any, out any) int {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		fatal("%v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fatal("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			fatal("%s %s: %v: %s", method, u, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		fmt.Fprintf(os.Stderr, "%s %s: %d %s\n", method, u, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// searchTotal is the replica's count of indexed items (GET /api/v1/search
// with no query, size=1, facets off).
func (r *replica) searchTotal(token string) int {
	var res struct{ Total int }
	if code := api("GET", r.base+"/api/v1/search?size=1&facets=false", token, nil, &res); code != 200 {
		return -1
	}
	return res.Total
}

// waitIndexed polls until the replica's index holds want items and returns
// the time since the process started.
func (r *replica) waitIndexed(ctx context.Context, token string, want int) time.Duration {
	for {
		if n := r.searchTotal(token); n >= want {
			return time.Since(r.started)
		}
		select {
		case <-r.exited:
			fatal("%s exited; see %s", r.name, r.logPath)
		case <-ctx.Done():
			fatal("%s: index not caught up: %v", r.name, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// procStatus reads a field of /proc/PID/status in KiB.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// procStat is a process's name, parent and CPU time in clock ticks: its
// own user+system time, and that of its children it has waited for.
type procStat struct {
	comm           string
	ppid           int
	ticks, waitedC int64
}

func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	f := strings.Fields(s[end+2:])
	if len(f) < 15 {
		return procStat{}, false
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
	return procStat{comm: s[open+1 : end], ppid: int(n(1)), ticks: n(11) + n(12), waitedC: n(13) + n(14)}, true
}

// cpuTicks is the user+system CPU time of a process, in clock ticks.
func cpuTicks(pid int) int64 {
	st, _ := readProcStat(pid)
	return st.ticks
}

// allProcs reads every process's stat.
func allProcs() map[int]procStat {
	ents, _ := os.ReadDir("/proc")
	out := map[int]procStat{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readProcStat(pid); ok {
			out[pid] = st
		}
	}
	return out
}

// serverPid finds the process named comm whose command line holds arg
// (the server listening on a port).
func serverPid(comm, arg string) int {
	for pid, st := range allProcs() {
		if st.comm != comm {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(b), arg) {
			return pid
		}
	}
	return 0
}

// machineCPU is the machine's busy and total jiffies (/proc/stat): busy
// is user, nice, system, irq and softirq (guest time is already in user;
// idle, iowait and steal are not busy).
func machineCPU() (busy, total int64) {
	b, _ := os.ReadFile("/proc/stat")
	line := strings.SplitN(string(b), "\n", 2)[0]
	for i, f := range strings.Fields(line)[1:] {
		if i >= 8 { // guest, guest_nice
			break
		}
		v, _ := strconv.ParseInt(f, 10, 64)
		total += v
		if i != 3 && i != 4 && i != 7 {
			busy += v
		}
	}
	return busy, total
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuSample is a snapshot of CPU use by the processes that matter.
type cpuSample struct {
	at            time.Time
	replicas      []int64
	self, pg, s3  int64
	busy, jiffies int64
	procs         map[int]procStat
	mine          map[int]bool
}

// pgPid is the postmaster of the bench's PostgreSQL server.
var pgPid int

// sampleCPU: PostgreSQL is the postmaster and its children, plus what its
// exited children (backends whose connection closed) used.
func sampleCPU(reps []*replica, s3pid int) cpuSample {
	procs := allProcs()
	s := cpuSample{at: time.Now(), procs: procs, mine: map[int]bool{os.Getpid(): true, s3pid: true},
		self: procs[os.Getpid()].ticks, s3: procs[s3pid].ticks}
	for _, r := range reps {
		pid := r.cmd.Process.Pid
		s.replicas = append(s.replicas, procs[pid].ticks)
		s.mine[pid] = true
	}
	for pid, st := range procs {
		if pid == pgPid {
			s.mine[pid] = true
			s.pg += st.ticks + st.waitedC
		} else if pgPid != 0 && st.ppid == pgPid {
			s.mine[pid] = true
			s.pg += st.ticks
		}
	}
	s.busy, s.jiffies = machineCPU()
	return s
}

// coreUse is CPU use between two samples, in cores.
type coreUse struct {
	Replicas, PG, S3, Self, Other float64
	Secs                          float64
}

// cpuUse says how many cores each part used between two samples (ticks
// are 1/100 s on Linux), and what else on the machine used the most.
func cpuUse(a, b cpuSample, names []string) (string, coreUse) {
	secs := b.at.Sub(a.at).Seconds()
	cores := func(d int64) float64 { return float64(d) / 100 / secs }
	var parts []string
	c := coreUse{PG: cores(b.pg - a.pg), S3: cores(b.s3 - a.s3), Self: cores(b.self - a.self), Secs: secs}
	for i := range a.replicas {
		parts = append(parts, fmt.Sprintf("%s %.2f", names[i], cores(b.replicas[i]-a.replicas[i])))
		c.Replicas += cores(b.replicas[i] - a.replicas[i])
	}
	parts = append(parts, fmt.Sprintf("PostgreSQL %.2f", cores(b.pg-a.pg)), fmt.Sprintf("versitygw %.2f", cores(b.s3-a.s3)),
		fmt.Sprintf("bench driver %.2f", cores(b.self-a.self)))
	mine := b.self - a.self + b.pg - a.pg + b.s3 - a.s3
	for i := range a.replicas {
		mine += b.replicas[i] - a.replicas[i]
	}
	type other struct {
		comm  string
		ticks int64
	}
	byComm := map[string]int64{}
	for pid, st := range b.procs {
		if b.mine[pid] || a.mine[pid] {
			continue
		}
		byComm[st.comm] += st.ticks - a.procs[pid].ticks // a process started since counts from 0
	}
	var others []other
	for c, t := range byComm {
		if cores(t) >= 0.05 {
			others = append(others, other{c, t})
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].ticks > others[j].ticks })
	if b.jiffies > a.jiffies {
		machine := float64(b.busy-a.busy) / float64(b.jiffies-a.jiffies) * float64(runtime.NumCPU())
		o := fmt.Sprintf("everything else %.2f", max(machine-cores(mine), 0))
		if len(others) > 0 {
			var top []string
			for _, x := range others[:min(3, len(others))] {
				top = append(top, fmt.Sprintf("%s %.2f", x.comm, cores(x.ticks)))
			}
			o += " (" + strings.Join(top, ", ") + ")"
		}
		parts = append(parts, o)
		c.Other = max(machine-cores(mine), 0)
		return fmt.Sprintf("%s; machine %.2f of %d", strings.Join(parts, ", "), machine, runtime.NumCPU()), c
	}
	return strings.Join(parts, ", "), c
}

func queryEscape(s string) string { return url.QueryEscape(s) }
