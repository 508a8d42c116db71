"""What each provider type asks of a credential: which fields, which are secret, which are required.

Secret fields go into the vault's sealed blob; the others (region, project, location, api_version,
api) into the credential's non-secret ``extra`` column; ``base_url`` has a column of its own.
"""

from __future__ import annotations

import msgspec

from byway.providers.catalog import ProviderSpec
from byway.providers.config import ProviderType

EXTRA_FIELDS = ("region", "project", "location", "api_version", "api")
DEFAULT_LOCATION = "us-central1"


class Field(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    label: str
    secret: bool
    required: bool
    kind: str = "string"  # string | url | json
    default: str | None = None


def _api_key(required: bool) -> Field:
    return Field(name="api_key", label="API key", secret=True, required=required)


def _base_url(required: bool, default: str | None) -> Field:
    return Field(name="base_url", label="Base URL", secret=False, required=required, kind="url", default=default)


def fields_for(spec: ProviderSpec) -> tuple[Field, ...]:
    """The fields a credential of ``spec.type`` takes, in the order a form would ask for them."""
    kind = spec.type
    if kind is ProviderType.BEDROCK:
        return (Field(name="aws_access_key_id", label="AWS access key id", secret=True, required=True),
                Field(name="aws_secret_access_key", label="AWS secret access key", secret=True, required=True),
                Field(name="aws_session_token", label="AWS session token", secret=True, required=False),
                Field(name="region", label="Region", secret=False, required=True, default="us-east-1"),
                _base_url(False, None))
    if kind is ProviderType.VERTEX:
        return (Field(name="credentials_json", label="Service-account key (JSON)", secret=True, required=True,
                      kind="json"),
                Field(name="project", label="Project id", secret=False, required=False),
                Field(name="location", label="Location", secret=False, required=False, default=DEFAULT_LOCATION),
                _base_url(False, None))
    if kind is ProviderType.AZURE:
        return (_api_key(True),
                _base_url(True, None),
                Field(name="api_version", label="API version", secret=False, required=False, default="2024-10-21"))
    if kind is ProviderType.OLLAMA:
        return (_base_url(False, spec.default_base_url), _api_key(False),
                Field(name="api", label="API (native or openai)", secret=False, required=False, default="native"))
    return (_api_key(spec.key_required), _base_url(spec.default_base_url is None, spec.default_base_url))
