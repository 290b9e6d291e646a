"""Images stored under a folder (`--download_images DIR`): where each goes, how it is fetched, what it is."""

from movie_enrichment.io.images.decode import CorruptImage, Decoded, decode
from movie_enrichment.io.images.fetch import FetchError, ImageFetcher
from movie_enrichment.io.images.store import ImageStore, relative_path

__all__ = ["CorruptImage", "Decoded", "FetchError", "ImageFetcher", "ImageStore", "decode", "relative_path"]
