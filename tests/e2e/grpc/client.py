#!/usr/bin/python3
"""Drives every demo.Greeter method once (SayHello five times, four of them at once on one
connection) and checks each answer. Usage: client.py PORT."""
import os
import sys

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from greeter_pb import SERVICE, HelloReply, HelloRequest  # noqa: E402


def method(channel, kind, name):
    make = getattr(channel, kind)
    return make(f"/{SERVICE}/{name}", request_serializer=HelloRequest.SerializeToString,
                response_deserializer=HelloReply.FromString)


def main():
    with grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}") as ch:
        say = method(ch, "unary_unary", "SayHello")
        reply, call = say.with_call(HelloRequest(name="Alice", times=7), timeout=10,
                                    metadata=(("x-tenant", "acme"),))
        assert (reply.message, reply.index, reply.tenant, reply.source) == \
            ("Hello Alice", 7, "acme", "Alice"), reply
        assert ("x-tenant-echo", "acme") in call.initial_metadata(), call.initial_metadata()

        got = list(method(ch, "unary_stream", "CountUp")(HelloRequest(name="tick", times=3),
                                                         timeout=10))
        assert [(r.message, r.index) for r in got] == [("tick #1", 1), ("tick #2", 2),
                                                       ("tick #3", 3)], got

        names = iter([HelloRequest(name=n) for n in ("a", "b", "c")])
        reply = method(ch, "stream_unary", "Collect")(names, timeout=10)
        assert (reply.message, reply.index) == ("Collected a,b,c", 3), reply

        names = iter([HelloRequest(name=n) for n in ("x", "y")])
        got = list(method(ch, "stream_stream", "Chat")(names, timeout=10))
        assert [r.message for r in got] == ["echo x", "echo y"], got

        # Long enough that gzip pays, so grpc compresses both ways.
        long_name = "compressible-" * 40
        reply = method(ch, "unary_unary", "Compressed")(
            HelloRequest(name=long_name), timeout=10, compression=grpc.Compression.Gzip)
        assert reply.message == (long_name + " ") * 50, reply.message[:40]

        try:
            method(ch, "unary_unary", "Fail")(HelloRequest(name="zed"), timeout=10)
            sys.exit("Fail did not fail")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND and e.details() == "no user zed", e

        deadline = method(ch, "unary_unary", "Deadline")
        assert deadline(HelloRequest(), timeout=30).message == "within deadline"
        try:
            deadline(HelloRequest(), timeout=2)
            sys.exit("Deadline accepted a 2 s deadline")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e

        # Four calls at once: four streams open together on the one connection.
        pending = [say.future(HelloRequest(name=n, times=i), timeout=10)
                   for i, n in enumerate(("Bob", "Carol", "Dave", "Erin"))]
        for f, n in zip(pending, ("Bob", "Carol", "Dave", "Erin")):
            assert (f.result().message, f.result().source) == ("Hello " + n, n), f.result()
    print("client: 12 calls answered as expected")


if __name__ == "__main__":
    main()
