#!/usr/bin/env python3
"""The HTTP API of a real orcad, driven by Python's standard library.

Usage: api_test.py ORCAD EXAMPLES_DIR

Each test starts orcad on free ports of 127.0.0.1 and a fresh data
directory, and talks to it over real sockets: keep-alive, pipelined
requests, garbage, bodies over the limit, tokens, and a stream reader that
stops reading.
"""

import http.client
import http.server
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ORCAD = None
EXAMPLES = None
FLOW = "Order to invoice"
FLOW_PATH = "/v1/flows/Order%20to%20invoice"
NOTIFY = {"providers": {"notify": {"kind": "simulated"}}}


class Node:
    """orcad on free ports, its log on a pipe."""

    def __init__(self, config=None, extra=(), http="127.0.0.1:0", data=None):
        self.dir = tempfile.TemporaryDirectory(prefix="orca-http-")
        args = [ORCAD, "--data", data or os.path.join(self.dir.name, "data"),
                "--listen", "127.0.0.1:0", "--http", http]
        if config is not None:
            path = os.path.join(self.dir.name, "node.json")
            with open(path, "w") as f:
                json.dump(config, f)
            args += ["--config", path]
        args += list(extra)
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        self.log = []
        self.http = None
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"http api on (\S+)", line)
            if m:
                self.http = m.group(1)
            if "listening on" in line:
                break
        if self.http is None:
            self.stop()
            raise RuntimeError("orcad did not start: " + "".join(self.log))
        # The rest of the log is read as it comes, so that orcad never
        # blocks on a full pipe.
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()
        self.host, port = self.http.rsplit(":", 1)
        self.port = int(port)

    def _read_log(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def conn(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=20)

    def call(self, method, path, body=None, headers=None, conn=None):
        """(status, headers, body bytes) of one request."""
        c = conn or self.conn()
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, dict(r.getheaders()), data

    def json(self, method, path, body=None, headers=None, conn=None):
        status, _, data = self.call(method, path, body, headers, conn)
        return status, json.loads(data) if data else None

    def publish_example(self, headers=None):
        with open(os.path.join(EXAMPLES, "order-to-invoice.json")) as f:
            flow = f.read()
        status, _ = self.json("POST", "/v1/flows", flow, headers)
        assert status == 201, status
        status, _ = self.json("POST", FLOW_PATH + "/publish", None, headers)
        assert status == 200, status

    def kill(self):
        """SIGKILL: no chance to finish anything."""
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "reader", None):
            self.reader.join(timeout=5)
        self.proc.stderr.close()
        self.dir.cleanup()
        return self.proc.returncode


def make_certificates(directory, name, san, ca="ca"):
    """CA.pem and CA.key (made once per CA name), and NAME.pem and NAME.key
    signed by it for the subjectAltName SAN, in DIRECTORY."""
    script = ""
    if not os.path.exists(os.path.join(directory, ca + ".pem")):
        script += (f"openssl req -x509 -newkey rsa:2048 -nodes "
                   f"-keyout {ca}.key -out {ca}.pem -days 1 "
                   f"-subj /CN=orca-test-{ca} && ")
    script += (
        f"openssl req -newkey rsa:2048 -nodes -keyout {name}.key "
        f"-out {name}.csr -subj /CN={name} && "
        f"printf 'subjectAltName={san}\\n' > {name}.ext && "
        f"openssl x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key "
        f"-CAcreateserial -out {name}.pem -days 1 -extfile {name}.ext")
    subprocess.run(script, shell=True, cwd=directory, check=True,
                   capture_output=True)


def example_orders():
    with open(os.path.join(EXAMPLES, "orders.jsonl")) as f:
        return [line for line in f.read().splitlines() if line.strip()]


def order_with_id(order_id):
    o = json.loads(example_orders()[0])
    o["id"] = order_id
    return json.dumps(o)


