"""Every provider type as data: where it lives, how it authenticates, where to get a key.

A provider that speaks OpenAI's wire format with another URL is a row here, not code.
"""

from __future__ import annotations

import msgspec

from byway.providers.config import ProviderType


class ProviderSpec(msgspec.Struct, frozen=True, kw_only=True):
    type: ProviderType
    display_name: str
    family: str  # wire family: openai, anthropic, gemini, bedrock, cohere, ollama
    default_base_url: str | None  # None: the user must give one
    api_key_env: tuple[str, ...] = ()  # environment variables holding the key
    key_url: str | None = None  # where a user gets a key
    auth: str = "bearer"  # bearer | api-key | x-api-key | none
    default_model: str | None = None
    suggested_models: tuple[str, ...] = ()
    key_required: bool = True
    embeddings: bool = True  # the provider has an embeddings API (OpenAI-family types that lack one say False)


_OPENAI = "openai"

SPECS: dict[ProviderType, ProviderSpec] = {s.type: s for s in (
    ProviderSpec(type=ProviderType.OPENAI, display_name="OpenAI", family=_OPENAI,
                 default_base_url="https://api.openai.com/v1", api_key_env=("OPENAI_API_KEY",),
                 key_url="https://platform.openai.com/api-keys", default_model="gpt-4o-mini",
                 suggested_models=("gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "o3-mini")),
    ProviderSpec(type=ProviderType.AZURE, display_name="Azure OpenAI", family=_OPENAI,
                 default_base_url=None, api_key_env=("AZURE_OPENAI_API_KEY",), auth="api-key",
                 key_url="https://portal.azure.com/#view/Microsoft_Azure_ProjectOxford/CognitiveServicesHub/~/OpenAI",
                 default_model="gpt-4o-mini", suggested_models=("gpt-4o-mini", "gpt-4o")),
    ProviderSpec(type=ProviderType.ANTHROPIC, display_name="Anthropic", family="anthropic",
                 default_base_url="https://api.anthropic.com", api_key_env=("ANTHROPIC_API_KEY",),
                 auth="x-api-key", key_url="https://console.anthropic.com/settings/keys",
                 default_model="claude-3-5-haiku-latest",
                 suggested_models=("claude-3-5-haiku-latest", "claude-sonnet-4-20250514", "claude-opus-4-1")),
    ProviderSpec(type=ProviderType.GEMINI, display_name="Google Gemini", family="gemini",
                 default_base_url="https://generativelanguage.googleapis.com",
                 api_key_env=("GEMINI_API_KEY", "GOOGLE_API_KEY"), auth="x-goog-api-key",
                 key_url="https://aistudio.google.com/app/apikey", default_model="gemini-2.0-flash",
                 suggested_models=("gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro")),
    ProviderSpec(type=ProviderType.VERTEX, display_name="Google Vertex AI", family="gemini",
                 default_base_url=None, api_key_env=(), auth="oauth",
                 key_url="https://console.cloud.google.com/iam-admin/serviceaccounts",
                 default_model="gemini-2.0-flash", suggested_models=("gemini-2.0-flash", "gemini-2.5-pro"),
                 key_required=False),
    ProviderSpec(type=ProviderType.BEDROCK, display_name="AWS Bedrock", family="bedrock",
                 default_base_url=None, api_key_env=(), auth="sigv4",
                 key_url="https://console.aws.amazon.com/iam/home#/security_credentials",
                 default_model="anthropic.claude-3-5-haiku-20241022-v1:0",
                 suggested_models=("anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.nova-lite-v1:0"),
                 key_required=False),
    ProviderSpec(type=ProviderType.MISTRAL, display_name="Mistral", family=_OPENAI,
                 default_base_url="https://api.mistral.ai/v1", api_key_env=("MISTRAL_API_KEY",),
                 key_url="https://console.mistral.ai/api-keys", default_model="mistral-small-latest",
                 suggested_models=("mistral-small-latest", "mistral-large-latest", "codestral-latest")),
    ProviderSpec(type=ProviderType.GROQ, display_name="Groq", family=_OPENAI,
                 default_base_url="https://api.groq.com/openai/v1", api_key_env=("GROQ_API_KEY",),
                 key_url="https://console.groq.com/keys", default_model="llama-3.3-70b-versatile", embeddings=False,
                 suggested_models=("llama-3.3-70b-versatile", "llama-3.1-8b-instant")),
    ProviderSpec(type=ProviderType.TOGETHER, display_name="Together AI", family=_OPENAI,
                 default_base_url="https://api.together.xyz/v1", api_key_env=("TOGETHER_API_KEY",),
                 key_url="https://api.together.ai/settings/api-keys",
                 default_model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
                 suggested_models=("meta-llama/Llama-3.3-70B-Instruct-Turbo", "Qwen/Qwen2.5-72B-Instruct-Turbo")),
    ProviderSpec(type=ProviderType.COHERE, display_name="Cohere", family="cohere",
                 default_base_url="https://api.cohere.com", api_key_env=("COHERE_API_KEY",),
                 key_url="https://dashboard.cohere.com/api-keys", default_model="command-r-plus",
                 suggested_models=("command-r-plus", "command-r", "command-a-03-2025")),
    ProviderSpec(type=ProviderType.XAI, display_name="xAI (Grok)", family=_OPENAI,
                 default_base_url="https://api.x.ai/v1", api_key_env=("XAI_API_KEY",),
                 key_url="https://console.x.ai", default_model="grok-3-mini",
                 suggested_models=("grok-3-mini", "grok-3", "grok-4")),
    ProviderSpec(type=ProviderType.OPENROUTER, display_name="OpenRouter", family=_OPENAI,
                 default_base_url="https://openrouter.ai/api/v1", api_key_env=("OPENROUTER_API_KEY",),
                 key_url="https://openrouter.ai/keys", default_model="openai/gpt-4o-mini",
                 suggested_models=("openai/gpt-4o-mini", "anthropic/claude-3.5-sonnet")),
    ProviderSpec(type=ProviderType.HUGGINGFACE, display_name="Hugging Face", family=_OPENAI,
                 default_base_url="https://router.huggingface.co/v1", api_key_env=("HF_TOKEN",),
                 key_url="https://huggingface.co/settings/tokens",
                 default_model="meta-llama/Llama-3.3-70B-Instruct",
                 suggested_models=("meta-llama/Llama-3.3-70B-Instruct", "Qwen/Qwen2.5-72B-Instruct")),
    ProviderSpec(type=ProviderType.OLLAMA, display_name="Ollama (local)", family="ollama",
                 default_base_url="http://localhost:11434", api_key_env=(), auth="none",
                 key_url="https://ollama.com/download", default_model="llama3.1:8b",
                 suggested_models=("llama3.1:8b", "qwen2.5:7b"), key_required=False),
    ProviderSpec(type=ProviderType.DEEPSEEK, display_name="DeepSeek", family=_OPENAI,
                 default_base_url="https://api.deepseek.com/v1", api_key_env=("DEEPSEEK_API_KEY",),
                 key_url="https://platform.deepseek.com/api_keys", default_model="deepseek-chat", embeddings=False,
                 suggested_models=("deepseek-chat", "deepseek-reasoner")),
    ProviderSpec(type=ProviderType.FIREWORKS, display_name="Fireworks AI", family=_OPENAI,
                 default_base_url="https://api.fireworks.ai/inference/v1", api_key_env=("FIREWORKS_API_KEY",),
                 key_url="https://fireworks.ai/account/api-keys",
                 default_model="accounts/fireworks/models/llama-v3p1-8b-instruct",
                 suggested_models=("accounts/fireworks/models/llama-v3p1-8b-instruct",)),
    ProviderSpec(type=ProviderType.OPENAI_COMPATIBLE, display_name="OpenAI-compatible server", family=_OPENAI,
                 default_base_url=None, api_key_env=(), key_url=None, key_required=False),
)}


def spec_for(provider_type: ProviderType | str) -> ProviderSpec:
    return SPECS[ProviderType(provider_type)]
