#!/usr/bin/env python3
"""Writes the seed corpora in corpus/<target>/ from real-world exchanges written out from the
protocol specs (the same ones the unit tests use), encoded in decoder_fuzz.h's input format.
Run it again after changing that format; crash inputs found by scripts/fuzz live beside the
seeds as crash-* files and are kept."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
REQ, RESP = 0, 1


def encode(conversation, flags=0):
    """conversation: list of (side, bytes) or ('lost', side, n) / ('close', side) / ('take',)."""
    out = bytearray([flags])
    for step in conversation:
        if step[0] == 'lost':
            out += bytes([(4 << 1) | step[1] | 0x10, step[2]])
        elif step[0] == 'close':
            out += bytes([(5 << 1) | step[1]])
        elif step[0] == 'take':
            out += bytes([6 << 1])
        else:
            side, data = step
            for i in range(0, max(len(data), 1), 255):
                piece = data[i:i + 255]
                out += bytes([side | 0x10, len(piece)]) + piece
            out += bytes([6 << 1])
    return bytes(out)


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed_' + name), 'wb') as f:
        f.write(data)


def http1():
    get = b'GET /api/items?id=7 HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n'
    ok = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"id":7,"a":1'
    chunked = (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
               b'7\r\nMozilla\r\n11\r\nDeveloper Network\r\n0\r\n\r\n')
    write('http1', 'keepalive', encode([(REQ, get), (RESP, ok), (REQ, get), (RESP, chunked)]))
    write('http1', 'pipelined', encode([(REQ, get * 3), (RESP, ok + chunked + ok)], flags=2))
    write('http1', 'head', encode([(REQ, b'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n'),
                                   (RESP, b'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n')]))
    write('http1', 'continue', encode([
        (REQ, b'PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n'),
        (RESP, b'HTTP/1.1 100 Continue\r\n\r\n'), (REQ, b'data'),
        (RESP, b'HTTP/1.1 204 No Content\r\n\r\n')]))
    write('http1', 'upgrade', encode([
        (REQ, b'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
        (RESP, b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05Hello'),
        (REQ, b'\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58')]))
    write('http1', 'until_close', encode([(REQ, b'GET / HTTP/1.0\r\n\r\n'),
                                          (RESP, b'HTTP/1.0 200 OK\r\n\r\nbody'), ('close', RESP)]))
    write('http1', 'gap', encode([(REQ, b'POST /a HTTP/1.1\r\nContent-Length: 50\r\n\r\n0123'),
                                  ('lost', REQ, 46), (REQ, get), (RESP, ok)], flags=4))


def h2_frame(ftype, flags, stream, payload):
    return struct.pack('>I', len(payload))[1:] + bytes([ftype, flags]) + struct.pack('>I', stream) + payload


def hpack_literal(name, value, index_name=0):
    """A literal field with incremental indexing, no Huffman (RFC 7541 6.2.1)."""
    if index_name:
        out = bytes([0x40 | index_name])
    else:
        out = bytes([0x40, len(name)]) + name
    return out + bytes([len(value)]) + value


def http2():
    preface = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
    settings = h2_frame(4, 0, 0, b'\x00\x03\x00\x00\x00\x64\x00\x01\x00\x00\x10\x00')
    ack = h2_frame(4, 1, 0, b'')
    # GET /a (static :method GET, :scheme http), :path and :authority literals, then the same
    # request again from the dynamic table (indexes 62, 63).
    block1 = b'\x82\x86' + hpack_literal(None, b'/a', 4) + hpack_literal(None, b'localhost', 1)
    block2 = b'\x82\x86\xbf\xbe'
    resp = b'\x88' + hpack_literal(None, b'5', 28)  # :status 200, content-length 5
    grpc_req = (b'\x83\x86' + hpack_literal(None, b'/helloworld.Greeter/SayHello', 4) +
                hpack_literal(None, b'application/grpc', 31) + hpack_literal(b'te', b'trailers'))
    grpc_resp = b'\x88' + hpack_literal(None, b'application/grpc', 31)
    trailers = hpack_literal(b'grpc-status', b'0')
    msg = b'\x00\x00\x00\x00\x07\x0a\x05world'
    client = preface + settings + h2_frame(1, 5, 1, block1) + h2_frame(1, 5, 3, block2)
    server = (settings + ack + h2_frame(1, 4, 3, resp) + h2_frame(1, 4, 1, b'\x88\xbe') +
              h2_frame(0, 1, 1, b'hello') + h2_frame(0, 9, 3, b'\x02hello\x00\x00'))
    write('http2', 'interleaved', encode([(REQ, client), (RESP, server)]))
    cont = h2_frame(1, 1, 1, block1[:3]) + h2_frame(9, 0, 1, block1[3:6]) + h2_frame(9, 4, 1, block1[6:])
    write('http2', 'continuation', encode([(REQ, preface + settings + cont), (RESP, settings + h2_frame(1, 5, 1, resp))]))
    write('http2', 'grpc', encode([
        (REQ, preface + settings + h2_frame(1, 4, 1, grpc_req) + h2_frame(0, 0, 1, msg[:3]) + h2_frame(0, 1, 1, msg[3:])),
        (RESP, settings + h2_frame(1, 4, 1, grpc_resp) + h2_frame(0, 0, 1, msg + msg) + h2_frame(1, 5, 1, trailers))]))
    write('http2', 'trailers_only', encode([
        (REQ, preface + settings + h2_frame(1, 4, 1, grpc_req) + h2_frame(0, 1, 1, msg)),
        (RESP, settings + h2_frame(1, 5, 1, grpc_resp + hpack_literal(b'grpc-status', b'5')))], flags=2))
    # Joined mid-flight: dynamic references to a table never seen; then bytes lost.
    write('http2', 'midflight', encode([(REQ, h2_frame(1, 5, 3, block2)), (RESP, h2_frame(1, 5, 3, b'\x88\xbe')),
                                        ('lost', REQ, 20), (REQ, h2_frame(1, 5, 5, block1))], flags=4))
    write('http2', 'control', encode([(REQ, preface + settings + h2_frame(6, 0, 0, b'\x00' * 8) +
                                       h2_frame(8, 0, 0, b'\x00\x00\x10\x00') + h2_frame(3, 0, 1, b'\x00\x00\x00\x08') +
                                       h2_frame(7, 0, 0, b'\x00\x00\x00\x01\x00\x00\x00\x00'))]))


def redis():
    def cmd(*args):
        return b'*%d\r\n' % len(args) + b''.join(b'$%d\r\n%s\r\n' % (len(a), a) for a in args)
    write('redis', 'set_get', encode([(REQ, cmd(b'SET', b'foo', b'bar')), (RESP, b'+OK\r\n'),
                                      (REQ, cmd(b'GET', b'foo')), (RESP, b'$3\r\nbar\r\n'),
                                      (REQ, cmd(b'GET', b'nope')), (RESP, b'$-1\r\n')]))
    write('redis', 'pipeline', encode([(REQ, cmd(b'PING') + cmd(b'INCR', b'c') + cmd(b'LRANGE', b'l', b'0', b'-1')),
                                       (RESP, b'+PONG\r\n:42\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n')]))
    write('redis', 'resp3', encode([(REQ, cmd(b'HELLO', b'3')),
                                    (RESP, b'%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n'),
                                    (REQ, cmd(b'X')), (RESP, b'|1\r\n+a\r\n,0.5\r\n~2\r\n#t\r\n_\r\n'),
                                    (REQ, cmd(b'X')), (RESP, b'!5\r\nERR x\r\n=7\r\ntxt:abc\r\n')]))
    write('redis', 'pubsub', encode([(REQ, cmd(b'SUBSCRIBE', b'news', b'sport')),
                                     (RESP, b'*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n'
                                            b'*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n'
                                            b'*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n'
                                            b'>3\r\n$7\r\nmessage\r\n$5\r\nsport\r\n$1\r\nx\r\n'),
                                     (REQ, cmd(b'UNSUBSCRIBE')),
                                     (RESP, b'*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n')]))
    write('redis', 'inline', encode([(REQ, b'PING\r\nset a "b c"\r\n'), (RESP, b'+PONG\r\n-ERR no\r\n')]))
    write('redis', 'big_bulk', encode([(REQ, cmd(b'GET', b'big')), (RESP, b'$300\r\n' + b'v' * 302)], flags=2))


def pg_msg(tag, payload):
    return tag + struct.pack('>I', len(payload) + 4) + payload


def postgres():
    startup = b'\x00\x03\x00\x00user\x00postgres\x00database\x00shop\x00\x00'
    startup = struct.pack('>I', len(startup) + 4) + startup
    ready = pg_msg(b'Z', b'I')
    auth_ok = pg_msg(b'R', b'\x00\x00\x00\x00')
    rowdesc = pg_msg(b'T', b'\x00\x02' + b'id\x00' + struct.pack('>IhIhih', 16384, 1, 23, 4, -1, 0)
                     + b'name\x00' + struct.pack('>IhIhih', 16384, 2, 25, -1, -1, 0))
    row = pg_msg(b'D', b'\x00\x02' + struct.pack('>I', 1) + b'1' + struct.pack('>I', 3) + b'ada')
    write('postgres', 'startup_query', encode([
        (REQ, startup), (RESP, pg_msg(b'R', b'\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00')),
        (REQ, pg_msg(b'p', b'SCRAM-SHA-256\x00\x00\x00\x00\x04n,,n')),
        (RESP, auth_ok + pg_msg(b'S', b'server_version\x0015.5\x00') + pg_msg(b'K', b'\x00' * 8) + ready),
        (REQ, pg_msg(b'Q', b'SELECT id, name FROM users\x00')),
        (RESP, rowdesc + row + pg_msg(b'C', b'SELECT 1\x00') + ready),
        (REQ, pg_msg(b'X', b''))]))
    parse = pg_msg(b'P', b's1\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17')
    bind = pg_msg(b'B', b'\x00s1\x00\x00\x00\x00\x01\x00\x00\x00\x0242\x00\x00')
    write('postgres', 'extended', encode([
        (REQ, parse + bind + pg_msg(b'D', b'P\x00') + pg_msg(b'E', b'\x00\x00\x00\x00\x00') + pg_msg(b'S', b'')),
        (RESP, pg_msg(b'1', b'') + pg_msg(b'2', b'') + rowdesc + row + pg_msg(b'C', b'SELECT 1\x00') + ready)]))
    write('postgres', 'error', encode([
        (REQ, pg_msg(b'Q', b'SELECT * FROM nope\x00')),
        (RESP, pg_msg(b'E', b'SERROR\x00C42P01\x00Mrelation "nope" does not exist\x00\x00') + ready)]))
    write('postgres', 'ssl', encode([(REQ, b'\x00\x00\x00\x08\x04\xd2\x16\x2f'), (RESP, b'N'),
                                     (REQ, startup), (RESP, auth_ok + ready)]))
    write('postgres', 'huge_length', encode([(REQ, pg_msg(b'Q', b'SELECT 1\x00')),
                                             (RESP, b'D\x7f\xff\xff\xff' + b'x' * 200)], flags=2))


def my_packet(seq, payload):
    return struct.pack('<I', len(payload))[:3] + bytes([seq]) + payload


def mysql():
    def lenenc(s):
        return bytes([len(s)]) + s

    def column(name, t):
        return (lenenc(b'def') + lenenc(b'shop') + lenenc(b'users') + lenenc(b'users') + lenenc(name)
                + lenenc(name) + b'\x0c\x3f\x00\x0b\x00\x00\x00' + bytes([t]) + b'\x03\x42\x00\x00\x00')
    greeting = (b'\x0a8.0.35\x00' + struct.pack('<I', 42) + b'abcdefgh\x00\xff\xff\xff\x02\x00\xff\xdf\x15'
                + b'\x00' * 10 + b'ijklmnopqrst\x00caching_sha2_password\x00')
    caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000 | 0x200000 | 0x1000000
    response = (struct.pack('<II', caps, 1 << 24) + b'\xff' + b'\x00' * 23 + b'root\x00\x20' + b'Z' * 32
                + b'shop\x00caching_sha2_password\x00')
    ok = b'\x00\x00\x00\x02\x00\x00\x00'
    write('mysql', 'handshake_query', encode([
        (RESP, my_packet(0, greeting)), (REQ, my_packet(1, response)),
        (RESP, my_packet(2, b'\x01\x03') + my_packet(3, ok)),
        (REQ, my_packet(0, b'\x03SELECT id, name FROM users')),
        (RESP, my_packet(1, b'\x02') + my_packet(2, column(b'id', 3)) + my_packet(3, column(b'name', 0xfd))
         + my_packet(4, lenenc(b'1') + lenenc(b'ada')) + my_packet(5, b'\xfe\x00\x00\x22\x00\x00\x00')),
        (REQ, my_packet(0, b'\x01'))]))
    write('mysql', 'prepare_execute', encode([
        (REQ, my_packet(0, b'\x16SELECT name FROM users WHERE id = ?')),
        (RESP, my_packet(1, b'\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00') + my_packet(2, column(b'?', 8))
         + my_packet(3, b'\xfe\x00\x00\x02\x00') + my_packet(4, column(b'name', 0xfd)) + my_packet(5, b'\xfe\x00\x00\x02\x00')),
        (REQ, my_packet(0, b'\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00' + struct.pack('<q', 42))),
        (RESP, my_packet(1, b'\x01') + my_packet(2, column(b'name', 0xfd)) + my_packet(3, b'\xfe\x00\x00\x02\x00')
         + my_packet(4, b'\x00\x00\x03eve') + my_packet(5, b'\xfe\x00\x00\x02\x00')),
        (REQ, my_packet(0, b'\x19\x01\x00\x00\x00'))]))
    write('mysql', 'error', encode([(REQ, my_packet(0, b'\x03SELECT * FROM nope')),
                                    (RESP, my_packet(1, b"\xff\x7a\x04#42S02Table 'shop.nope' doesn't exist"))]))
    write('mysql', 'huge', encode([(REQ, b'\xff\xff\xff\x00\x03' + b'x' * 100)], flags=2))


def dns():
    def header(i, flags, qd, an, ns=0, ar=0):
        return struct.pack('>HHHHHH', i, flags, qd, an, ns, ar)
    q = b'\x03www\x07example\x03com\x00' + struct.pack('>HH', 1, 1)
    query = header(0x1a2b, 0x0120, 1, 0) + q
    answer = (header(0x1a2b, 0x8180, 1, 2) + q + b'\xc0\x0c' + struct.pack('>HHIH', 5, 1, 300, 2) + b'\xc0\x10'
              + b'\xc0\x10' + struct.pack('>HHIH', 1, 1, 60, 4) + b'\x5d\xb8\xd8\x22')
    write('dns', 'udp', encode([(REQ, query), (RESP, answer)], flags=1))

    def tcp(m):
        return struct.pack('>H', len(m)) + m
    write('dns', 'tcp', encode([(REQ, tcp(query) + tcp(header(2, 0x0100, 1, 0) + q)),
                                (RESP, tcp(header(2, 0x8183, 1, 0) + q) + tcp(answer))]))
    write('dns', 'loop', encode([(REQ, header(1, 0, 1, 0) + b'\xc0\x0c\x00\x01\x00\x01')], flags=1))


def raw():
    write('raw', 'smtp', encode([(RESP, b'220 mail ESMTP\r\n'), (REQ, b'EHLO x\r\n'), (RESP, b'250 hi\r\n'),
                                 (REQ, b'QUIT\r\n'), (RESP, b'221 bye\r\n')]))
    write('raw', 'tls', encode([(REQ, b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'),
                                (RESP, b'\x16\x03\x03\x00\x7a\x02\x00\x00\x76')]))
    write('raw', 'ssh', encode([(REQ, b'SSH-2.0-OpenSSH_9.2\r\n'), ('lost', REQ, 40), (REQ, b'more')]))


def stream_buffer():
    def add(offset, length):
        return bytes([0, offset & 0xff, length])
    write('stream_buffer', 'in_order', b'\x00' + add(0, 10) + b'\x05\x05' + add(0, 20) + b'\x05\xff')
    write('stream_buffer', 'reorder', b'\x00' + add(10, 10) + add(5, 8) + add(0, 5) + b'\x05\xff')
    write('stream_buffer', 'lost', b'\x00' + add(0, 4) + b'\x04\x04\x10' + add(20, 4) + b'\x05\x04\x06\x07')
    write('stream_buffer', 'overflow', b'\x01' + add(40, 200) + add(100, 200) + b'\x03\x01\x00\x10' + b'\x06')
    write('stream_buffer', 'overlap', b'\x00' + add(0, 4) + add(2, 6) + add(12, 3) + add(6, 12) + b'\x05\x40')


def chunks(data, op):
    out = bytearray()
    for i in range(0, max(len(data), 1), 255):
        piece = data[i:i + 255]
        out += bytes([op, len(piece)]) + piece if op is not None else bytes([len(piece)]) + piece
    return bytes(out)


def redis_cmd(*args):
    return b'*%d\r\n' % len(args) + b''.join(b'$%d\r\n%s\r\n' % (len(a), a) for a in args)


def grpc_client():
    """The client side of mock_fixture.h grpc(): SayHello(alice), then Count("2")."""
    settings = h2_frame(4, 0, 0, b'\x00\x03\x00\x00\x00\x64')
    def request(path):
        return (b'\x83\x86' + hpack_literal(None, path, 4) + hpack_literal(None, b'application/grpc', 31) +
                hpack_literal(b'te', b'trailers'))
    def message(pb):
        return b'\x00' + struct.pack('>I', len(pb)) + pb
    return (b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + settings +
            h2_frame(1, 4, 1, request(b'/demo.Greeter/SayHello')) + h2_frame(0, 1, 1, message(b'\x0a\x05alice')) +
            h2_frame(1, 4, 3, request(b'/demo.Greeter/Count')) + h2_frame(0, 1, 3, message(b'\x0a\x01\x32')))


# Conversations for the mock targets: (server index in mock_fixture.h fixture_servers(), steps).
def app_conversations():
    startup = b'\x00\x03\x00\x00user\x00postgres\x00database\x00shop\x00\x00'
    startup = struct.pack('>I', len(startup) + 4) + startup
    ready = pg_msg(b'Z', b'I')
    greeting = (b'\x0a8.0.35\x00' + struct.pack('<I', 42) + b'abcdefgh\x00\xff\xff\xff\x02\x00\xff\xdf\x15'
                + b'\x00' * 10 + b'ijklmnopqrst\x00caching_sha2_password\x00')
    caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000 | 0x200000 | 0x1000000
    login = (struct.pack('<II', caps, 1 << 24) + b'\xff' + b'\x00' * 23 + b'root\x00\x20' + b'Z' * 32
             + b'shop\x00caching_sha2_password\x00')
    get = b'GET /api/items?id=7 HTTP/1.1\r\nHost: localhost:8000\r\nAccept: */*\r\n\r\n'
    return {
        'http': (0, [(REQ, get), (RESP, b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
                     (REQ, b'POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                           b'Content-Length: 25\r\n\r\n{"name":"bob","n":[1,3]}'),
                     (RESP, b'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n')]),
        'redis': (1, [(REQ, redis_cmd(b'AUTH', b'secret')), (RESP, b'+OK\r\n'),
                      (REQ, redis_cmd(b'GET', b'foo')), (RESP, b'$3\r\nbar\r\n'),
                      (REQ, redis_cmd(b'HGETALL', b'h') + redis_cmd(b'GET', b'other')),
                      (RESP, b'*0\r\n$-1\r\n')]),
        'postgres': (2, [(REQ, startup), (RESP, pg_msg(b'R', b'\x00\x00\x00\x03')),
                         (REQ, pg_msg(b'p', b'hunter2\x00')), (RESP, pg_msg(b'R', b'\x00' * 4) + ready),
                         (REQ, pg_msg(b'Q', b'SELECT id FROM users WHERE id = 2\x00')),
                         (RESP, pg_msg(b'C', b'SELECT 0\x00') + ready),
                         (REQ, pg_msg(b'P', b's1\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17')
                          + pg_msg(b'B', b'\x00s1\x00\x00\x00\x00\x01\x00\x00\x00\x0243\x00\x00')
                          + pg_msg(b'E', b'\x00\x00\x00\x00\x00') + pg_msg(b'S', b'')),
                         (RESP, pg_msg(b'1', b'') + pg_msg(b'2', b'') + ready),
                         (REQ, pg_msg(b'X', b''))]),
        'mysql': (3, [(RESP, my_packet(0, greeting)), (REQ, my_packet(1, login)),
                      (RESP, my_packet(2, b'\x00\x00\x00\x02\x00\x00\x00')),
                      (REQ, my_packet(0, b'\x03SELECT id, name FROM users')),
                      (RESP, my_packet(1, b'\xff\x7a\x04#42S02nope')),
                      (REQ, my_packet(0, b'\x16SELECT name FROM users WHERE id = ?')),
                      (RESP, my_packet(1, b'\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00')),
                      (REQ, my_packet(0, b'\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00'
                                      + struct.pack('<q', 42))),
                      (REQ, my_packet(0, b'\x01'))]),
        'generic': (4, [(REQ, b'EHLO x\r\n'), (RESP, b'250 hi\r\n'), (REQ, b'\x01\x02\x03\x00\xff')]),
        'infer_http': (5, [(REQ, get), (RESP, b'HTTP/1.1 204 No Content\r\n\r\n')]),
        'infer_redis': (5, [(REQ, b'PING\r\n' + redis_cmd(b'SET', b'foo', b'bar')), (RESP, b'+PONG\r\n+OK\r\n')]),
        'keploy_mysql': (6, [(REQ, my_packet(1, login)), (REQ, my_packet(0, b'\x0e'))]),
        'grpc': (7, [(REQ, grpc_client())]),
    }


def mock_responder():
    for name, (server, steps) in app_conversations().items():
        client = b''.join(chunks(d, None) for side, d in steps if side == REQ)
        write('mock_responder', name, bytes([server]) + client)
        if name == 'redis':
            write('mock_responder', name + '_test_bytewise', bytes([server | 0x08 | 0x40]) +
                  b''.join(d for side, d in steps if side == REQ))


def mock_recorder():
    for name, (server, steps) in app_conversations().items():
        out = bytearray([server])
        for side, d in steps:
            out += chunks(d, side | (1 << 3))
        out += bytes([3 << 1])
        write('mock_recorder', name, bytes(out))
    _, steps = app_conversations()['postgres']
    out = bytearray([2 | 8 | 16 | 32])  # redacted, tiny max_message, reset
    for side, d in steps:
        out += chunks(d, side | (1 << 3))
    write('mock_recorder', 'postgres_redacted_cut', bytes(out) + bytes([2 << 1]))


def mock_dns():
    def header(i, flags, qd, an, ns=0, ar=0):
        return struct.pack('>HHHHHH', i, flags, qd, an, ns, ar)
    q = b'\x03www\x07example\x03com\x00' + struct.pack('>HH', 1, 1)
    write('mock_dns', 'a', header(7, 0x0120, 1, 0) + q)
    write('mock_dns', 'aaaa_other', header(8, 0x0100, 1, 0) + b'\x03foo\x04test\x00' + struct.pack('>HH', 28, 1))
    write('mock_dns', 'edns', header(9, 0x0120, 1, 0, 0, 1) + q + b'\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00')
    write('mock_dns', 'loop', header(1, 0, 1, 0) + b'\xc0\x0c\x00\x01\x00\x01')


def testset_yaml():
    root = os.path.dirname(HERE)
    for sub in ('data/keploy', 'e2e/fixtures/keploy'):
        base = os.path.join(root, sub, 'test-set-0')
        tag = sub.split('/')[0]
        files = [('mocks', os.path.join(base, 'mocks.yaml'))]
        files += [(f[:-5], os.path.join(base, 'tests', f)) for f in sorted(os.listdir(os.path.join(base, 'tests')))]
        for name, path in files:
            with open(path, 'rb') as f:
                write('testset_yaml', '%s_%s' % (tag, name), f.read())


def protoscope():
    # Text: the syntax of protoscope's language.txt, a golden output and hand-written mistakes.
    write('protoscope', 'language', b"""# Protoscope