class ApiTest(unittest.TestCase):
    def setUp(self):
        self.node = Node(NOTIFY)
        self.addCleanup(self.node.stop)

    def test_every_operation_over_one_keep_alive_connection(self):
        n = self.node
        c = n.conn()
        with open(os.path.join(EXAMPLES, "order-to-invoice.json")) as f:
            flow = f.read()
        self.assertEqual(n.json("POST", "/v1/flows", flow, conn=c)[0], 201)
        first = c.sock
        status, body = n.json("POST", FLOW_PATH + "/publish", conn=c)
        self.assertEqual((status, body["status"]), (200, "Published"))
        status, body = n.json("GET", "/v1/flows", conn=c)
        self.assertEqual([f["name"] for f in body["flows"]], [FLOW])
        status, body = n.json("GET", FLOW_PATH, conn=c)
        self.assertEqual((status, body["version"]), (200, 1))
        status, headers, dot = n.call("GET", FLOW_PATH + "/diagram", conn=c)
        self.assertEqual(status, 200)
        self.assertTrue(dot.startswith(b"digraph"))
        status, headers, svg = n.call(
            "GET", FLOW_PATH + "/diagram?format=svg", conn=c)
        self.assertEqual((status, headers["Content-Type"]),
                         (200, "image/svg+xml"))
        self.assertIn(b"<svg", svg)
        self.assertIn(b">Check header<", svg)
        status, body = n.json("GET", FLOW_PATH + "/diagram?format=png",
                              conn=c)
        self.assertEqual((status, body["error"]),
                         (400, 'format: dot, mermaid or svg, not "png"'))
        # The example orders as JSON Lines: one answer per order, in order.
        lines = "\n".join(example_orders()) + "\n"
        status, headers, data = n.call(
            "POST", "/v1/orders", lines,
            {"Content-Type": "application/x-ndjson"}, conn=c)
        answers = [json.loads(l) for l in data.decode().splitlines()]
        ids = [json.loads(o)["id"] for o in example_orders()]
        self.assertEqual([a["order_id"] for a in answers], ids)
        rejected = [a for a in answers if a["status"] == "rejected"]
        self.assertEqual(status, 400 if rejected else 202)
        self.assertEqual(headers["Content-Type"], "application/x-ndjson")
        accepted = [a["order_id"] for a in answers
                    if a["status"] == "accepted"]
        # The same order again is a duplicate, not a second order.
        status, body = n.json("POST", "/v1/orders",
                              example_orders()[0], conn=c)
        self.assertEqual((status, body["status"]), (202, "duplicate"))
        for order_id in accepted:
            status, body = n.json("POST", f"/v1/orders/{order_id}/events",
                                  {"type": "fulfillment_shipped"}, conn=c)
            self.assertEqual(status, 202)
        # Each journey goes on to its end (or a wait of its own).
        deadline = time.time() + 20
        while time.time() < deadline:
            status, body = n.json("GET", "/v1/journeys?state=running", conn=c)
            if not body["journeys"]:
                break
            time.sleep(0.05)
        self.assertEqual(body["journeys"], [])
        self.assertEqual(accepted[0], "SO-1001")
        status, body = n.json("GET", "/v1/journeys?state=completed", conn=c)
        self.assertIn("SO-1001", [j["order_id"] for j in body["journeys"]])
        status, body = n.json("GET", f"/v1/orders/{accepted[0]}/journeys",
                              conn=c)
        self.assertEqual(body["journeys"][0]["state"], "completed")
        self.assertTrue(body["journeys"][0]["timeline"])
        status, body = n.json(
            "POST", f"/v1/orders/{accepted[0]}/journeys/"
            "Order%20to%20invoice/replay", conn=c)
        self.assertEqual((status, body["diverges"]), (200, False))
        status, body = n.json(
            "POST", f"/v1/orders/{accepted[0]}/journeys/"
            "Order%20to%20invoice/redrive", conn=c)
        self.assertEqual(status, 409)  # only a failed journey is redriven
        self.assertIn("error", body)
        status, body = n.json("POST", FLOW_PATH + "/pause", conn=c)
        self.assertEqual((status, body["paused"]), (200, True))
        status, body = n.json("POST", FLOW_PATH + "/resume", conn=c)
        self.assertEqual((status, body["paused"]), (200, False))
        status, body = n.json("GET", "/v1/node", conn=c)
        self.assertEqual((status, body["published"]), (200, 1))
        status, body = n.json("GET", "/v1/providers", conn=c)
        self.assertIn("notify", [p["id"] for p in body["providers"]])
        # The metrics, in a text promtool accepts.
        status, headers, text = n.call("GET", "/metrics", conn=c)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        text = text.decode()
        for name in ['orca_orders_total{status="accepted"}',
                     'orca_orders_total{status="duplicate"} 1',
                     'orca_journeys_ended_total{flow="Order to invoice",'
                     'state="completed"}',
                     'orca_steps_total{flow="Order to invoice",'
                     'kind="validate_order_header",outcome="succeeded"}',
                     'orca_provider_call_seconds_bucket{provider="billing",'
                     'result="ok"',
                     "orca_commit_seconds_count", "orca_commit_requests_sum",
                     "orca_orders_in_flight", 'orca_journeys{where="store"}']:
            self.assertIn(name, text)
        check = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        # Every answer came over the one connection.
        self.assertIs(c.sock, first)
        c.close()

    def test_pipelined_requests_are_answered_in_order(self):
        s = socket.create_connection((self.node.host, self.node.port))
        s.sendall(b"GET /v1/flows HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        statuses = re.findall(rb"HTTP/1.1 (\d{3})", data)
        self.assertEqual(statuses, [b"200", b"404", b"200"])

    def test_garbage_and_oversized_bodies_are_refused_and_the_node_goes_on(
            self):
        n = self.node
        s = socket.create_connection((n.host, n.port))
        s.sendall(b"\x00\x01 this is not HTTP\r\n\r\n")
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 400"))
        s.close()
        # A body larger than wire_bytes (64 KiB here) is refused before it
        # is read: the node answers once the headers say how large it is.
        small = Node({**NOTIFY, "limits": {"wire_bytes": 65536}})
        self.addCleanup(small.stop)
        s = socket.create_connection((small.host, small.port))
        s.sendall(b"POST /v1/orders HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 10000000\r\n\r\n" + b"x" * 100000)
        answer = s.recv(4096)
        s.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer)
        self.assertIn(b"wire_bytes", answer)
        # Bad JSON bodies name what is wrong.
        status, body = n.json("POST", "/v1/flows", "{not json")
        self.assertEqual(status, 400)
        self.assertIn("request body", body["error"])
        status, body = n.json("POST", "/v1/orders/X/events", "[]")
        self.assertEqual(status, 400)
        self.assertTrue(body["error"].startswith("type: "))
        # An over-long event type is over a limit.
        n.publish_example()
        self.assertEqual(n.json("POST", "/v1/orders",
                                order_with_id("E-1"))[0], 202)
        status, body = n.json("POST", "/v1/orders/E-1/events",
                              {"type": "x" * 300})
        self.assertEqual(status, 413)
        # Bodies nested 200,000 deep are refused at the limit's depth.
        deep = "[" * 200000 + "]" * 200000
        status, body = n.json("POST", "/v1/orders/E-1/events", deep)
        self.assertEqual(status, 413)
        self.assertIn("deeper than the limit of 64 levels", body["error"])
        status, body = n.json("PUT", FLOW_PATH,
                              '{"name": "Order to invoice", "x": ' + deep
                              + "}")
        self.assertEqual(status, 413)
        self.assertIn("deeper than the limit of 64 levels", body["error"])
        self.assertEqual(n.json("GET", "/healthz"), (200, {"status": "ok"}))

    def test_the_stream_sends_each_committed_change(self):
        n = self.node
        n.publish_example()
        c = n.conn()
        c.request("GET", "/v1/stream?terminal=true")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
        self.assertEqual(n.json("POST", "/v1/orders",
                                order_with_id("S-1"))[0], 202)
        self.assertEqual(n.json("POST", "/v1/orders/S-1/events",
                                {"type": "fulfillment_shipped"})[0], 202)
        event = None
        data = None
        deadline = time.time() + 20
        while time.time() < deadline:
            line = r.fp.readline().decode()
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                break
        self.assertEqual(event, "journey")
        self.assertEqual((data["order_id"], data["state"]),
                         ("S-1", "completed"))
        c.close()

    def test_a_stream_reader_that_stops_reading_is_cut_off(self):
        n = self.node
        n.publish_example()
        s = socket.create_connection((n.host, n.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        # It reads nothing while the node commits thousands of changes.
        batch = "\n".join(order_with_id(f"C-{i}") for i in range(3000))
        status, _, _ = n.call("POST", "/v1/orders", batch,
                              {"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 202)
        # The node goes on answering, quickly, while the reader stalls.
        started = time.time()
        self.assertEqual(n.json("GET", "/healthz")[0], 200)
        self.assertLess(time.time() - started, 2)
        # ... and cuts the reader off: its connection is reset.
        deadline = time.time() + 30
        while time.time() < deadline:
            self.assertEqual(n.call("POST", "/v1/orders", "\n".join(
                order_with_id(f"D-{i}-{time.time()}") for i in range(200)),
                {"Content-Type": "application/x-ndjson"})[0], 202)
            if any("cut off" in l for l in list(n.log)):
                break
        self.assertTrue(any("cut off" in l for l in list(n.log)))
        s.settimeout(10)
        with self.assertRaises(ConnectionResetError):
            while s.recv(1 << 20):
                pass
        s.close()
        self.assertEqual(n.json("GET", "/healthz")[0], 200)


class TokenTest(unittest.TestCase):
    def test_tokens_and_roles(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        tokens = os.path.join(d.name, "tokens.json")
        with open(tokens, "w") as f:
            json.dump({"tokens": [
                {"token": "reader-token-0123456789", "role": "reader",
                 "name": "dashboard"},
                {"token": "admin-token-0123456789", "role": "admin",
                 "name": "ops"}]}, f)
        n = Node(NOTIFY, ["--tokens", tokens])
        self.addCleanup(n.stop)
        status, headers, _ = n.call("GET", "/v1/flows")
        self.assertEqual(status, 401)
        self.assertEqual(headers["WWW-Authenticate"], "Bearer")
        bearer = lambda t: {"Authorization": "Bearer " + t}
        self.assertEqual(n.call("GET", "/v1/flows",
                                headers=bearer("wrong-token-01234567"))[0],
                         401)
        self.assertEqual(n.call("GET", "/v1/flows",
                                headers=bearer("reader-token-0123456789"))[0],
                         200)
        status, body = n.json("POST", "/v1/flows", "{}",
                              bearer("reader-token-0123456789"))
        self.assertEqual(status, 403)
        self.assertIn("needs admin", body["error"])
        n.publish_example(bearer("admin-token-0123456789"))
        # Open to all: health, readiness, the API's description.
        self.assertEqual(n.call("GET", "/healthz")[0], 200)
        self.assertEqual(n.call("GET", "/readyz")[0], 200)
        status, _, doc = n.call("GET", "/v1/openapi.json")
        self.assertEqual((status, json.loads(doc)["openapi"]), (200, "3.0.3"))
        # The stream needs a token too.
        self.assertEqual(n.call("GET", "/v1/stream")[0], 401)

    def test_https_with_the_nodes_certificate(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        make_certificates(d.name, "node", "IP:127.0.0.1")
        tokens = os.path.join(d.name, "tokens.json")
        with open(tokens, "w") as f:
            json.dump({"tokens": [{"token": "reader-token-0123456789",
                                   "role": "reader"}]}, f)
        f = lambda name: os.path.join(d.name, name)
        n = Node(NOTIFY, ["--tokens", tokens, "--tls-cert", f("node.pem"),
                          "--tls-key", f("node.key"), "--tls-ca",
                          f("ca.pem")])
        self.addCleanup(n.stop)
        self.assertTrue(any("(TLS)" in l for l in n.log if "http api" in l))
        ctx = ssl.create_default_context(cafile=f("ca.pem"))
        c = http.client.HTTPSConnection(n.host, n.port, context=ctx,
                                        timeout=20)
        c.request("GET", "/v1/flows",
                  headers={"Authorization": "Bearer reader-token-0123456789"})
        r = c.getresponse()
        self.assertEqual((r.status, json.loads(r.read())), (200, {"flows": []}))
        c.close()
        # Plain HTTP on the TLS port gets nothing.
        with self.assertRaises((http.client.HTTPException, OSError)):
            n.call("GET", "/healthz")

    def test_beyond_loopback_needs_tokens_and_tls(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        r = subprocess.run(
            [ORCAD, "--data", os.path.join(d.name, "data"), "--listen",
             "127.0.0.1:0", "--http", "0.0.0.0:0"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("serving HTTP beyond loopback requires a tokens file "
                      "(--tokens) and TLS", r.stderr)
        tokens = os.path.join(d.name, "tokens.json")
        with open(tokens, "w") as f:
            f.write('{"tokens": [{"token": "short", "role": "admin"}]}')
        r = subprocess.run(
            [ORCAD, "--data", os.path.join(d.name, "data"), "--listen",
             "127.0.0.1:0", "--http", "127.0.0.1:0", "--tokens", tokens],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 3)
        self.assertIn("tokens[0].token", r.stderr)


class TlsBilling:
    """A billing provider serving https on 127.0.0.1 with the certificate
    NAME.pem: it answers each request with an invoice id and records the
    server name each TLS client asked for (SNI) and each request."""

    def __init__(self, cert_path):
        self.server_names = []
        self.requests = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path + ".pem", cert_path + ".key")
        context.sni_callback = (
            lambda sock, name, ctx: self.server_names.append(name))
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                request = json.loads(self.rfile.read(length))
                outer.requests.append((self.headers["Host"],
                                       self.headers["Authorization"],
                                       request))
                body = json.dumps(
                    {"invoice_id": "INV-TLS-" + request["order"]["id"]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, address):
                pass  # a client that refused the certificate

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket,
                                                server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class HttpsProviderTest(unittest.TestCase):
    """The http provider calling an https server through a real orcad."""

    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        self.dir = d.name
        make_certificates(d.name, "billing", "DNS:localhost")
        make_certificates(d.name, "unused", "DNS:localhost", ca="other")
        self.billing = TlsBilling(os.path.join(d.name, "billing"))
        self.addCleanup(self.billing.close)
        os.environ["ORCA_TEST_BILLING_TOKEN"] = "Bearer billing-secret"

    def journey_with(self, url, ca):
        """The journey of SO-1001, billed through URL with the CA file CA,
        once it has ended."""
        config = {"providers": {
            "notify": {"kind": "simulated"},
            "billing": {"kind": "http", "url": url, "timeout_ms": 5000,
                        "ca_file": os.path.join(self.dir, ca + ".pem"),
                        "headers": {"Authorization":
                                    {"env": "ORCA_TEST_BILLING_TOKEN"}}}}}
        n = Node(config)
        self.addCleanup(n.stop)
        n.publish_example()
        status, body = n.json("POST", "/v1/orders", order_with_id("SO-1001"))
        self.assertEqual((status, body["status"]), (202, "accepted"))
        status, _ = n.json("POST", "/v1/orders/SO-1001/events",
                           {"type": "fulfillment_shipped"})
        self.assertEqual(status, 202)
        deadline = time.time() + 30
        while time.time() < deadline:
            status, body = n.json("GET", "/v1/orders/SO-1001/journeys")
            journey = body["journeys"][0]
            if journey["state"] in ("completed", "failed"):
                return journey
            time.sleep(0.05)
        self.fail("the journey did not end: " + json.dumps(body))

    def billing_error(self, journey):
        return [s["error"] for s in journey["steps"]
                if s.get("action") == "send_to_invoice"][0]

    def test_a_provider_over_https_names_the_host_and_checks_its_ca(self):
        port = self.billing.port
        journey = self.journey_with(f"https://localhost:{port}/bill", "ca")
        self.assertEqual((journey["state"], journey["invoice_id"]),
                         ("completed", "INV-TLS-SO-1001"))
        self.assertEqual(self.billing.server_names, ["localhost"])
        host, authorization, request = self.billing.requests[0]
        self.assertEqual(host, f"localhost:{port}")
        self.assertEqual(authorization, "Bearer billing-secret")
        self.assertEqual((request["action"], request["order"]["id"]),
                         ("send_to_invoice", "SO-1001"))

    def test_a_certificate_from_another_ca_fails_the_call(self):
        port = self.billing.port
        journey = self.journey_with(f"https://localhost:{port}/bill", "other")
        self.assertEqual(journey["state"], "failed")
        error = self.billing_error(journey)
        self.assertIn(f"https://localhost:{port}/bill: the TLS handshake "
                      "failed: certificate verify failed", error)
        self.assertEqual(self.billing.requests, [])

    def test_a_certificate_for_another_host_fails_the_call(self):
        # The certificate is for "localhost", not for the address.
        port = self.billing.port
        journey = self.journey_with(f"https://127.0.0.1:{port}/bill", "ca")
        self.assertEqual(journey["state"], "failed")
        self.assertIn("the TLS handshake failed: certificate verify failed",
                      self.billing_error(journey))
        self.assertEqual(self.billing.requests, [])


class IntakeTest(unittest.TestCase):
    """Shops' webhooks through the example sources of a real orcad."""

    SHOPIFY_SECRET = "shopify-test-secret"
    WOO_SECRET = "woocommerce-test-secret"

    def setUp(self):
        os.environ["SHOPIFY_SECRET"] = self.SHOPIFY_SECRET
        os.environ["WOOCOMMERCE_SECRET"] = self.WOO_SECRET
        self.sources = os.path.join(EXAMPLES, "sources")
        self.node = Node(extra=["--config",
                                os.path.join(self.sources, "node.json")])
        self.addCleanup(self.node.stop)
        self.node.publish_example()

    def payload(self, name):
        with open(os.path.join(self.sources, name), "rb") as f:
            return f.read()

    @staticmethod
    def sign(secret, body):
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def post(self, source, body, headers):
        status, _, data = self.node.call("POST", "/v1/intake/" + source, body,
                                         headers)
        return status, json.loads(data)

    def shopify(self, body, topic="orders/create", signature=None):
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256":
                   signature or self.sign(self.SHOPIFY_SECRET, body)}
        return self.post("shopify", body, headers)

    def woocommerce(self, body, topic="order.created"):
        return self.post("woocommerce", body, {
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Signature": self.sign(self.WOO_SECRET, body)})

    def journey(self, order_id, states):
        deadline = time.time() + 20
        while time.time() < deadline:
            status, body = self.node.json(
                "GET", f"/v1/orders/{order_id}/journeys")
            if status == 200 and body["journeys"][0]["state"] in states:
                return body["journeys"][0]
            time.sleep(0.05)
        self.fail(f"{order_id}: no journey in {states}: {body}")

    def test_a_signed_shopify_order_runs_once_and_its_topics_are_events(self):
        body = self.payload("shopify-order.json")
        status, answer = self.shopify(body)
        self.assertEqual((status, answer["order_id"], answer["status"]),
                         (202, "shopify-5527336902762", "accepted"))
        # Delivered twice, it is one order.
        status, answer = self.shopify(body)
        self.assertEqual((status, answer["status"]), (202, "duplicate"))
        journey = self.journey("shopify-5527336902762", ["waiting"])
        self.assertEqual(journey["flow"], FLOW)
        # The fulfilled topic is the event the flow waits for.
        status, answer = self.shopify(body, topic="orders/fulfilled")
        self.assertEqual((status, answer), (202, {
            "order_id": "shopify-5527336902762",
            "event": "fulfillment_shipped"}))
        journey = self.journey("shopify-5527336902762", ["completed"])
        self.assertEqual(journey["invoice_id"], "INV-shopify-5527336902762")
        sources = [fo["source"] for fo in journey["fulfillment_orders"]]
        self.assertEqual(sources, ["WH-SEA"])  # the lines' region is US

    def test_a_woocommerce_order_and_its_deletion(self):
        body = self.payload("woocommerce-order.json")
        status, answer = self.woocommerce(body)
        self.assertEqual((status, answer["order_id"], answer["status"]),
                         (202, "woocommerce-727", "accepted"))
        journey = self.journey("woocommerce-727", ["waiting"])
        sources = [fo["source"] for fo in journey["fulfillment_orders"]]
        self.assertEqual(sources, ["WH-AMS"])  # shipped to Germany: EU
        # WooCommerce sends a deleted resource's id only.
        status, answer = self.woocommerce(b'{"id": 727}',
                                          topic="order.deleted")
        self.assertEqual((status, answer), (202, {
            "order_id": "woocommerce-727", "event": "cancel_order"}))
        self.journey("woocommerce-727", ["cancelled"])

    def test_wrong_signatures_and_unmappable_payloads_store_nothing(self):
        body = self.payload("shopify-order.json")
        status, answer = self.shopify(
            body, signature=self.sign("not-the-secret", body))
        self.assertEqual(status, 401)
        self.assertIn("does not match the body", answer["error"])
        status, answer = self.post("shopify", body, {})
        self.assertEqual(status, 401)
        self.assertIn('"X-Shopify-Hmac-Sha256" is missing', answer["error"])
        # The right signature of other bytes: the body was changed.
        changed = body.replace(b'"quantity": 2', b'"quantity": 20')
        status, _ = self.shopify(changed,
                                 signature=self.sign(self.SHOPIFY_SECRET,
                                                     body))
        self.assertEqual(status, 401)
        # Hex with a sha256= prefix is accepted too (WooCommerce's own
        # header is base64; Shopify's as well): here the base64 source
        # refuses a hex one.
        hexsig = "sha256=" + hmac.new(self.SHOPIFY_SECRET.encode(), body,
                                      hashlib.sha256).hexdigest()
        self.assertEqual(self.shopify(body, signature=hexsig)[0], 401)
        # A payload the transform cannot map: jq's message, nothing kept.
        bad = json.dumps({"id": 1, "line_items": 7}).encode()
        status, answer = self.shopify(bad)
        self.assertEqual(status, 400)
        self.assertIn("shopify.jq: Cannot iterate over number", answer["error"])
        # A mapped order that is not a valid §4 order: named.
        line = {"id": 5, "sku": "A", "quantity": 1, "price": "1.00"}
        twice = json.dumps({"id": 2, "line_items": [line, line]}).encode()
        status, answer = self.shopify(twice)
        self.assertEqual((status, answer["status"]), (400, "rejected"))
        self.assertIn('lines[1].id: duplicate line id "5"', answer["error"])
        not_json = b"{not json"
        status, answer = self.shopify(not_json)
        self.assertEqual(status, 400)
        self.assertIn("the payload: line 1, column 2", answer["error"])
        for order_id in ["shopify-5527336902762", "shopify-1", "shopify-2"]:
            status, _ = self.node.json("GET",
                                       f"/v1/orders/{order_id}/journeys")
            self.assertEqual(status, 404, order_id)
        # An event for an order the node never took; a source not
        # configured.
        status, _ = self.shopify(body, topic="orders/cancelled")
        self.assertEqual(status, 404)
        status, answer = self.post("magento", b"{}", {})
        self.assertEqual(status, 404)
        self.assertIn('no source "magento"', answer["error"])
        # Nested deeper than the limit: 413 before jq sees it.
        deep = (b"[" * 100) + (b"]" * 100)
        status, answer = self.shopify(deep)
        self.assertEqual(status, 413)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """A hook receiver on 127.0.0.1: records every delivery it reads (its
    body and signature header) and answers 200, or 500 while `failing`
    is above zero (counting down) and to every `fail_every`th request,
    after `delay` seconds."""

    def __init__(self, port=0, failing=0, delay=0.0, answer=b"",
                 hang_up=False, fail_every=0):
        self.lock = threading.Lock()
        self.got = []  # (delivery as parsed, raw body, signature header)
        self.failing = failing
        self.fail_every = fail_every
        self.requests = 0
        self.delay = delay
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # Keep-alive: the node's senders keep their connections.
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(outer.delay)
                with outer.lock:
                    outer.requests += 1
                    fail = outer.failing > 0 or (
                        outer.fail_every > 0
                        and outer.requests % outer.fail_every == 0)
                    if outer.failing > 0:
                        outer.failing -= 1
                    if not fail:
                        outer.got.append((json.loads(body), body,
                                          self.headers["X-Orca-Signature"]))
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                # Keep-alive said, then the connection closed anyway.
                self.close_connection = hang_up

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                                     Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/orca"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def deliveries(self):
        with self.lock:
            return list(self.got)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.socket.close()


ALL_KINDS = ["step_started", "step_ended", "journey_state", "journey_ended"]


class HooksTest(unittest.TestCase):
    """Hooks of a real orcad delivering to real receivers."""

    def setUp(self):
        os.environ["ORCA_TEST_HOOK_SECRET"] = "hook-secret"

    def node(self, hooks, data=None):
        n = Node({"providers": {"notify": {"kind": "simulated"}},
                  "hooks": hooks}, data=data)
        self.addCleanup(n.stop)
        return n

    def run_orders(self, n, count, prefix="H-"):
        """Publishes the example (if not yet) and runs COUNT orders to
        their end, their shipping events included."""
        if n.json("GET", FLOW_PATH)[0] != 200:
            n.publish_example()
        ids = [f"{prefix}{i}" for i in range(count)]
        body = "\n".join(order_with_id(i) for i in ids) + "\n"
        status, _, _ = n.call("POST", "/v1/orders", body,
                              {"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 202)
        for i in ids:
            self.wait_for(lambda: n.json("GET", f"/v1/orders/{i}/journeys")[1]
                          ["journeys"][0]["state"] == "waiting")
            status, _ = n.json("POST", f"/v1/orders/{i}/events",
                               {"type": "fulfillment_shipped"})
            self.assertEqual(status, 202)
        return ids

    def wait_for(self, done, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if done():
                return
            time.sleep(0.05)
        self.fail("timed out")

    @staticmethod
    def ended(r):
        """The orders whose journey_ended the receiver has: a journey's
        deliveries go in order, so all of theirs are in."""
        return {d["journey"]["order_id"] for d, _, _ in r.deliveries()
                if d["kind"] == "journey_ended"}

    def hook(self, n, name):
        return [h for h in n.json("GET", "/v1/hooks")[1]["hooks"]
                if h["name"] == name][0]

    def check_complete_and_in_order(self, deliveries, ids):
        """Every journey of IDS told of its end, each journey's deliveries
        first seen in the order they were made, and a delivery seen twice
        the same both times."""
        first = {}
        seen_order = {}
        for d, body, _ in deliveries:
            if d["delivery_id"] in first:
                self.assertEqual(first[d["delivery_id"]], body)
                continue
            first[d["delivery_id"]] = body
            seq = int(d["delivery_id"].rsplit("-", 1)[1])
            seen_order.setdefault(d["journey"]["order_id"], []).append(
                (seq, d["kind"]))
        for i in ids:
            self.assertIn(i, seen_order)
            seqs = [s for s, _ in seen_order[i]]
            self.assertEqual(seqs, sorted(seqs), i)
            kinds = [k for _, k in seen_order[i]]
            self.assertEqual(kinds[-1], "journey_ended", i)
            self.assertEqual(kinds.count("journey_ended"), 1, i)
            # Every step that started ended.
            self.assertEqual(kinds.count("step_started"),
                             kinds.count("step_ended") - 1, i)  # a skipped
        return first

    def test_every_change_is_delivered_signed_and_in_order(self):
        r = Receiver()
        self.addCleanup(r.close)
        n = self.node({"ops": {"url": r.url, "on": ALL_KINDS,
                               "flows": [FLOW],
                               "secret_env": "ORCA_TEST_HOOK_SECRET"},
                       "ends": {"url": r.url, "on": ["journey_ended"],
                                "flows": ["Another flow"]}})
        ids = self.run_orders(n, 5)
        self.wait_for(lambda: sum(d["kind"] == "journey_ended"
                                  for d, _, _ in r.deliveries()) == 5)
        self.wait_for(lambda: self.hook(n, "ops")["backlog"] == 0)
        deliveries = r.deliveries()
        first = self.check_complete_and_in_order(deliveries, ids)
        for d, body, signature in deliveries:
            self.assertEqual(d["hook"], "ops")  # "ends" is for another flow
            expected = hmac.new(b"hook-secret", body,
                                hashlib.sha256).hexdigest()
            self.assertEqual(signature, "sha256=" + expected)
            self.assertRegex(d["at"],
                             r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            if d["kind"].startswith("step_"):
                step = d["step"]
                self.assertIn("name", step)
                self.assertIn("path", step)
                self.assertTrue("action" in step or "element" in step)
                if d["kind"] == "step_ended":
                    self.assertIn(step["outcome"],
                                  ["succeeded", "failed", "skipped"])
                    self.assertIn("attempts", step)
                    self.assertIn("error_code", step)
            else:
                self.assertNotIn("step", d)
        ended = [d for d, _, _ in deliveries if d["kind"] == "journey_ended"]
        self.assertEqual({d["journey"]["state"] for d in ended},
                         {"completed"})
        self.assertEqual(ended[0]["journey"]["invoice_id"],
                         "INV-" + ended[0]["journey"]["order_id"])
        ops = self.hook(n, "ops")
        self.assertEqual((ops["url"], ops["backlog"], ops["delivered"],
                          ops["failed_attempts"], ops["last_error"]),
                         (r.url, 0, len(first), 0, None))
        # orcactl says the same over the node's CAF port.
        address = [re.search(r"listening on (\S+)", l).group(1)
                   for l in n.log if "listening on" in l][0]
        out = subprocess.run(
            [os.path.join(os.path.dirname(ORCAD), "orcactl"), "--node",
             address, "hook", "list"], capture_output=True, text=True,
            timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, rf"ops +{re.escape(r.url)} +0 +"
                                     rf"{len(first)} +0 +-")
        text = n.call("GET", "/metrics")[2].decode()
        self.assertIn('orca_hook_backlog{hook="ops"} 0', text)
        self.assertIn(f'orca_hook_attempts_total{{hook="ops",result='
                      f'"delivered"}} {len(first)}', text)

    def test_a_receiver_down_for_a_while_then_up_gets_everything(self):
        port = free_port()
        n = self.node({"ops": {"url": f"http://127.0.0.1:{port}/orca",
                               "on": ALL_KINDS}})
        ids = self.run_orders(n, 4)
        self.wait_for(lambda: self.hook(n, "ops")["failed_attempts"] >= 4)
        down = self.hook(n, "ops")
        self.assertGreater(down["backlog"], 0)
        self.assertEqual(down["delivered"], 0)
        self.assertIn("connecting failed", down["last_error"])
        r = Receiver(port)
        self.addCleanup(r.close)
        self.wait_for(lambda: self.ended(r) == set(ids), 60)
        self.check_complete_and_in_order(r.deliveries(), ids)

    def test_a_receiver_answering_500_is_retried_not_dropped(self):
        r = Receiver(failing=6)
        self.addCleanup(r.close)
        n = self.node({"ops": {"url": r.url, "on": ["journey_ended"]}})
        ids = self.run_orders(n, 3)
        # The receiver records a delivery before it answers; the node
        # counts it once the answer is in.
        self.wait_for(lambda: self.hook(n, "ops")["delivered"] == 3)
        self.assertEqual(sorted(d["journey"]["order_id"]
                                for d, _, _ in r.deliveries()), ids)
        ops = self.hook(n, "ops")
        self.assertEqual((ops["failed_attempts"], ops["delivered"]), (6, 3))
        self.assertIn("HTTP 500", ops["last_error"])

    def test_failures_in_a_burst_keep_each_journeys_order(self):
        # Many journeys at once: their deliveries go back to back on a
        # connection, and every fifth answer is a 500.
        r = Receiver(fail_every=5)
        self.addCleanup(r.close)
        n = self.node({"ops": {"url": r.url, "on": ALL_KINDS}})
        ids = self.run_orders(n, 30)
        self.wait_for(lambda: self.ended(r) == set(ids), 90)
        self.check_complete_and_in_order(r.deliveries(), ids)
        self.wait_for(lambda: self.hook(n, "ops")["backlog"] == 0)
        ops = self.hook(n, "ops")
        self.assertGreater(ops["failed_attempts"], 0)
        self.assertEqual(ops["failed_attempts"] + ops["delivered"],
                         r.requests)

    def test_only_the_status_of_an_answer_counts(self):
        # An answer echoing a large body is still a 2xx.
        r = Receiver(answer=b"x" * 200000)
        self.addCleanup(r.close)
        n = self.node({"ops": {"url": r.url, "on": ["journey_ended"]}})
        self.run_orders(n, 2)
        self.wait_for(lambda: self.hook(n, "ops")["delivered"] == 2)
        self.assertEqual(self.hook(n, "ops")["failed_attempts"], 0)

    def test_a_kept_connection_the_receiver_closed_is_opened_again(self):
        r = Receiver(hang_up=True)
        self.addCleanup(r.close)
        n = self.node({"ops": {"url": r.url, "on": ALL_KINDS}})
        ids = self.run_orders(n, 3)
        self.wait_for(lambda: self.ended(r) == set(ids))
        self.check_complete_and_in_order(r.deliveries(), ids)
        self.assertEqual(self.hook(n, "ops")["failed_attempts"], 0)

    def test_a_dead_receiver_does_not_delay_another_hook(self):
        r = Receiver()
        self.addCleanup(r.close)
        n = self.node({
            "dead": {"url": f"http://127.0.0.1:{free_port()}/x",
                     "on": ALL_KINDS},
            "live": {"url": r.url, "on": ALL_KINDS}})
        ids = self.run_orders(n, 4)
        self.wait_for(lambda: self.ended(r) == set(ids), 10)
        self.check_complete_and_in_order(r.deliveries(), ids)
        self.assertGreater(self.hook(n, "dead")["backlog"], 0)

    def test_a_secret_missing_from_the_environment_stops_orcad(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        config = os.path.join(d.name, "node.json")
        with open(config, "w") as f:
            json.dump({"hooks": {"ops": {"url": "http://127.0.0.1:9/x",
                                         "on": ["journey_ended"],
                                         "secret_env": "ORCA_TEST_NO_SUCH"}}},
                      f)
        os.environ.pop("ORCA_TEST_NO_SUCH", None)
        r = subprocess.run([ORCAD, "--data", os.path.join(d.name, "data"),
                            "--config", config, "--http", "off"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn('hooks."ops".secret_env: the environment variable '
                      '"ORCA_TEST_NO_SUCH" is not set', r.stderr)

    def test_kill_9_in_the_middle_of_deliveries_loses_none(self):
        r = Receiver(delay=0.02)
        self.addCleanup(r.close)
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        data = os.path.join(d.name, "data")
        hooks = {"ops": {"url": r.url, "on": ALL_KINDS}}
        n = self.node(hooks, data=data)
        ids = self.run_orders(n, 8)
        # Killed while deliveries are still going out.
        self.wait_for(lambda: len(r.deliveries()) >= 10)
        backlog = self.hook(n, "ops")["backlog"]
        n.kill()
        self.assertGreater(backlog, 0)
        before = len(r.deliveries())
        n2 = self.node(hooks, data=data)
        self.wait_for(lambda: self.ended(r) == set(ids), 60)
        self.assertGreater(len(r.deliveries()), before)
        self.check_complete_and_in_order(r.deliveries(), ids)


if __name__ == "__main__":
    ORCAD = sys.argv[1]
    EXAMPLES = sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
