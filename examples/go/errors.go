package main

import (
	"context"
	"fmt"

	queue "github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/queue"
	stream "github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces/stream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// showErrors sends requests the plugin refuses (a topic name with '/', which Kafka forbids), one unary and one
// streaming, and prints the typed details every error carries in grpc-status-details-bin.
func showErrors(ctx context.Context, conn *grpc.ClientConn) {
	_, err := queue.NewQueueBasicInterfaceClient(conn).Publish(ctx, &queue.PublishRequest{Topic: "bad/topic", Payload: []byte("x")})
	emitError("Publish", err)

	tailCtx, stop := context.WithCancel(ctx)
	defer stop()
	events, err := stream.NewStreamBasicInterfaceClient(conn).Tail(tailCtx, &stream.TailRequest{Topic: "bad/topic"})
	if err == nil {
		// A server stream's status arrives with the first Recv.
		_, err = events.Recv()
	}
	emitError("Tail", err)
}

// emitError prints the status code and what status.FromError(err).Details() decoded: BadRequest (which fields, why),
// ErrorInfo (the plugin's error code as reason, whether a retry can help), RetryInfo, RequestInfo.
func emitError(rpc string, err error) {
	if err == nil {
		fail("error", fmt.Errorf("%s was accepted; expected INVALID_ARGUMENT", rpc))
	}
	st, _ := status.FromError(err)
	out := map[string]any{"rpc": rpc, "code": int(st.Code()), "code_name": st.Code().String(), "message": st.Message()}
	for _, d := range st.Details() {
		switch info := d.(type) {
		case *errdetails.BadRequest:
			violations := []map[string]string{}
			for _, v := range info.GetFieldViolations() {
				violations = append(violations, map[string]string{"field": v.GetField(), "description": v.GetDescription()})
			}
			out["field_violations"] = violations
		case *errdetails.ErrorInfo:
			out["error_info"] = map[string]any{"reason": info.GetReason(), "domain": info.GetDomain(), "metadata": info.GetMetadata()}
		case *errdetails.RetryInfo:
			out["retry_delay_ms"] = info.GetRetryDelay().AsDuration().Milliseconds()
		case *errdetails.RequestInfo:
			out["request_id"] = info.GetRequestId()
		default:
			// Details that fail to decode arrive as an error value; show them rather than drop them.
			out["undecoded"] = fmt.Sprint(d)
		}
	}
	emit("error", out)
}
