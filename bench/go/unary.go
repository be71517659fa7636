package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/queue"
	"github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/stream"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// call is one kind of request: its method, its bytes (marshalled once), and how to count an answer's records.
type call struct {
	method  string
	request prebuilt
	records int
	// newResponse gives a caller its own response message, reused call after call (proto.Unmarshal resets it).
	newResponse func() proto.Message
	// acknowledged is how many records the answer reports as written (the rest count as errors).
	acknowledged func(proto.Message) (int, error)
}

func buildCall(o options) (call, error) {
	payload := bytes.Repeat([]byte{'x'}, o.size)
	n := max(1, o.batch)
	var msg proto.Message
	c := call{records: 1}
	switch o.mode {
	case "publish":
		c.method = queue.QueueBasicInterface_Publish_FullMethodName
		msg = &queue.PublishRequest{Topic: o.topic, Payload: payload}
		c.newResponse = func() proto.Message { return &queue.PublishResponse{} }
		c.acknowledged = func(m proto.Message) (int, error) {
			if m.(*queue.PublishResponse).Offset == "" {
				return 0, fmt.Errorf("no offset in the answer")
			}
			return 1, nil
		}
	case "publish-batch":
		c.method, c.records = queue.QueueBasicInterface_PublishBatch_FullMethodName, n
		req := &queue.PublishBatchRequest{Messages: make([]*queue.PublishRequest, n)}
		for i := range req.Messages {
			req.Messages[i] = &queue.PublishRequest{Topic: o.topic, Payload: payload}
		}
		msg = req
		c.newResponse = func() proto.Message { return &queue.PublishBatchResponse{} }
		c.acknowledged = func(m proto.Message) (int, error) {
			ok := 0
			var first error
			for _, r := range m.(*queue.PublishBatchResponse).Results {
				if r.Success {
					ok++
				} else if first == nil {
					first = fmt.Errorf("%s: %s", r.ErrorCode, r.Error)
				}
			}
			return ok, first
		}
	case "append":
		c.method = stream.StreamBasicInterface_Append_FullMethodName
		msg = &stream.AppendRequest{Topic: o.topic, Payload: payload}
		c.newResponse = func() proto.Message { return &stream.AppendResponse{} }
		c.acknowledged = func(proto.Message) (int, error) { return 1, nil }
	case "append-batch":
		c.method, c.records = stream.StreamBasicInterface_AppendBatch_FullMethodName, n
		req := &stream.AppendBatchRequest{Topic: o.topic, Records: make([]*stream.AppendRecord, n)}
		for i := range req.Records {
			req.Records[i] = &stream.AppendRecord{Payload: payload}
		}
		msg = req
		c.newResponse = func() proto.Message { return &stream.AppendBatchResponse{} }
		c.acknowledged = func(m proto.Message) (int, error) {
			r := m.(*stream.AppendBatchResponse)
			if r.Failed > 0 {
				for _, x := range r.Results {
					if !x.Success {
						return int(r.Appended), fmt.Errorf("%s: %s", x.ErrorCode, x.Error)
					}
				}
			}
			return int(r.Appended), nil
		}
	}
	b, err := proto.Marshal(msg)
	c.request = b
	return c, err
}

// runUnary is the closed loop: every caller sends the same pre-built request back to back. Calls answered inside the
// window [start, end] (and sent after start) are counted; the warm-up before it opens connections and warms the JITs.
func runUnary(o options, conns []*grpc.ClientConn) (result, error) {
	c, err := buildCall(o)
	if err != nil {
		return result{}, err
	}
	start := time.Now().Add(o.warmup)
	end := start.Add(o.duration)
	var calls, records, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, o.callers)
	var wg sync.WaitGroup
	for w := range o.callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := conns[w%len(conns)]
			res := c.newResponse()
			mine := make([]time.Duration, 0, 4096)
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				err := conn.Invoke(ctx, c.method, c.request, res)
				cancel()
				t1 := time.Now()
				counted := !t0.Before(start) && !t1.After(end)
				var n int
				if err == nil {
					n, err = c.acknowledged(res)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					if counted {
						errs.Add(int64(c.records - n))
					}
					if n == 0 {
						time.Sleep(5 * time.Millisecond)
					}
				}
				if counted {
					calls.Add(1)
					records.Add(int64(n))
					mine = append(mine, t1.Sub(t0))
				}
			}
			lat[w] = mine
		}()
	}
	cpu := cpuWindow(o.pids, start, end)
	wg.Wait()
	all := latencies(lat)
	r := result{
		Batch: c.records, Seconds: o.duration.Seconds(), Calls: calls.Load(), Records: records.Load(), Errors: errs.Load(),
		CpuMs: cpu,
	}.withLatencies(all)
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	return r, nil
}
