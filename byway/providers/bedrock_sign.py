"""AWS Signature Version 4 for Bedrock calls, computed by botocore (never by hand).

Signing is pure: it reads the clock and the credentials and adds ``Authorization``, ``X-Amz-Date`` (and
``X-Amz-Security-Token`` for temporary credentials) to the headers. A signature stays valid for five
minutes, so a call is signed when it is built, just before it is sent.

The signature covers the path exactly as it is sent: botocore derives the canonical URI from the URL it is
given, so the URL passed here must be the one the transport puts on the wire (see ``bedrock.model_path``).
"""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "bedrock"  # the signing name of both bedrock-runtime and the bedrock control plane


def sigv4_headers(method: str, url: str, headers: dict[str, str], body: bytes | None, *, access_key: str,
                  secret_key: str, session_token: str | None, region: str) -> dict[str, str]:
    """``headers`` plus the SigV4 headers for a request to ``url`` with ``body``."""
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(Credentials(access_key, secret_key, session_token), SERVICE, region).add_auth(request)
    return dict(request.headers.items())
