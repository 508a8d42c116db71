"""``image_url`` content parts: http(s) URLs pass as they are, base64 ``data:`` URLs become inline data."""

from __future__ import annotations

import binascii

from byway.core import ImagePart, InvalidRequestError


def image_part(url: str, detail: str | None, param: str) -> ImagePart:
    """The canonical part for an ``image_url``; ``param`` is the JSON path of the URL, for errors."""
    scheme = url[:8].lower()
    if scheme.startswith(("https://", "http://")):
        host = url.partition("://")[2][:1]
        if not host or host in "/?#":
            raise InvalidRequestError(f"Invalid image URL in '{param}': the URL has no host.", param=param)
        return ImagePart(url=url, detail=detail)
    if scheme.startswith("data:"):
        return _data_url(url, detail, param)
    raise InvalidRequestError(
        f"Invalid image URL in '{param}': expected an http(s) URL or a base64 data: URL.", param=param
    )


def _data_url(url: str, detail: str | None, param: str) -> ImagePart:
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise InvalidRequestError(f"Invalid data URL in '{param}': there is no ',' before the data.", param=param)
    media_type, _, params = header.partition(";")
    if params.rpartition(";")[2].lower() != "base64":
        raise InvalidRequestError(
            f"Invalid data URL in '{param}': only base64 data URLs are supported (data:image/png;base64,...).",
            param=param,
        )
    media_type = media_type.strip().lower()
    if not media_type.startswith("image/") or len(media_type) == len("image/"):
        raise InvalidRequestError(
            f"Invalid data URL in '{param}': the media type must be an image type such as image/png, "
            f"not '{media_type}'.", param=param,
        )
    if not payload:
        raise InvalidRequestError(f"Invalid data URL in '{param}': the image data is empty.", param=param)
    try:
        binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(f"Invalid data URL in '{param}': the image data is not valid base64.",
                                  param=param) from None
    return ImagePart(data=payload, media_type=media_type, detail=detail)
