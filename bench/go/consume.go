package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/queue"
	"google.golang.org/grpc"
)

func randomID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// runConsume reads one Consume stream and acknowledges by receipt, as the proto says: receipts are gathered and sent
// in Ack calls of ack-batch receipts (or whatever arrived within 2 ms), at most ack-inflight calls at once (by
// default as many as the window holds, as a direct consumer commits without waiting). The
// window opens `warmup` after the first delivery (the group join is not measured) and counts acknowledged records.
func runConsume(o options, conn *grpc.ClientConn) (result, error) {
	client := queue.NewQueueBasicInterfaceClient(conn)
	group := o.group
	if group == "" {
		group = randomID("bench-go-")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	began := time.Now()
	stream, err := client.Consume(ctx, &queue.ConsumeRequest{Topic: o.topic, Group: group, SubscriberId: randomID("bench-go-"), MaxUnacked: int32(o.maxUnacked)})
	if err != nil {
		return result{}, err
	}
	var acked, received, ackCalls, errs atomic.Int64
	var firstErr atomic.Value
	var mu sync.Mutex
	var pending []string
	slots := make(chan struct{}, o.ackInflight)
	var windowMu sync.Mutex
	var start, end time.Time
	inWindow := func(t0, t1 time.Time) bool {
		windowMu.Lock()
		defer windowMu.Unlock()
		return !start.IsZero() && !t0.Before(start) && !t1.After(end)
	}
	var lat []time.Duration
	var latMu sync.Mutex
	var acks sync.WaitGroup
	flush := func() {
		mu.Lock()
		receipts := pending
		pending = nil
		mu.Unlock()
		if len(receipts) == 0 {
			return
		}
		slots <- struct{}{}
		acks.Add(1)
		go func() {
			defer func() { <-slots; acks.Done() }()
			t0 := time.Now()
			res := &queue.AckResponse{}
			actx, acancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := conn.Invoke(actx, queue.QueueBasicInterface_Ack_FullMethodName, &queue.AckRequest{Receipts: receipts}, res)
			acancel()
			t1 := time.Now()
			if err != nil {
				// Acks still in flight when the window closed fail as the stream ends: not the plugin's fault.
				if inWindow(t0, t1) {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				return
			}
			acked.Add(int64(res.Acknowledged))
			if inWindow(t0, t1) {
				ackCalls.Add(1)
				latMu.Lock()
				lat = append(lat, t1.Sub(t0))
				latMu.Unlock()
			}
		}()
	}
	ticker := time.NewTicker(2 * time.Millisecond)
	defer ticker.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				flush()
			}
		}
	}()
	// A record stamped after the stream began was written by the concurrent producer: the backlog is drained, and the
	// rate from then on is the producer's, not the consumer's.
	beganMs := began.UnixMilli()
	var caughtUp atomic.Int64
	first := make(chan time.Time, 1)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			if received.Add(1) == 1 {
				first <- time.Now()
			}
			if m.Timestamp >= beganMs && caughtUp.Load() == 0 {
				caughtUp.Store(time.Now().UnixNano())
			}
			mu.Lock()
			pending = append(pending, m.Receipt)
			full := len(pending) >= o.ackBatch
			mu.Unlock()
			if full {
				flush()
			}
		}
	}()
	var firstAt time.Time
	select {
	case firstAt = <-first:
	case err := <-recvErr:
		return result{}, err
	case <-time.After(60 * time.Second):
		return result{}, errors.New("no delivery within 60 s")
	}
	windowMu.Lock()
	start = firstAt.Add(o.warmup)
	end = start.Add(o.duration)
	windowMu.Unlock()
	time.Sleep(time.Until(start))
	acked0, received0, cpu0 := acked.Load(), received.Load(), cpuSnapshot(o.pids)
	time.Sleep(time.Until(end))
	acked1, received1, cpu1 := acked.Load(), received.Load(), cpuSnapshot(o.pids)
	cancel()
	acks.Wait()
	latMu.Lock()
	all := latencies([][]time.Duration{lat})
	latMu.Unlock()
	r := result{
		Batch: o.ackBatch, Seconds: o.duration.Seconds(), Calls: ackCalls.Load(), Records: acked1 - acked0, Received: received1 - received0, Errors: errs.Load(),
		CpuMs: cpuDelta(cpu0, cpu1), FirstRecvMs: float64(firstAt.Sub(began)) / 1e6, MaxUnacked: o.maxUnacked,
	}.withLatencies(all)
	if c := caughtUp.Load(); c != 0 && c < end.UnixNano() {
		r.CaughtUpMs = float64(c-start.UnixNano()) / 1e6
	}
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	return r, nil
}