"Quoted\\n \\"strings\\" \\x41\\101" `00abCD` 456 -0xffFF -2z 3 0i32 -23i64 long-form:3 3
true false 1.0 9.423e-2 -0x1.ffp52 1.5i32 0xf.fi64 inf32 -inf64
1:VARINT 2:I64 3:LEN 4:SGROUP 5:EGROUP 6:I32 0x10:0 8:6
1: 55z 2: 1.23 3: {"text"} 6: -1i32 8: !{42}
23: long-form:2 {"non-minimally-prefixed"}
24: {
  1: 5
  2: {"nested string"}
}
25: { 1 2 3 4 5 6 7 }
26: !{ 1: 55z 2: 1.4 3: {"abcd"} }
27: !{long-form:3}
2:LEN 5 "abcd"
""")
    write('protoscope', 'golden_groups', b"""1: !{
  1: 101
  2: 202i32
  3: {12: 7.2232605e28i32}  # 0x6f696569i32
}
2:SGROUP
3:EGROUP
5: !{6: !{}}
6: !{long-form:5}
10:SGROUP
""")
    write('protoscope', 'unmatched', b'1: {2: !{3: "x\\q"} long-form:2 ` `')
    # Bytes: a unary greeter message, a map entry with floats and a group, and a length past the end.
    write('protoscope', 'greeter_bytes', b'\x0a\x05Alice\x10\x96\x01')
    write('protoscope', 'nested_bytes', b'\x12\x0e\x08\x01\x15\x00\x00\xc0\x3f\x1a\x05h\xc3\xa9llo'
          b'\x23\x08\x07\x24\x31' + struct.pack('<d', 0.1))
    write('protoscope', 'cut_bytes', b'\x0a\x7f\x08\x01')


GRPC_MOCK = b"""version: api.keploy.io/v1beta1
kind: gRPC
name: mock-0
spec:
    metadata:
        operation: /helloworld.Greeter/SayHello
        type: mocks
    grpcReq:
        headers:
            pseudo_headers:
                :authority: localhost:50051
                :method: POST
                :path: /helloworld.Greeter/SayHello
                :scheme: http
            ordinary_headers:
                authorization: Bearer REDACTED:0badf00d
                content-type: application/grpc
                te: trailers
        body:
            compression_flag: 0
            message_length: 7
            decoded_data: |
                1: {"Alice"}
        messages:
            - compression_flag: 0
              message_length: 7
              decoded_data: |
                1: {"Alice"}
            - compression_flag: 1
              message_length: 31
              decoded_data: |
                1: {"Bob"}
                2: 1.5i32  # 0x3fc00000i32
        timestamp: 2024-11-05T09:15:02.1Z
    grpcResp:
        headers:
            pseudo_headers:
                :status: "200"
            ordinary_headers:
                content-type: application/grpc
                grpc-encoding: gzip
        body:
            compression_flag: 0
            message_length: 13
            decoded_data: |
                1: {"Hello Alice"}
        messages:
            - compression_flag: 0
              message_length: 13
              decoded_data: |
                1: {"Hello Alice"}
        trailers:
            pseudo_headers: {}
            ordinary_headers:
                grpc-message: ""
                grpc-status: "0"
        timestamp: 2024-11-05T09:15:02.2Z
    reqTimestampMock: 2024-11-05T09:15:02.1Z
    resTimestampMock: 2024-11-05T09:15:02.2Z
