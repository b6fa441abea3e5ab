#!/usr/bin/python3
"""A gRPC server for reel's end-to-end tests: python grpcio, generic handlers, the protobuf
runtime for the messages. Usage: server.py PORT. SayHello looks the name up in an HTTP
dependency, GREETER_DEP (a URL whose POST echoes the body), while the call is open.
GREETER_VARIANT=changed answers SayHello for Alice differently (one field of one response), as a
changed build would."""
import os
import signal
import sys
import threading
import time
import urllib.request
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from greeter_pb import SERVICE, HelloReply, HelloRequest  # noqa: E402

CHANGED = os.environ.get("GREETER_VARIANT") == "changed"
DEP = os.environ["GREETER_DEP"]


def metadata(context, key):
    return dict(context.invocation_metadata()).get(key, "")


def say_hello(req, context):
    tenant = metadata(context, "x-tenant")
    if tenant:
        context.send_initial_metadata((("x-tenant-echo", tenant),))
    with urllib.request.urlopen(DEP + "/lookup", data=req.name.encode(), timeout=5) as r:
        source = r.read().decode()
    time.sleep(0.05)  # calls made at once stay open together
    greeting = "Hi" if CHANGED and req.name == "Alice" else "Hello"
    return HelloReply(message=f"{greeting} {req.name}", index=req.times, tenant=tenant,
                      source=source)


def count_up(req, context):
    for i in range(1, req.times + 1):
        yield HelloReply(message=f"{req.name} #{i}", index=i)


def collect(requests, context):
    names = [r.name for r in requests]
    return HelloReply(message="Collected " + ",".join(names), index=len(names))


def chat(requests, context):
    for i, r in enumerate(requests, 1):
        yield HelloReply(message=f"echo {r.name}", index=i)


def compressed(req, context):
    context.set_compression(grpc.Compression.Gzip)
    return HelloReply(message=(req.name + " ") * 50, index=len(req.name))


def fail(req, context):
    context.abort(grpc.StatusCode.NOT_FOUND, f"no user {req.name}")


def deadline(req, context):
    # Honours the caller's deadline: refuses work it could not finish in time.
    left = context.time_remaining()
    if left is None:
        return HelloReply(message="no deadline")
    if left < 5:
        context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "needs 5 s, the deadline is sooner")
    return HelloReply(message="within deadline", index=1)


def main():
    port = int(sys.argv[1])
    des, ser = HelloRequest.FromString, HelloReply.SerializeToString
    handlers = {
        "SayHello": grpc.unary_unary_rpc_method_handler(say_hello, des, ser),
        "CountUp": grpc.unary_stream_rpc_method_handler(count_up, des, ser),
        "Collect": grpc.stream_unary_rpc_method_handler(collect, des, ser),
        "Chat": grpc.stream_stream_rpc_method_handler(chat, des, ser),
        "Compressed": grpc.unary_unary_rpc_method_handler(compressed, des, ser),
        "Fail": grpc.unary_unary_rpc_method_handler(fail, des, ser),
        "Deadline": grpc.unary_unary_rpc_method_handler(deadline, des, ser),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(0)


if __name__ == "__main__":
    main()
