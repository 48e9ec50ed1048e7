"""The seed's serving approach, as the benchmark's baseline: a small HTTP service that
tokenises and runs onnxruntime for each request on its own (no batching across
requests), on 127.0.0.1.

Standard library ``http.server.ThreadingHTTPServer`` (HTTP/1.1 keep-alive, one thread
per connection) rather than FastAPI/uvicorn: it is the leanest per-request path
Python offers (no ASGI, routing or validation layers, no event-loop hop to a thread
pool for the blocking ORT call), so the baseline is as strong as a per-request design
can be and any gap to Triton is the batching, not framework overhead. onnxruntime and
the Rust tokenizer release the GIL, so concurrent requests do run in parallel.

``POST /embed`` with the program as the UTF-8 body answers the 384 float32 values of
its L2-normalised embedding (``application/octet-stream``, 1,536 bytes);
``GET /health`` answers 200 once the model is loaded.

``--windowed-tokenizer`` reads ``--tokenizer`` as an imported model's ``tokenizer.json``
(:class:`~clonedetect.preprocessing.windowed_tokenization.WindowedTokenizer`, what
``clonedetect import-model`` installs) instead of the shipped model's.

``--workers N`` runs N such processes on one port (``SO_REUSEPORT``; the kernel spreads
connections), each with its own model copy, like the seed's N workers.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 1_000_000


def make_handler(tokenizer, encoder):
    from clonedetect.preprocessing.validation import CodeInputError, decode_code

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connection
        # One send per response, sent at once: unbuffered, http.server writes the headers
        # and the body separately, and Nagle + the client's delayed ACK then hold the
        # body back ~40 ms (measured: p50 72-84 ms instead of ~30 ms at concurrency 1).
        wbufsize = -1  # handle_one_request flushes after each response
        disable_nagle_algorithm = True

        def log_message(self, *_args) -> None:  # no per-request logging on the hot path
            pass

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._reply(200, b"ok", "text/plain")
            else:
                self._reply(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            if self.path != "/embed" or length > MAX_BODY:
                self.rfile.read(min(length, MAX_BODY))
                self._reply(404 if self.path != "/embed" else 413, b"bad request", "text/plain")
                return
            body = self.rfile.read(length)
            try:
                code = decode_code(body)
            except CodeInputError as error:
                self._reply(400, str(error).encode(), "text/plain")
                return
            ids = tokenizer.token_ids([code])
            embedding = encoder.embed_sequences(ids)  # this request's program alone, as model.py calls it
            self._reply(200, embedding[0].astype("<f4").tobytes(), "application/octet-stream")

    return Handler


class ReusePortServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def server_bind(self) -> None:
        if hasattr(socket, "SO_REUSEPORT"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


def serve(
    host: str,
    port: int,
    tokenizer_path: Path,
    model_path: Path,
    intra: int,
    inter: int,
    spinning: bool = True,
    windowed_tokenizer: bool = False,
) -> None:
    from clonedetect.load_tests.encoders import make_encoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer
    from clonedetect.preprocessing.windowed_tokenization import WindowedTokenizer

    tokenizer = (WindowedTokenizer if windowed_tokenizer else CodeTokenizer).from_file(tokenizer_path)
    encoder = make_encoder(model_path, intra, inter, spinning=spinning)
    with ReusePortServer((host, port), make_handler(tokenizer, encoder)) as httpd:
        httpd.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokenizer", required=True, type=Path)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--intra-op-threads", type=int, default=2)
    parser.add_argument("--inter-op-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-spinning", action="store_true", help="ORT idle threads sleep instead of spin-waiting")
    parser.add_argument(
        "--windowed-tokenizer", action="store_true", help="the tokenizer is an imported model's (import-model)"
    )
    args = parser.parse_args(argv)
    settings = (args.intra_op_threads, args.inter_op_threads, not args.no_spinning, args.windowed_tokenizer)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    children = []
    for _ in range(max(1, args.workers) - 1):  # extra workers: forked, same port
        pid = os.fork()
        if pid == 0:
            serve(args.host, args.port, args.tokenizer, args.model, *settings)
            os._exit(0)
        children.append(pid)
    serve(args.host, args.port, args.tokenizer, args.model, *settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
