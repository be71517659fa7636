package main

import (
	"context"

	lifecycle "github.com/jrepp/prism-data-layer/pkg/plugin/gen/prism/interfaces"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// checkHealth asks the standard gRPC health service (what load balancers and grpc-health-probe use) and Prism's
// lifecycle HealthCheck (what the Prism proxy uses; it carries details such as producer_queue and topic).
func checkHealth(ctx context.Context, conn *grpc.ClientConn) {
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		fail("health", err)
	}
	emit("health", map[string]any{"status": h.GetStatus().String()})

	l, err := lifecycle.NewLifecycleInterfaceClient(conn).HealthCheck(ctx, &lifecycle.HealthCheckRequest{})
	if err != nil {
		fail("lifecycle", err)
	}
	emit("lifecycle", map[string]any{"status": l.GetStatus().String(), "message": l.GetMessage(), "details": l.GetDetails()})
}