---
version: api.keploy.io/v1beta1
kind: gRPC
name: mock-1
spec:
    metadata: {}
    grpcReq:
        headers:
            pseudo_headers:
                :path: /helloworld.Greeter/SayHello
            ordinary_headers:
                content-type: application/grpc
        body:
            compression_flag: 0
            message_length: 0
            decoded_data: ""
    grpcResp:
        headers:
            pseudo_headers:
                :status: "200"
            ordinary_headers: {}
        body:
            compression_flag: 0
            message_length: 0
            decoded_data: ""
        additional_messages:
            - compression_flag: 0
              message_length: 2
              decoded_data: "1: 7"
        trailers:
            pseudo_headers: {}
            ordinary_headers:
                grpc-message: not found
                grpc-status: "5"
    reqTimestampMock: 2024-11-05T09:15:03Z
    resTimestampMock: 2024-11-05T09:15:03.1Z
connectionId: "0"
"""

GRPC_TEST = b"""version: api.keploy.io/v1beta1
kind: gRPC
name: test-1
spec:
    metadata: {}
    grpcReq:
        headers:
            pseudo_headers:
                :authority: localhost:50051
                :method: POST
                :path: /users.Users/Get
                :scheme: http
            ordinary_headers:
                content-type: application/grpc
                te: trailers
        body:
            compression_flag: 0
            message_length: 2
            decoded_data: |
                1: 7
        messages:
            - compression_flag: 0
              message_length: 2
              decoded_data: |
                1: 7
        timestamp: 2024-11-05T09:15:02.1Z
    grpcResp:
        headers:
            pseudo_headers:
                :status: "200"
            ordinary_headers:
                content-type: application/grpc
        body:
            compression_flag: 0
            message_length: 11
            decoded_data: |
                1: 7
                2: {"Alice"}
        messages: []
        trailers:
            pseudo_headers: {}
            ordinary_headers:
                grpc-status: "0"
    app_port: 50051
    created: 1730798102
    assertions:
        noise:
            messages.0.2: []
