"""A provider connection: which API, where, with which credentials."""

from __future__ import annotations

import enum
from decimal import Decimal

import msgspec


class ProviderType(enum.StrEnum):
    OPENAI = "openai"
    AZURE = "azure"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    VERTEX = "vertex"
    BEDROCK = "bedrock"
    MISTRAL = "mistral"
    GROQ = "groq"
    TOGETHER = "together"
    COHERE = "cohere"
    XAI = "xai"
    OPENROUTER = "openrouter"
    HUGGINGFACE = "huggingface"
    OLLAMA = "ollama"
    DEEPSEEK = "deepseek"
    FIREWORKS = "fireworks"
    OPENAI_COMPATIBLE = "openai_compatible"


class ModelPrice(msgspec.Struct, forbid_unknown_fields=True):
    """USD per 1M tokens."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None


class ProviderConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One provider connection, as written in the config file's ``providers:`` list
    (where ``provider_type`` is spelled ``type``) or passed to ``LLMManager``.

    ``name`` defaults to the type's value; it is the prefix in ``name:model``.
    """

    provider_type: ProviderType = msgspec.field(name="type")
    name: str = ""
    api_key: str | None = None
    base_url: str | None = None
    models: list[str] | None = None
    priority: int = 100
    weight: float = 1.0
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    monthly_budget: Decimal | None = None
    timeout: float = 120.0  # seconds to the first byte (a stream's first token) and, unless idle_timeout says
    # otherwise, between stream chunks
    connect_timeout: float = 10.0
    idle_timeout: float | None = None
    retries: int = 0  # extra tries on retryable errors when the provider is named directly (routes have their own)
    proxy: str | None = None
    enabled: bool = True
    prices: dict[str, ModelPrice] | None = None
    cost_multiplier: Decimal = Decimal(1)
    headers: dict[str, str] | None = None  # extra headers sent upstream
    api_version: str | None = None  # azure
    # which connection this is, for state kept per connection (circuit breaker, health): the name for a
    # configured provider, "credential:<id>" for a user's credential (names are only unique per user)
    connection_id: str = ""
    owner: str | None = None  # the user a stored credential belongs to (None: the gateway's own)
    api: str | None = None  # where a provider has two APIs, which to speak: ollama "native" (default) or "openai"
    # cloud credentials (bedrock, vertex)
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    region: str | None = None
    project: str | None = None
    location: str | None = None
    credentials_file: str | None = None
    credentials_json: str | None = None

    def __post_init__(self) -> None:
        # Python callers may pass plain numbers and strings; keep money in Decimal and types as enums.
        self.provider_type = ProviderType(self.provider_type)
        if not isinstance(self.cost_multiplier, Decimal):
            self.cost_multiplier = Decimal(str(self.cost_multiplier))
        if self.monthly_budget is not None and not isinstance(self.monthly_budget, Decimal):
            self.monthly_budget = Decimal(str(self.monthly_budget))
        if not self.name:
            self.name = self.provider_type.value
        if not self.connection_id:
            self.connection_id = self.name
        if self.base_url:
            self.base_url = self.base_url.rstrip("/")

    def serves(self, model: str) -> bool:
        """Whether ``model`` is in this provider's catalogue (an empty catalogue serves anything)."""
        return self.models is None or model in self.models
