"""How each OpenAI-compatible provider type departs from OpenAI's own Chat Completions API, as data.

Every difference the adapter knows about is a field here; ``openai_request`` reads them. A type without
an entry behaves like OpenAI minus OpenAI-only fields (``metadata``, the ``developer`` role).
"""

from __future__ import annotations

import msgspec

from byway.providers.config import ProviderType


class Quirks(msgspec.Struct, frozen=True, kw_only=True):
    max_tokens_field: str = "max_tokens"  # OpenAI and Azure want max_completion_tokens
    # Send ``stream_options: {"include_usage": true}`` with streams. Off where the API rejects the field
    # (Groq: "property 'stream_options' is unsupported"; Mistral forbids unknown fields) -- both send
    # usage in their last chunk unasked.
    stream_usage_option: bool = True
    developer_role: bool = False  # accepts role "developer"; elsewhere it is sent as "system"
    metadata: bool = False  # accepts the ``metadata`` field
    message_names: bool = True  # accepts ``name`` on messages (Mistral forbids it)
    seed_field: str = "seed"  # Mistral calls it random_seed
    required_tool_choice: str = "required"  # Mistral's spelling is "any"
    dropped: frozenset[str] = frozenset()  # canonical fields the API refuses; left out of the body
    mistral_tool_ids: bool = False  # tool call ids must be exactly 9 alphanumerics
    reasoning_history: bool = False  # DeepSeek wants assistant turns' ``reasoning_content`` sent back
    deployment_urls: bool = False  # Azure: /openai/deployments/{model}/...?api-version=


DEFAULT = Quirks()

QUIRKS: dict[ProviderType, Quirks] = {
    ProviderType.OPENAI: Quirks(max_tokens_field="max_completion_tokens", developer_role=True, metadata=True),
    ProviderType.AZURE: Quirks(max_tokens_field="max_completion_tokens", developer_role=True,
                               deployment_urls=True),
    ProviderType.MISTRAL: Quirks(stream_usage_option=False, message_names=False, seed_field="random_seed",
                                 required_tool_choice="any", dropped=frozenset({"user", "reasoning_effort"}),
                                 mistral_tool_ids=True),
    ProviderType.GROQ: Quirks(stream_usage_option=False),
    ProviderType.DEEPSEEK: Quirks(reasoning_history=True),
}


def quirks_for(provider_type: ProviderType) -> Quirks:
    return QUIRKS.get(provider_type, DEFAULT)
