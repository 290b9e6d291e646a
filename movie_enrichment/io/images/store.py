"""Where the images of `--download_images DIR` live: paths mirroring TMDB's (`w500/abc.jpg`), whole writes,
the check that a stored image is there, and the pass that removes the files no record refers to."""

import logging
import re
from typing import Iterable

from movie_enrichment.io import files

_LOGGER = logging.getLogger(__name__)

# TMDB's size and file name, as `extract.image_url` admits them: nothing else ever becomes a path under DIR.
_RELATIVE = re.compile(r"(?:w\d{1,4}|h\d{1,4}|original)/[A-Za-z0-9_-]+\.(?:jpg|jpeg|png|svg|webp)")
_MIME = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
         "svg": "image/svg+xml"}


def relative_path(url: str | None) -> str | None:
    """The path under DIR of an image URL on TMDB's image host (`https://image.tmdb.org/t/p/w500/abc.jpg` ->
    `w500/abc.jpg`), or None when the URL does not end in a TMDB size and file name."""
    if not isinstance(url, str):
        return None
    relative = "/".join(url.rsplit("/", 2)[-2:])
    return relative if _RELATIVE.fullmatch(relative) else None


class ImageStore:
    """The images under one folder (local, or any path Beam's FileSystems writes: `gs://`, `s3://`).

    Args:
        root: the folder, `--download_images`.

    A file appears whole or not at all (`files.write_temp`, then `files.publish`), so a file that is there is
    one a run finished; a crash leaves at most a temporary `.name.tmp-*` file, which `prune` removes.
    """

    def __init__(self, root: str):
        self.root = root.rstrip("/") or "/"

    def path(self, relative: str) -> str:
        """The full path of `w500/abc.jpg` under the root."""
        if not _RELATIVE.fullmatch(relative):
            raise ValueError(f"not a TMDB image path: {relative!r}")
        return f"{self.root}/{relative}"

    def read(self, relative: str) -> bytes | None:
        """The stored file's bytes, or None when it is not there."""
        try:
            return files.read(self.path(relative))
        except FileNotFoundError:
            return None

    def write(self, relative: str, data: bytes) -> None:
        """Stores `data` as `relative`, whole: under a temporary name beside it, then renamed onto it."""
        target = self.path(relative)
        folder = target.rsplit("/", 1)[0]
        files.ensure_dir(folder)
        files.publish(files.write_temp(target, data, _MIME.get(relative.rpartition(".")[2],
                                                                "application/octet-stream")), target)

    def listing(self) -> dict[str, int]:
        """Every file under the root (relative path -> size in bytes), temporary files included."""
        from apache_beam.io.filesystems import FileSystems  # pylint: disable=import-outside-toplevel
        if not FileSystems.exists(self.root):
            return {}
        prefix = self.root.rstrip("/") + "/"
        found = FileSystems.match([prefix + "**"])[0].metadata_list
        return {m.path[len(prefix):]: m.size_in_bytes for m in found if m.path.startswith(prefix)}

    def size(self) -> int:
        """The bytes stored under the root."""
        return sum(self.listing().values())

    def prune(self, referenced: Iterable[str]) -> tuple[int, int]:
        """Removes every file under the root that is not in `referenced` (relative paths), temporary files left
        by an interrupted run too; returns (files removed, bytes freed). Only what a run could have written is
        touched: a file whose path is not a TMDB size and name (or a temporary one of such) stays."""
        from apache_beam.io.filesystems import FileSystems  # pylint: disable=import-outside-toplevel
        keep = set(referenced)
        doomed = {relative: size for relative, size in self.listing().items()
                  if relative not in keep and (_RELATIVE.fullmatch(relative) or _is_temp(relative))}
        if doomed:
            FileSystems.delete([f"{self.root}/{relative}" for relative in sorted(doomed)])
        _LOGGER.info("Removed %d images (%d bytes) that no record refers to from %s", len(doomed),
                     sum(doomed.values()), self.root)
        return len(doomed), sum(doomed.values())


def _is_temp(relative: str) -> bool:
    folder, _, name = relative.rpartition("/")
    return name.startswith(".") and ".tmp-" in name and _RELATIVE.fullmatch(
        f"{folder}/{name[1:].split('.tmp-')[0]}") is not None
