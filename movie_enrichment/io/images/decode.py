"""What an image is: its size and blurhash, from its bytes, or CorruptImage when they are not a whole image."""

import dataclasses
import io
import warnings

# A blurhash of 4 x 3 components, as blurhash.io and most sites use for a poster; made from a thumbnail of at
# most THUMBNAIL pixels a side (the hash keeps only the lowest frequencies, so a larger one changes nothing).
COMPONENTS = (4, 3)
THUMBNAIL = 32


class CorruptImage(ValueError):
    """The bytes are not a whole image (truncated, cut, or not an image at all); the message says why."""


@dataclasses.dataclass(frozen=True)
class Decoded:
    """An image's width and height in pixels and its blurhash."""

    width: int
    height: int
    blurhash: str


def decode(data: bytes) -> Decoded:
    """The size and blurhash of an encoded image (JPEG, PNG, WebP).

    The whole image is decoded, so a truncated or damaged one is refused; a JPEG is decoded at a reduced scale
    (Pillow's draft mode: libjpeg's DCT scaling), which still reads every byte, at a fraction of the CPU.

    Raises:
        CorruptImage: the bytes are not a whole image.
    """
    import blurhash  # pylint: disable=import-outside-toplevel
    from PIL import Image  # pylint: disable=import-outside-toplevel

    if not data:
        raise CorruptImage("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning is for far larger images
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if image.format == "JPEG":
                image.draft("RGB", (THUMBNAIL * 2, THUMBNAIL * 2))
            image.load()  # raises on a truncated or damaged image (LOAD_TRUNCATED_IMAGES is False)
            thumbnail = image.convert("RGB")
            thumbnail.thumbnail((THUMBNAIL, THUMBNAIL))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise CorruptImage(f"not a whole image: {error}") from error
    if width < 1 or height < 1:
        raise CorruptImage(f"not a whole image: {width}x{height} pixels")
    return Decoded(width, height, blurhash.encode(thumbnail, x_components=COMPONENTS[0],
                                                  y_components=COMPONENTS[1]))
