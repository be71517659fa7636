package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/stream"
	"google.golang.org/grpc"
)

// runQuery pages through the whole stream (pages of query-limit events, following next_cursor to the end) and starts
// over, each caller on its own; counts the events of the pages answered inside the window.
func runQuery(o options, conns []*grpc.ClientConn) (result, error) {
	start := time.Now().Add(o.warmup)
	end := start.Add(o.duration)
	var pages, events, passes, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, o.callers)
	var wg sync.WaitGroup
	for w := range o.callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := conns[w%len(conns)]
			cursor := ""
			res := &stream.QueryResponse{}
			var mine []time.Duration
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				err := conn.Invoke(ctx, stream.StreamBasicInterface_Query_FullMethodName, &stream.QueryRequest{Topic: o.topic, Limit: int32(o.queryLimit), Cursor: cursor}, res)
				cancel()
				t1 := time.Now()
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					cursor = ""
					time.Sleep(10 * time.Millisecond)
					continue
				}
				cursor = res.NextCursor
				counted := !t0.Before(start) && !t1.After(end)
				if counted {
					pages.Add(1)
					events.Add(int64(len(res.Events)))
					mine = append(mine, t1.Sub(t0))
					if cursor == "" {
						passes.Add(1)
					}
				}
			}
			lat[w] = mine
		}()
	}
	cpu := cpuWindow(o.pids, start, end)
	wg.Wait()
	all := latencies(lat)
	r := result{
		Batch: o.queryLimit, Seconds: o.duration.Seconds(), Calls: pages.Load(), Records: events.Load(), Errors: errs.Load(), QueryPasses: passes.Load(),
		CpuMs: cpu,
	}.withLatencies(all)
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	return r, nil
}
