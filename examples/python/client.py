"""Drives the Prism Kafka plugin with Python stubs generated from its proto files (grpcio-tools).

Queue publish -> consume -> ack, stream append -> tail -> resume from a cursor -> query page by page, health,
lifecycle, and the typed error details of a refused request. Each step prints one JSON line on stdout.

Run it with: scripts/examples.sh python --addr 127.0.0.1:9091 (the script generates the stubs first and puts them
on PYTHONPATH).
"""

import argparse
import json
import sys

import grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from prism.interfaces import lifecycle_pb2, lifecycle_pb2_grpc
from prism.interfaces.queue import queue_basic_pb2 as queue, queue_basic_pb2_grpc as queue_grpc
from prism.interfaces.stream import stream_basic_pb2 as stream, stream_basic_pb2_grpc as stream_grpc

# One deadline per call: a hung call fails the example instead of blocking it.
TIMEOUT = 30


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def check_health(channel):
    h = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)
    emit("health", status=health_pb2.HealthCheckResponse.ServingStatus.Name(h.status))
    l = lifecycle_pb2_grpc.LifecycleInterfaceStub(channel).HealthCheck(lifecycle_pb2.HealthCheckRequest(), timeout=TIMEOUT)
    emit("lifecycle", status=lifecycle_pb2.HealthStatus.Name(l.status), message=l.message, details=dict(l.details))


def run_queue(channel, topic, group, count):
    """Publish (answered after the broker's ack), consume through a consumer group, ack with the receipts."""
    client = queue_grpc.QueueBasicInterfaceStub(channel)
    for i in range(count):
        res = client.Publish(queue.PublishRequest(topic=topic, payload=f"message {i}".encode(), metadata={"sequence": str(i)}), timeout=TIMEOUT)
        emit("publish", message_id=res.message_id, partition=res.partition, offset=res.offset)
    messages = client.Consume(queue.ConsumeRequest(topic=topic, group=group, subscriber_id="example-python"), timeout=TIMEOUT * 2)
    receipts = []
    for m in messages:
        receipts.append(m.receipt)
        emit("consume", message_id=m.message_id, payload=m.payload.decode(), attempt=m.attempt, sequence=m.metadata["sequence"])
        if len(receipts) == count:
            break
    ack = client.Ack(queue.AckRequest(receipts=receipts), timeout=TIMEOUT)
    # Ending the stream leaves the group.
    messages.cancel()
    emit("ack", acknowledged=ack.acknowledged, committed=list(ack.committed))


def tail(client, request, n, step):
    """Reads n events of a Tail stream, cancels it (a tail never ends by itself), returns the last cursor."""
    events = client.Tail(request, timeout=TIMEOUT)
    cursor = ""
    for _ in range(n):
        e = next(events)
        cursor = e.cursor
        emit(step, partition=e.partition, offset=e.offset, payload=e.payload.decode(), tags=dict(e.tags))
    events.cancel()
    return cursor


def run_stream(channel, topic, count):
    """Append, tail the first half from earliest, resume from the cursor (no gap, no duplicate), query to the end."""
    client = stream_grpc.StreamBasicInterfaceStub(channel)
    created = client.CreateStream(stream.CreateStreamRequest(topic=topic, partitions=3), timeout=TIMEOUT)
    emit("create", topic=created.topic, created=created.created, partitions=created.partitions)
    for i in range(count):
        res = client.Append(stream.AppendRequest(topic=topic, payload=f"event {i}".encode(), tags={"source": "example-python"}), timeout=TIMEOUT)
        emit("append", partition=res.partition, offset=res.offset, timestamp=res.timestamp)
    half = count // 2
    cursor = tail(client, stream.TailRequest(topic=topic, start="earliest"), half, "tail")
    tail(client, stream.TailRequest(topic=topic, cursor=cursor), count - half, "resume")
    page, pages = "", 0
    while True:
        res = client.Query(stream.QueryRequest(topic=topic, limit=2, cursor=page), timeout=TIMEOUT)
        pages += 1
        emit("query", page=pages, payloads=[e.payload.decode() for e in res.events], more=res.next_cursor != "")
        # Only an empty next_cursor means done: a page may hold fewer events than the limit.
        if not res.next_cursor:
            return
        page = res.next_cursor


# How each google.rpc detail the plugin sends is shown: BadRequest (which fields, why), ErrorInfo (the plugin's error
# code as reason, whether a retry can help), RetryInfo (when to retry), RequestInfo (the id in the plugin's logs).
DETAILS = {
    error_details_pb2.BadRequest: lambda i: {"field_violations": [{"field": v.field, "description": v.description} for v in i.field_violations]},
    error_details_pb2.ErrorInfo: lambda i: {"error_info": {"reason": i.reason, "domain": i.domain, "metadata": dict(i.metadata)}},
    error_details_pb2.RetryInfo: lambda i: {"retry_delay_ms": i.retry_delay.ToMilliseconds()},
    error_details_pb2.RequestInfo: lambda i: {"request_id": i.request_id},
}


def emit_error(rpc, err):
    """Prints the status and the google.rpc details the plugin put in grpc-status-details-bin."""
    # from_call raises ValueError when the details' code or message differ from the status line.
    st = rpc_status.from_call(err)
    out = {"rpc": rpc, "code": err.code().value[0], "code_name": err.code().name, "message": err.details()}
    for d in st.details if st is not None else []:
        for kind, show in DETAILS.items():
            if d.Is(kind.DESCRIPTOR):
                info = kind()
                d.Unpack(info)
                out.update(show(info))
    emit("error", **out)


def show_errors(channel):
    """A topic name with '/' (Kafka forbids it), refused by a unary call and by a stream."""
    try:
        queue_grpc.QueueBasicInterfaceStub(channel).Publish(queue.PublishRequest(topic="bad/topic", payload=b"x"), timeout=TIMEOUT)
        sys.exit("Publish was accepted; expected INVALID_ARGUMENT")
    except grpc.RpcError as err:
        emit_error("Publish", err)
    try:
        next(stream_grpc.StreamBasicInterfaceStub(channel).Tail(stream.TailRequest(topic="bad/topic"), timeout=TIMEOUT))
        sys.exit("Tail was accepted; expected INVALID_ARGUMENT")
    except grpc.RpcError as err:
        emit_error("Tail", err)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addr", default="127.0.0.1:9091")
    p.add_argument("--queue-topic", default="example-queue")
    p.add_argument("--group", default="example-group")
    p.add_argument("--stream-topic", default="example-stream")
    p.add_argument("--count", type=int, default=5)
    a = p.parse_args()
    with grpc.insecure_channel(a.addr) as channel:
        check_health(channel)
        run_queue(channel, a.queue_topic, a.group, a.count)
        run_stream(channel, a.stream_topic, a.count)
        show_errors(channel)


if __name__ == "__main__":
    main()
