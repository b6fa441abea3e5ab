"""The gRPC dependency: python grpcio serving demo.Greeter with hand-encoded protobuf, on h2c and
on TLS at once.  dep.py H2C_PORT TLS_PORT CERT KEY"""
import sys
from concurrent import futures

import grpc


def field1(text):
    data = text.encode()
    n, out = len(data), bytearray([0x0A])
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + data


def text1(msg):
    if len(msg) < 2 or msg[0] != 0x0A:
        return ""
    n, shift, i = 0, 0, 1
    while i < len(msg):
        b = msg[i]
        n |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if b < 0x80:
            break
    return msg[i:i + n].decode()


def say_hello(request, context):
    return field1("Hello, " + text1(request) + "!")


def count(request, context):
    for i in range(int(text1(request) or "0")):
        yield field1("item-%d" % (i + 1))


USERS = {"7": "Ada Lovelace", "8": "Alan Turing"}


def lookup(request, context):
    uid = text1(request)
    if uid not in USERS:
        context.abort(grpc.StatusCode.NOT_FOUND, "no user " + uid)
    return field1(USERS[uid])


def main():
    h2c_port, tls_port, cert, key = sys.argv[1:5]
    same = dict(request_deserializer=None, response_serializer=None)
    handlers = {
        "SayHello": grpc.unary_unary_rpc_method_handler(say_hello, **same),
        "Count": grpc.unary_stream_rpc_method_handler(count, **same),
        "Lookup": grpc.unary_unary_rpc_method_handler(lookup, **same),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("demo.Greeter", handlers),))
    server.add_insecure_port("127.0.0.1:" + h2c_port)
    creds = grpc.ssl_server_credentials([(open(key, "rb").read(), open(cert, "rb").read())])
    server.add_secure_port("127.0.0.1:" + tls_port, creds)
    server.start()
    print("serving", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
