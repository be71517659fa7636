// Command prism-kafka-example drives the Prism Kafka plugin with clients generated from its proto files
// (protoc-gen-go + protoc-gen-go-grpc): queue publish → consume → ack, stream append → tail → resume → query,
// health, lifecycle, and the typed error details of a refused request. Each step prints one JSON line.
//
// Run it with scripts/examples.sh go -addr 127.0.0.1:9091 (the script generates the stubs first).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// emit prints one step's outcome as a JSON line on stdout (the integration test reads them).
func emit(step string, fields map[string]any) {
	fields["step"] = step
	line, err := json.Marshal(fields)
	if err != nil {
		fail(step, err)
	}
	fmt.Println(string(line))
}

// fail reports a failed step on stderr and exits non-zero, so a caller cannot mistake it for success.
func fail(step string, err error) {
	fmt.Fprintf(os.Stderr, "%s failed: %v\n", step, err)
	os.Exit(1)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9091", "plugin address host:port")
	queueTopic := flag.String("queue-topic", "example-queue", "queue topic")
	group := flag.String("group", "example-group", "consumer group of the queue")
	streamTopic := flag.String("stream-topic", "example-stream", "stream topic")
	count := flag.Int("count", 5, "messages and events to send")
	flag.Parse()

	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail("connect", err)
	}
	defer conn.Close()
	// One deadline for the whole run: a hung call fails the example instead of blocking it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	checkHealth(ctx, conn)
	runQueue(ctx, conn, *queueTopic, *group, *count)
	runStream(ctx, conn, *streamTopic, *count)
	showErrors(ctx, conn)
}
