"""`python -m benchmarks.otlp_sink PORT`: an OTLP/HTTP receiver that accepts and drops spans.

In its own process, so that what the benchmarked gateway spends on tracing is only its own
(making spans, encoding and sending them), not the receiver's.
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a collector answers

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
