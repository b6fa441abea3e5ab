#!/usr/bin/env python3
"""The HTTPS API every HTTP client of the driver matrix calls (loopback only).

api_server.py CERT KEY PORTFILE: serves on 127.0.0.1, a free port written to PORTFILE.
  GET  /items/42  200 application/json {"id": 42, "name": "widget", "tags": ["a", "b"]}
  POST /echo      200 application/json {"echo": <the JSON body>}
  GET  /headers   200 text/plain "ok", with the header X-Reel-Trace: abc123
  anything else   404 application/json {"error": "not found"}
JSON is written with sorted keys, so every client prints the same bytes.
"""
import json
import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length on every answer

    def answer(self, status, body, ctype="application/json", headers=()):
        data = (json.dumps(body, sort_keys=True) if ctype == "application/json" else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/items/42":
            self.answer(200, {"id": 42, "name": "widget", "tags": ["a", "b"]})
        elif self.path == "/headers":
            self.answer(200, "ok", "text/plain", [("X-Reel-Trace", "abc123")])
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/echo":
            return self.answer(404, {"error": "not found"})
        try:
            self.answer(200, {"echo": json.loads(body)})
        except ValueError:
            self.answer(400, {"error": "not JSON"})

    def log_message(self, fmt, *args):
        sys.stderr.write("api: " + fmt % args + "\n")


def main():
    cert, key, portfile = sys.argv[1:4]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))

    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
