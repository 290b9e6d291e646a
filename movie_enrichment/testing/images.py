"""The bundled TMDB server's image host: `/t/p/<size>/<file>` answers a small PNG made from the path, the same
bytes for the same path, so that pages showing posters work against the local server.

Stdlib only, as the server is: a PNG of two flat colours is a few lines of zlib, where an imaging library would
be a dependency of the test server alone.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
import zlib

PREFIX = "/t/p/"
# TMDB's sizes (`/configuration` lists them): wN is N pixels wide, hN N high, original the poster's own size.
_PATH = re.compile(r"/t/p/(w\d{1,4}|h\d{1,4}|original)/([A-Za-z0-9_-]{1,100}\.(?:jpg|jpeg|png|svg|webp))")
_LARGEST = 780  # pixels on the long side: enough for a page, and cheap to make
_RATIO = 1.5  # a poster's height / width


def image_root(api_url: str) -> str:
    """The image root a server at `api_url` (`http://127.0.0.1:PORT/3`) serves: `http://127.0.0.1:PORT/t/p/`."""
    origin = api_url.split("/", 3)
    return "/".join(origin[:3]) + PREFIX


def configuration(body: dict, api_url: str | None) -> dict:
    """The `/configuration` answer of a server at `api_url`: its image roots point at the server itself."""
    if not api_url:
        return body
    root = image_root(api_url)
    return {**body, "images": {**body.get("images", {}), "base_url": root, "secure_base_url": root}}


def answer(path: str) -> tuple[int, str, bytes]:
    """(status, content type, body) for a GET of `path` under `PREFIX`: a PNG, or a 404 for another path."""
    found = _PATH.fullmatch(path)
    if found is None:
        return 404, "text/plain; charset=utf-8", b"no such image\n"
    return 200, "image/png", poster(found.group(1), found.group(2))


def send(handler, path: str) -> None:
    """Answers a GET of `path` on an `http.server` request handler."""
    status, content_type, data = answer(path)
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "public, max-age=86400")
    handler.end_headers()
    handler.wfile.write(data)


@functools.lru_cache(maxsize=256)
def poster(size: str, name: str) -> bytes:
    """A poster-shaped PNG for TMDB size `size` and file `name`: its colours from the name, its size from `size`."""
    if size.startswith("w"):
        width = min(int(size[1:]) or 1, _LARGEST)
        height = round(width * _RATIO)
    elif size.startswith("h"):
        height = min(int(size[1:]) or 1, _LARGEST)
        width = max(1, round(height / _RATIO))
    else:
        width, height = 500, 750
    if height > _LARGEST:
        width, height = max(1, round(_LARGEST / _RATIO)), _LARGEST
    digest = hashlib.sha256(name.encode()).digest()
    return png(width, height, digest[0:3], digest[3:6])


def png(width: int, height: int, background: bytes, band: bytes) -> bytes:
    """An RGB PNG of `background` with a horizontal `band` across its lower third."""
    plain = b"\x00" + background * width  # filter type 0 (none), then the pixels
    striped = b"\x00" + band * width
    top, bottom = 2 * height // 3, 5 * height // 6
    rows = plain * top + striped * (bottom - top) + plain * (height - bottom)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