"""


def grpc_yaml():
    write('testset_yaml', 'grpc_mocks', GRPC_MOCK)
    write('testset_yaml', 'grpc_test-1', GRPC_TEST)
    write('keploy_mocks', 'grpc', GRPC_MOCK)


def reel_config():
    write('reel_config', 'full', b"""# reel.yaml
record:
  app_port: 8080
noise:
  auto: false
  global:
    - header.X-Request-Start
    - path: body.items.*.updatedAt
    - path: body.version
      value: '^v\\d+\\.\\d+\\.\\d+$'
    - path_regex: '^header\\.x-amzn-.*'
  test_sets:
    test-set-0:
      - body.session.id
redact:
  enabled: true
  headers: [X-Internal-Auth, X-*-Signature]
  fields: [ssn, card_number]
files:
  mode: "0600"
""")
    write('reel_config', 'flow', b'{noise: {auto: true, global: [body.**.id, {path_regex: "(a|b)*c"}]}, files: {mode: "0644"}}\n')
    write('reel_config', 'typo', b'noise:\n  globl: []\n')
    write('reel_config', 'empty', b'')


if __name__ == '__main__':
    http1()
    http2()
    redis()
    postgres()
    mysql()
    dns()
    raw()
    stream_buffer()
    testset_yaml()
    grpc_yaml()
    protoscope()
    reel_config()
    mock_responder()
    mock_dns()
    mock_recorder()
