#!/usr/bin/env python3
"""A registry that refuses service, for build/bench/refusal-bench.sh: /v2/ answers 200; every other request either gets
Docker Hub's answer once its pull limit is used up (MODE 429: HTTP 429, RateLimit-Limit 100;w=21600, RateLimit-Remaining
0;w=21600, its TOOMANYREQUESTS body, no Retry-After) or 503 Service Unavailable (MODE 503). Counts what it answered into
COUNTS (JSON, rewritten every second).

Usage: refusal-server.py PORT COUNTS [429|503]
"""
import http.server, sys, threading, json
counts = {"refused": 0, "ping": 0}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self):
        if self.path.rstrip("/") == "/v2":
            with lock: counts["ping"] += 1
            self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers(); return
        with lock: counts["refused"] += 1
        if MODE == "503":
            self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers(); return
        body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit"}]}).encode()
        self.send_response(429)
        self.send_header("Content-Type", "application/json")
        self.send_header("RateLimit-Limit", "100;w=21600")
        self.send_header("RateLimit-Remaining", "0;w=21600")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    do_GET = answer
    do_HEAD = answer
port = int(sys.argv[1]); out = sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else "429"
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
def dump():
    while True:
        threading.Event().wait(1)
        with lock: open(out, "w").write(json.dumps(counts))
threading.Thread(target=dump, daemon=True).start()
srv.serve_forever()
