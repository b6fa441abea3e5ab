#!/usr/bin/python3
"""shop: the example service reel records and replays.

A small JSON web shop that calls PostgreSQL (products, orders), Redis (a list cache, view counters)
and an HTTP API (exchange rates). Configuration comes from the environment:

  SHOP_PORT     port to listen on (127.0.0.1, or SHOP_HOST)     DATABASE_URL  postgresql://...
  REDIS_URL     redis://127.0.0.1:PORT/0                        RATES_URL     http://127.0.0.1:PORT
  SHOP_VARIANT  "changed": prices are rounded to whole units, a deliberate regression for demos
  SHOP_TLS_CERT, SHOP_TLS_KEY   PEM files: serve HTTPS instead of HTTP

Runs under Debian's /usr/bin/python3, which has python3-psycopg2 and python3-redis (scripts/setup).
"""
import contextlib
import datetime
import decimal
import json
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import psycopg2
    import psycopg2.pool
    import redis
except ImportError as e:
    sys.exit(f"shop: {e} under {sys.executable}; run scripts/setup and start with /usr/bin/python3")

POOL_SIZE = 4
CACHE_KEY = "products:all"
CACHE_TTL_SECONDS = 300
SEED = [("Espresso cup", 450, 20), ("French press", 2999, 5), ("Coffee beans 1kg", 1899, 12)]
VARIANT = os.environ.get("SHOP_VARIANT", "")


LOG_LOCK = threading.Lock()


def log(message):
    with LOG_LOCK:  # print() writes the text and the newline separately; threads interleave them
        sys.stderr.write(f"shop: {message}\n")
        sys.stderr.flush()


class HttpError(Exception):
    def __init__(self, status, error, **details):
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **details}


def product_json(row):
    return {"id": row[0], "name": row[1], "price_cents": row[2], "stock": row[3]}


