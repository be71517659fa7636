// prism-bench-load: the load generator of `npm run bench` for batches and streams. It sends pre-built requests
// (marshalled once, see codec.go) from as many callers and connections as asked, measures a steady-state window after a
// warm-up, reads the CPU time of the processes it is given from /proc at the window's edges, and prints one JSON line.
//
//	prism-bench-load -addr 127.0.0.1:50051 -mode publish-batch -topic t -batch 1000 -callers 4 -conns 2 \
//	  -warmup 1s -duration 10s -pids plugin=1234,broker=99
//
// Modes: publish, publish-batch, append, append-batch (closed loop: each caller sends its next call when the last one
// was answered), consume (one Consume stream, acks by receipt), query (pages through the whole topic, again and again).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type options struct {
	addr, mode, topic, group string
	batch, size              int
	callers, conns           int
	warmup, duration         time.Duration
	pids                     map[string]int
	maxUnacked, ackBatch     int
	ackInflight, queryLimit  int
}

// result is the JSON line: counts and rates over the measured window only.
type result struct {
	Mode        string             `json:"mode"`
	Topic       string             `json:"topic"`
	Batch       int                `json:"batch"`
	Size        int                `json:"size"`
	Callers     int                `json:"callers"`
	Conns       int                `json:"conns"`
	Seconds     float64            `json:"seconds"`
	Calls       int64              `json:"calls"`
	Records     int64              `json:"records"`
	Errors      int64              `json:"errors"`
	FirstError  string             `json:"first_error,omitempty"`
	RecordsPerS float64            `json:"records_per_s"`
	CallsPerS   float64            `json:"calls_per_s"`
	P50Ms       float64            `json:"p50_ms"`
	P90Ms       float64            `json:"p90_ms"`
	P99Ms       float64            `json:"p99_ms"`
	MaxMs       float64            `json:"max_ms"`
	CpuMs       map[string]float64 `json:"cpu_ms"`
	FirstRecvMs float64            `json:"first_delivery_ms,omitempty"`
	MaxUnacked  int                `json:"max_unacked,omitempty"`
	Received    int64              `json:"received,omitempty"`
	CaughtUpMs  float64            `json:"caught_up_ms,omitempty"`
	QueryPasses int64              `json:"query_passes,omitempty"`
}

func parsePids(s string) map[string]int {
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		name, pid, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(pid); err == nil && n > 0 {
			out[name] = n
		}
	}
	return out
}

func dial(o options) ([]*grpc.ClientConn, error) {
	// Each ClientConn has its own subchannel, so its own TCP connection and HTTP/2 session.
	conns := make([]*grpc.ClientConn, o.conns)
	for i := range conns {
		c, err := grpc.NewClient(o.addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(codec{}), grpc.MaxCallRecvMsgSize(256<<20), grpc.MaxCallSendMsgSize(256<<20)),
		)
		if err != nil {
			return nil, err
		}
		c.Connect()
		conns[i] = c
	}
	return conns, nil
}

func main() {
	var o options
	var pids string
	flag.StringVar(&o.addr, "addr", "127.0.0.1:50051", "plugin (or bare server) address")
	flag.StringVar(&o.mode, "mode", "publish-batch", "publish | publish-batch | append | append-batch | consume | query")
	flag.StringVar(&o.topic, "topic", "", "topic (queue) or stream")
	flag.StringVar(&o.group, "group", "", "consumer group (consume; default: a new one)")
	flag.IntVar(&o.batch, "batch", 100, "records per call (publish-batch, append-batch)")
	flag.IntVar(&o.size, "size", 100, "payload bytes per record")
	flag.IntVar(&o.callers, "callers", 1, "concurrent callers (closed loop)")
	flag.IntVar(&o.conns, "conns", 1, "HTTP/2 connections; callers are spread over them")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before the measured window (consume: after the first delivery)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured window")
	flag.StringVar(&pids, "pids", "", "name=pid,... whose CPU time (/proc) is read at the window's edges")
	flag.IntVar(&o.maxUnacked, "max-unacked", 2000, "consume: ConsumeRequest.max_unacked (the delivery window)")
	flag.IntVar(&o.ackBatch, "ack-batch", 200, "consume: receipts per Ack call")
	flag.IntVar(&o.ackInflight, "ack-inflight", 0, "consume: Ack calls in flight at most (default: max-unacked / ack-batch, so only the window limits)")
	flag.IntVar(&o.queryLimit, "query-limit", 10000, "query: page size")
	flag.Parse()
	o.pids = parsePids(pids)
	if o.ackInflight < 1 {
		o.ackInflight = max(1, o.maxUnacked/max(1, o.ackBatch))
	}
	if o.topic == "" || o.callers < 1 || o.conns < 1 {
		fmt.Fprintln(os.Stderr, "prism-bench-load: -topic is required; -callers and -conns must be ≥ 1")
		os.Exit(2)
	}
	conns, err := dial(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prism-bench-load:", err)
		os.Exit(1)
	}
	var r result
	switch o.mode {
	case "publish", "publish-batch", "append", "append-batch":
		r, err = runUnary(o, conns)
	case "consume":
		r, err = runConsume(o, conns[0])
	case "query":
		r, err = runQuery(o, conns)
	default:
		err = fmt.Errorf("unknown mode %q", o.mode)
	}
	for _, c := range conns {
		_ = c.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "prism-bench-load:", err)
		os.Exit(1)
	}
	r.Mode, r.Topic, r.Size, r.Callers, r.Conns = o.mode, o.topic, o.size, o.callers, o.conns
	if r.Seconds > 0 {
		r.RecordsPerS = float64(r.Records) / r.Seconds
		r.CallsPerS = float64(r.Calls) / r.Seconds
	}
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
}
