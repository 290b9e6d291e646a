"""The bundled TMDB server's image host: `/t/p/<size>/<file>` answers a small image made from the path (a JPEG
for .jpg/.jpeg, else a PNG), the same bytes for the same path, so that pages showing posters and
`--download_images` work against the local server; `faults` make chosen files arrive corrupt, cut or missing.

The PNG is a few lines of zlib; the JPEG is Pillow's, a dependency of the package since `--download_images`
decodes what it stores.
"""

from __future__ import annotations

import functools
import hashlib
import io
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


# What `TmdbServer.image_faults` (file name -> fault) can make of an image: "corrupt", a whole answer whose bytes
# are the first half of the image (a truncated file on TMDB's side); "cut", the connection closed after half the
# bytes its Content-Length promised (a network cut mid-download); "missing", a 404.
FAULTS = ("corrupt", "cut", "missing")
_NOT_FOUND = (404, "text/plain; charset=utf-8", b"no such image\n")


def answer(path: str, fault: str | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) for a GET of `path` under `PREFIX`: a JPEG for a .jpg/.jpeg file, a PNG for
    another, or a 404 for another path (or the "missing" fault)."""
    found = _PATH.fullmatch(path)
    if found is None or fault == "missing":
        return _NOT_FOUND
    size, name = found.group(1), found.group(2)
    if name.endswith((".jpg", ".jpeg")):
        data, content_type = jpeg(size, name), "image/jpeg"
    else:
        data, content_type = poster(size, name), "image/png"
    return 200, content_type, data[: len(data) // 2] if fault == "corrupt" else data


def fault_for(path: str, faults: dict[str, str] | None) -> str | None:
    """The fault `faults` names for the file of `path` (by its name, `abc.jpg`, or its size and name,
    `w500/abc.jpg`), or None."""
    if not faults:
        return None
    relative = path[len(PREFIX):] if path.startswith(PREFIX) else path
    return faults.get(relative) or faults.get(relative.rpartition("/")[2])


def send(handler, path: str, faults: dict[str, str] | None = None) -> None:
    """Answers a GET of `path` on an `http.server` request handler, with the fault `faults` names for it."""
    fault = fault_for(path, faults)
    status, content_type, data = answer(path, fault)
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "public, max-age=86400")
    if fault == "cut":
        handler.send_header("Connection", "close")
    handler.end_headers()
    if fault == "cut":
        handler.wfile.write(data[: len(data) // 2])
        handler.wfile.flush()
        handler.close_connection = True
        return
    handler.wfile.write(data)


# TMDB's backdrop-only sizes: their images are landscape (16:9), drawn at full size.
_BACKDROP_SIZES = ("w300", "w1280")


def _dimensions(size: str) -> tuple[int, int]:
    if size in _BACKDROP_SIZES:
        width = int(size[1:])
        return width, round(width * 9 / 16)
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
    return width, height


@functools.lru_cache(maxsize=256)
def jpeg(size: str, name: str) -> bytes:
    """A baseline JPEG (poster-shaped, or landscape at a backdrop size) for TMDB size `size` and file `name`,
    drawn as `poster`'s PNG is."""
    from PIL import Image, ImageDraw  # pylint: disable=import-outside-toplevel

    width, height = _dimensions(size)
    digest = hashlib.sha256(name.encode()).digest()
    image = Image.new("RGB", (width, height), tuple(digest[0:3]))
    ImageDraw.Draw(image).rectangle((0, 2 * height // 3, width, 5 * height // 6), fill=tuple(digest[3:6]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@functools.lru_cache(maxsize=256)
def poster(size: str, name: str) -> bytes:
    """A poster-shaped PNG for TMDB size `size` and file `name`: its colours from the name, its size from `size`."""
    width, height = _dimensions(size)
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
