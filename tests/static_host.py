"""Serve a built book on loopback as a static host does: text compressed with gzip.

GitHub Pages, Netlify and most web servers send HTML, CSS, JavaScript, JSON and SVG
gzip-compressed to a browser that accepts it; what a page weighs is what crosses the
network that way. Shared by the browser tests and ``benchmarks/page_weight.py`` (not a
test module).
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# What hosts compress; images and fonts are compressed already.
COMPRESSED = (".html", ".css", ".js", ".json", ".svg", ".txt", ".map", ".xml", ".ipynb")


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """http.server's file handler, with gzip for text and no request log."""

    def log_message(self, *args) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.suffix in COMPRESSED and path.is_file()):
            return super().send_head()
        body = _gzipped(path, path.stat().st_mtime_ns)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)


@functools.lru_cache(maxsize=512)
def _gzipped(path: Path, mtime_ns: int) -> bytes:
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free loopback port; yield its base URL."""
    handler = functools.partial(StaticHost, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
