#!/usr/bin/python3
"""rates_api: the shop's "external" exchange-rate API, on loopback.

GET /rates/<CUR> -> 200 {"currency", "rate", "as_of"} from a fixed table, 404 for unknown codes.

Usage: rates_api.py [--host 127.0.0.1] [--port 0] [--port-file FILE] [--tls CERT KEY]
With --port 0 the kernel picks a port; --port-file receives it (written atomically) once bound.
With --tls it serves HTTPS with that certificate and key (PEM), e.g. RATES_URL=https://...
"""
import argparse
import datetime
import json
import os
import re
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG_LOCK = threading.Lock()
RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CHF": 0.88, "JPY": 151.3}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "rates/1.0"

    def do_GET(self):
        match = re.fullmatch(r"/rates/([A-Za-z]{3})", self.path.split("?")[0])
        code = match[1].upper() if match else None
        if code in RATES:
            now = datetime.datetime.now(datetime.timezone.utc)
            self.reply(200, {"currency": code, "rate": RATES[code],
                             "as_of": now.isoformat(timespec="seconds")})
        elif match:
            self.reply(404, {"error": "unknown currency", "currency": code})
        else:
            self.reply(404, {"error": "no such endpoint"})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        with LOG_LOCK:  # print() writes the text and the newline separately
            sys.stderr.write(f"rates_api: {fmt % args}\n")
            sys.stderr.flush()


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops connections from a burst of clients


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    args = parser.parse_args()

    server = Server((args.host, args.port), Handler)
    scheme = "http"
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    port = server.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.rename(tmp, args.port_file)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"rates_api: listening on {scheme}://{args.host}:{port}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