class Shop:
    """The endpoints' logic; one instance shared by every request thread."""

    def __init__(self, database_url, redis_url, rates_url):
        self.pool = psycopg2.pool.ThreadedConnectionPool(1, POOL_SIZE, dsn=database_url)
        # The pool raises instead of blocking when empty; the semaphore makes callers wait.
        self.slots = threading.BoundedSemaphore(POOL_SIZE)
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self.rates_url = rates_url.rstrip("/")

    @contextlib.contextmanager
    def db(self):
        """A cursor inside one transaction: committed on success, rolled back on any exception."""
        with self.slots:
            conn = self.pool.getconn()
            try:
                with conn, conn.cursor() as cur:
                    yield cur
            finally:
                self.pool.putconn(conn, close=bool(conn.closed))

    def close(self):
        self.pool.closeall()
        self.redis.close()

    def init_schema(self):
        with self.db() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS products (id serial PRIMARY KEY, name text NOT NULL,"
                        " price_cents int NOT NULL, stock int NOT NULL CHECK (stock >= 0))")
            cur.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY,"
                        " product_id int NOT NULL REFERENCES products (id), quantity int NOT NULL,"
                        " created_at timestamptz NOT NULL DEFAULT now())")
            # Seeded in the server, in one statement whose answer is always "DO": the start-up
            # reads nothing back, so a recording that joined the running shop (reel record
            # --pid), which never saw it, still replays it.
            values = ", ".join(["(%s, %s, %s)"] * len(SEED))
            cur.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM products) THEN"
                        f" INSERT INTO products (name, price_cents, stock) VALUES {values};"
                        " END IF; END $$", [v for row in SEED for v in row])

    def health(self, _match, _query, _body):
        return 200, {"ok": True}

    def list_products(self, _match, _query, _body):
        cached = self.redis.get(CACHE_KEY)
        if cached is not None:
            return 200, cached, {"X-Cache": "HIT"}
        with self.db() as cur:
            cur.execute("SELECT id, name, price_cents, stock FROM products ORDER BY id")
            body = json.dumps([product_json(r) for r in cur.fetchall()]).encode()
        self.redis.setex(CACHE_KEY, CACHE_TTL_SECONDS, body)
        return 200, body, {"X-Cache": "MISS"}

    def find_product(self, product_id):
        with self.db() as cur:
            cur.execute("SELECT id, name, price_cents, stock FROM products WHERE id = %s", (product_id,))
            row = cur.fetchone()
        if row is None:
            raise HttpError(404, "product not found", id=product_id)
        return product_json(row)

    def get_product(self, match, _query, _body):
        product = self.find_product(int(match[1]))
        now = datetime.datetime.now(datetime.timezone.utc)
        # Fixed-width timestamp so Content-Length does not vary with it.
        product["requested_at"] = now.isoformat(timespec="milliseconds")
        product["request_id"] = str(uuid.uuid4())
        return 200, product

    def create_product(self, _match, _query, body):
        name, price, stock = body.get("name"), body.get("price_cents"), body.get("stock")
        if not isinstance(name, str) or not name.strip():
            raise HttpError(400, "name must be a non-empty string")
        for field, value in (("price_cents", price), ("stock", stock)):
            if type(value) is not int or not 0 <= value < 2**31:
                raise HttpError(400, f"{field} must be a non-negative integer")
        with self.db() as cur:
            cur.execute("INSERT INTO products (name, price_cents, stock) VALUES (%s, %s, %s)"
                        " RETURNING id, name, price_cents, stock", (name.strip(), price, stock))
            product = product_json(cur.fetchone())
        self.redis.delete(CACHE_KEY)
        return 201, product

    def fetch_rate(self, currency):
        url = f"{self.rates_url}/rates/{currency}"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return decimal.Decimal(str(json.load(resp)["rate"]))
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise HttpError(400, "unknown currency", currency=currency) from e
            raise HttpError(502, "rates API failed", status=e.code) from e
        except (OSError, ValueError, KeyError) as e:
            raise HttpError(502, "rates API unreachable", reason=str(e)) from e

    def price(self, match, query, _body):
        currency = query.get("currency", [""])[0].upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise HttpError(400, "currency must be a 3-letter code")
        product = self.find_product(int(match[1]))
        rate = self.fetch_rate(currency)
        unit = decimal.Decimal("1") if VARIANT == "changed" else decimal.Decimal("0.01")
        price = (decimal.Decimal(product["price_cents"]) / 100 * rate).quantize(
            unit, rounding=decimal.ROUND_HALF_UP)
        # redis-py's incr() sends INCRBY key 1; the demo's recordings read better as plain INCR.
        views = self.redis.execute_command("INCR", f"views:{product['id']}")
        return 200, {"product_id": product["id"], "name": product["name"],
                     "price_cents": product["price_cents"], "currency": currency,
                     "rate": float(rate), "price": str(price), "views": views}

    def create_order(self, _match, _query, body):
        product_id, quantity = body.get("product_id"), body.get("quantity")
        if type(product_id) is not int or type(quantity) is not int or not 0 < quantity < 2**31:
            raise HttpError(400, "product_id and quantity must be integers, quantity > 0")
        with self.db() as cur:
            # FOR UPDATE: two concurrent orders cannot both take the last item.
            cur.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product_id,))
            row = cur.fetchone()
            if row is None:
                raise HttpError(404, "product not found", id=product_id)
            if row[0] < quantity:
                raise HttpError(409, "out of stock", product_id=product_id,
                                requested=quantity, available=row[0])
            cur.execute("UPDATE products SET stock = stock - %s WHERE id = %s", (quantity, product_id))
            cur.execute("INSERT INTO orders (product_id, quantity) VALUES (%s, %s) RETURNING id",
                        (product_id, quantity))
            order_id = cur.fetchone()[0]
        self.redis.delete(CACHE_KEY)  # the cached list shows stock
        return 201, {"order_id": order_id, "product_id": product_id, "quantity": quantity,
                     "stock_left": row[0] - quantity}


ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in [
    ("GET", r"/health", "health"),
    ("GET", r"/products", "list_products"),
    ("POST", r"/products", "create_product"),
    ("GET", r"/products/(\d{1,9})", "get_product"),
    ("GET", r"/products/(\d{1,9})/price", "price"),
    ("POST", r"/orders", "create_order"),
]]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                log(f"TLS handshake failed: {e}")
                raise
        super().setup()

    def version_string(self):
        return "shop/1.0"  # the default names the Python version, which differs across machines

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # unrouted methods get a JSON 405

    def dispatch(self):
        self.started = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        methods = []
        for method, pattern, name in ROUTES:
            match = pattern.fullmatch(url.path)
            if match:
                methods.append(method)
                if method == self.command:
                    break
        else:
            if methods:
                return self.reply(405, {"error": "method not allowed", "allowed": methods})
            return self.reply(404, {"error": "no such endpoint", "path": url.path})
        try:
            body = self.read_json() if self.command == "POST" else {}
            result = getattr(self.server.shop, name)(match, urllib.parse.parse_qs(url.query), body)
        except HttpError as e:
            result = (e.status, e.body)
        except (psycopg2.Error, redis.RedisError) as e:
            log(f"{self.command} {self.path}: dependency failed: {type(e).__name__}: {e}")
            result = (503, {"error": "a dependency failed", "kind": type(e).__name__})
        self.reply(*result)

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError as e:
            raise HttpError(400, "body is not valid JSON") from e
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object")
        return body

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code="-", size="-"):
        ms = (time.monotonic() - getattr(self, "started", time.monotonic())) * 1000
        log(f"{self.command} {self.path} {code} {ms:.1f}ms")

    def log_message(self, fmt, *args):
        log(fmt % args)


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops connections from a burst of clients


def require_env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"shop: {name} is not set (see examples/shop/README.md)")
    return value


def main():
    host = os.environ.get("SHOP_HOST", "127.0.0.1")
    port = int(os.environ.get("SHOP_PORT", "8080"))
    database_url = require_env("DATABASE_URL")
    try:
        shop = Shop(database_url, require_env("REDIS_URL"), require_env("RATES_URL"))
        shop.init_schema()
    except psycopg2.Error as e:
        sys.exit(f"shop: PostgreSQL at {database_url}: {str(e).strip()}")
    server = Server((host, port), Handler)
    server.shop = shop
    scheme = "http"
    if os.environ.get("SHOP_TLS_CERT"):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(os.environ["SHOP_TLS_CERT"], require_env("SHOP_TLS_KEY"))
        # The handshake runs in the request's thread, not in accept() on the serving thread.
        server.socket = tls.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
        scheme = "https"

    def stop(signum, _frame):
        log(f"{signal.Signals(signum).name}: stopping")
        # shutdown() waits for serve_forever() to return, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"listening on {scheme}://{host}:{server.server_address[1]}"
        f" (variant: {VARIANT or 'normal'})")
    server.serve_forever()
    server.server_close()
    shop.close()
    log("stopped")


if __name__ == "__main__":
    main()
