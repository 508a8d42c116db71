"""Recognising images in requests: data URLs and base64 sources become media type + byte size."""

from __future__ import annotations

import base64
import binascii

from byway.mock.brain import Image


def base64_size(data: str) -> int | None:
    """Decoded length of base64 ``data``, or None when it is not valid base64."""
    try:
        return len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return None


def image_from_url(url: str) -> Image | None:
    """An ``Image`` for an http(s) URL or a ``data:<type>;base64,`` URL; None when it is neither."""
    if url.startswith(("http://", "https://")):
        return Image(url=url)
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    if not sep or encoding != "base64" or not media_type.startswith("image/"):
        return None
    size = base64_size(data)
    return None if size is None else Image(media_type=media_type, size=size)
