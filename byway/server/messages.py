"""``POST /v1/messages``: the Anthropic Messages API in front of every provider."""

from __future__ import annotations

from byway.api import anthropic_messages
from byway.core import InvalidRequestError
from byway.core.principal import Principal
from byway.engine import Engine
from byway.providers.registry import adapter_for
from byway.server.asgi import DisconnectWatch, Receive, Send, read_body
from byway.server.context import Gateway, RequestContext
from byway.server.relay import deliver, relay


def require_anthropic(engine: Engine, decoded: anthropic_messages.Decoded, principal: Principal) -> None:
    """Refuse a request with Anthropic-only content (documents, server tools...) when a target of its
    model is another kind of provider: the canonical request that provider would get leaves it out."""
    if not decoded.anthropic_only:
        return
    model = decoded.request.model
    for target in engine.router.resolve(model, principal):
        provider = target.provider
        if adapter_for(provider.provider_type).family != "anthropic":
            path, what = decoded.anthropic_only[0]
            raise InvalidRequestError(
                f"{path}: {what} can only be sent to an Anthropic provider, and the model '{model}' is served by "
                f"'{provider.name}' ({provider.provider_type.value}); remove it or choose an Anthropic model",
                param=path, code="anthropic_only")


async def messages(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    principal = gateway.principal(ctx.headers, allow_x_api_key=True)
    decoded = anthropic_messages.decode(body)
    request = decoded.request
    engine = gateway.engine
    ctx.principal = principal
    ctx.endpoint = "messages"
    ctx.stream = request.stream
    require_anthropic(engine, decoded, principal)
    if not request.stream:
        done = await engine.complete(request, principal)
        await deliver(gateway, ctx, done, anthropic_messages.encode_response(done.response, request.stop), send)
        return
    async with DisconnectWatch(receive, armed=False) as watch:
        stream = await engine.open_stream(request, principal)
        target = stream.target
        # An Anthropic stream goes out as it came, unless it answers JSON through the adapter's JSON tool.
        passthrough = adapter_for(target.provider.provider_type).family == "anthropic" \
            and request.response_format is None
        encoder = anthropic_messages.StreamEncoder(request, passthrough=passthrough)
        await relay(gateway, ctx, stream, encoder, watch, send)
