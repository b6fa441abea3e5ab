# grpcio: each round one SayHello on a channel kept open since the start (its connection and its
# HPACK table older than reel) and one on a channel made for that call.
import sys, time
import grpc
sys.path.insert(0, sys.argv[2])
from greeter_pb import SERVICE, HelloReply, HelloRequest

def say(ch, i):
    call = ch.unary_unary(f"/{SERVICE}/SayHello", request_serializer=HelloRequest.SerializeToString,
                          response_deserializer=HelloReply.FromString)
    return call(HelloRequest(name="Alice", times=i % 5 + 1), timeout=5, metadata=(("x-tenant", "acme"),))

target = f"127.0.0.1:{sys.argv[1]}"
kept = grpc.insecure_channel(target)
i = 0
while True:
    i += 1
    say(kept, i)
    # A subchannel pool of its own: a new connection, not the kept channel's (grpcio shares them).
    with grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)]) as fresh:
        say(fresh, i)
    if i == 3: print("warm", flush=True)
    time.sleep(0.02)
