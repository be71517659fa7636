package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// quantileMs is the nearest-rank quantile of durations, in milliseconds (NaN-free: 0 for no samples).
func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	i = max(0, min(len(sorted)-1, i))
	return float64(sorted[i]) / 1e6
}

func latencies(all [][]time.Duration) []time.Duration {
	var out []time.Duration
	for _, l := range all {
		out = append(out, l...)
	}
	slices.Sort(out)
	return out
}

// cpuMsOf is utime+stime of a process in ms (Linux /proc; clock ticks of 10 ms); -1 when unreadable.
func cpuMsOf(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseFloat(fields[11], 64)
	k, _ := strconv.ParseFloat(fields[12], 64)
	return (u + k) * 10
}

func selfCpuMs() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// cpuSnapshot is the CPU time so far of the watched processes ("self": this load generator).
func cpuSnapshot(pids map[string]int) map[string]float64 {
	out := map[string]float64{"self": selfCpuMs()}
	for name, pid := range pids {
		out[name] = cpuMsOf(pid)
	}
	return out
}

func cpuDelta(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if v >= 0 && before[k] >= 0 {
			out[k] = v - before[k]
		}
	}
	return out
}

// withLatencies fills the result's latency percentiles from the measured window's samples.
func (r result) withLatencies(all []time.Duration) result {
	r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs = quantileMs(all, 0.5), quantileMs(all, 0.9), quantileMs(all, 0.99), quantileMs(all, 1)
	return r
}

// cpuWindow waits for the measured window [start, end) and returns the CPU each process used in it.
func cpuWindow(pids map[string]int, start, end time.Time) map[string]float64 {
	time.Sleep(time.Until(start))
	cpu0 := cpuSnapshot(pids)
	time.Sleep(time.Until(end))
	return cpuDelta(cpu0, cpuSnapshot(pids))
}
