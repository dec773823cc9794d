package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: the kernel
// reports them in USER_HZ ticks, 100 a second on every Linux architecture
// Go supports (sysconf(_SC_CLK_TCK), which needs cgo, would say the same).
const userHZ = 100

// procStat is what the benchmark reads of a /proc/PID/stat line.
type procStat struct {
	ppid int
	// cpu is utime+stime, the process's own; children is cutime+cstime,
	// its waited-for children's.
	cpu, children time.Duration
}

// ProcessCPU is the CPU time (user plus system) process pid has had so
// far, from /proc/PID/stat: what the scheduler actually gave it, whatever
// else the machine ran.
func ProcessCPU(pid int) (time.Duration, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	return st.cpu, nil
}

// ProcessTreeCPU is the CPU time of process pid, of its children alive
// now and of those it has reaped: a PostgreSQL server's postmaster and
// its backends.
func ProcessTreeCPU(pid int) (time.Duration, error) {
	root, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	total := root.cpu + root.children
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue // exited since the glob
		}
		st, err := parseProcStat(raw)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
		if st.ppid == pid {
			total += st.cpu
		}
	}
	return total, nil
}

func readProcStat(pid int) (procStat, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	st, err := parseProcStat(raw)
	if err != nil {
		return procStat{}, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	return st, nil
}

// parseProcStat reads ppid (field 4), utime, stime, cutime and cstime
// (fields 14 to 17, proc(5)) of a /proc/PID/stat line. The command name
// (field 2) is in parentheses and may itself hold spaces and parentheses,
// so fields are counted from the last ')'.
func parseProcStat(raw []byte) (procStat, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return procStat{}, errors.New("the stat line has no command name in parentheses")
	}
	// f[0] is field 3 (state).
	f := strings.Fields(string(raw[end+1:]))
	field := func(n int) (int64, error) {
		if n-3 >= len(f) {
			return 0, fmt.Errorf("the stat line has %d fields, field %d is missing", len(f)+2, n)
		}
		v, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("stat field %d is %q, not a non-negative number", n, f[n-3])
		}
		return v, nil
	}
	var v [5]int64
	for i, n := range []int{4, 14, 15, 16, 17} {
		var err error
		if v[i], err = field(n); err != nil {
			return procStat{}, err
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }
	return procStat{ppid: int(v[0]), cpu: tick(v[1] + v[2]), children: tick(v[3] + v[4])}, nil
}

// LoadAverage is the machine's one-minute load average from /proc/loadavg.
func LoadAverage() (float64, error) {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("reading the load average: %w", err)
	}
	return parseLoadavg(raw)
}

func parseLoadavg(raw []byte) (float64, error) {
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/loadavg %q is empty", raw)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("/proc/loadavg %q: the one-minute figure is not a number", raw)
	}
	return v, nil
}

// PeakRSS is the most resident memory process pid has held (VmHWM in
// /proc/PID/status).
func PeakRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the peak memory of process %d: %w", pid, err)
	}
	return parseVmHWM(raw)
}

func parseVmHWM(raw []byte) (int64, error) {
	for line := range strings.Lines(string(raw)) {
		v, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(v), " kB")
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if !ok || err != nil || n < 0 {
			return 0, fmt.Errorf("/proc status line %q: not a size in kB", strings.TrimSpace(line))
		}
		return n << 10, nil
	}
	return 0, errors.New("/proc status has no VmHWM line")
}
