package main

import (
	"context"
	"fmt"

	stream "github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/stream"
	"google.golang.org/grpc"
)

// runStream appends count events, tails the first half from the earliest event, resumes a second tail from the
// cursor of the last event it saw (no gap, no duplicate), then reads the whole stream again with Query, page by page.
func runStream(ctx context.Context, conn *grpc.ClientConn, topic string, count int) {
	client := stream.NewStreamBasicInterfaceClient(conn)
	created, err := client.CreateStream(ctx, &stream.CreateStreamRequest{Topic: topic, Partitions: 3})
	if err != nil {
		fail("create", err)
	}
	emit("create", map[string]any{"topic": created.GetTopic(), "created": created.GetCreated(), "partitions": created.GetPartitions()})
	for i := range count {
		res, err := client.Append(ctx, &stream.AppendRequest{Topic: topic, Payload: fmt.Appendf(nil, "event %d", i), Tags: map[string]string{"source": "example-go"}})
		if err != nil {
			fail("append", err)
		}
		emit("append", map[string]any{"partition": res.GetPartition(), "offset": res.GetOffset(), "timestamp": res.GetTimestamp()})
	}

	half := count / 2
	cursor := tail(ctx, client, &stream.TailRequest{Topic: topic, Start: "earliest"}, half, "tail")
	tail(ctx, client, &stream.TailRequest{Topic: topic, Cursor: cursor}, count-half, "resume")

	page := ""
	for pages := 1; ; pages++ {
		res, err := client.Query(ctx, &stream.QueryRequest{Topic: topic, Limit: 2, Cursor: page})
		if err != nil {
			fail("query", err)
		}
		payloads := make([]string, 0, len(res.GetEvents()))
		for _, e := range res.GetEvents() {
			payloads = append(payloads, string(e.GetPayload()))
		}
		emit("query", map[string]any{"page": pages, "payloads": payloads, "more": res.GetNextCursor() != ""})
		// Only an empty next_cursor means done: a page may hold fewer events than the limit.
		if res.GetNextCursor() == "" {
			return
		}
		page = res.GetNextCursor()
	}
}

// tail reads n events of a Tail stream, prints each, cancels the stream and returns the last event's cursor.
func tail(ctx context.Context, client stream.StreamBasicInterfaceClient, req *stream.TailRequest, n int, step string) string {
	tailCtx, stop := context.WithCancel(ctx)
	// A tail never ends by itself: cancelling is how a client lets go of it.
	defer stop()
	events, err := client.Tail(tailCtx, req)
	if err != nil {
		fail(step, err)
	}
	cursor := ""
	for range n {
		e, err := events.Recv()
		if err != nil {
			fail(step, err)
		}
		cursor = e.GetCursor()
		emit(step, map[string]any{"partition": e.GetPartition(), "offset": e.GetOffset(), "payload": string(e.GetPayload()), "tags": e.GetTags()})
	}
	return cursor
}
