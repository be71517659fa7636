package main

import (
	"context"
	"fmt"

	queue "github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/queue"
	"google.golang.org/grpc"
)

// runQueue publishes count messages (each answered after the broker's ack), consumes them through a consumer
// group, and acknowledges them with their receipts: Ack commits the group's offsets, so they are not delivered again.
func runQueue(ctx context.Context, conn *grpc.ClientConn, topic, group string, count int) {
	client := queue.NewQueueBasicInterfaceClient(conn)
	for i := range count {
		res, err := client.Publish(ctx, &queue.PublishRequest{
			Topic:    topic,
			Payload:  fmt.Appendf(nil, "message %d", i),
			Metadata: map[string]string{"sequence": fmt.Sprint(i)},
		})
		if err != nil {
			fail("publish", err)
		}
		emit("publish", map[string]any{"message_id": res.GetMessageId(), "partition": res.GetPartition(), "offset": res.GetOffset()})
	}

	// The stream ends (and the member leaves the group) when this context is cancelled.
	consumeCtx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := client.Consume(consumeCtx, &queue.ConsumeRequest{Topic: topic, Group: group, SubscriberId: "example-go"})
	if err != nil {
		fail("consume", err)
	}
	receipts := make([]string, 0, count)
	for len(receipts) < count {
		m, err := stream.Recv()
		if err != nil {
			fail("consume", err)
		}
		receipts = append(receipts, m.GetReceipt())
		emit("consume", map[string]any{"message_id": m.GetMessageId(), "payload": string(m.GetPayload()), "attempt": m.GetAttempt(), "sequence": m.GetMetadata()["sequence"]})
	}
	ack, err := client.Ack(ctx, &queue.AckRequest{Receipts: receipts})
	if err != nil {
		fail("ack", err)
	}
	emit("ack", map[string]any{"acknowledged": ack.GetAcknowledged(), "committed": ack.GetCommitted()})
}
