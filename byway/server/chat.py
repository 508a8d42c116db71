"""``POST /v1/chat/completions``: OpenAI Chat Completions in front of every provider."""

from __future__ import annotations

from byway.api import openai_chat
from byway.providers.registry import adapter_for
from byway.server.asgi import JSON, DisconnectWatch, Receive, Send, read_body
from byway.server.context import Gateway, RequestContext
from byway.server.metering import meter
from byway.server.relay import relay


async def chat_completions(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    principal = gateway.principal(ctx.headers)
    request = openai_chat.decode_request(body)
    engine = gateway.engine
    ctx.principal = principal
    ctx.endpoint = "chat.completions"
    ctx.stream = request.stream
    async with DisconnectWatch(receive) as watch:
        if not request.stream:
            done = await engine.complete(request, principal)
            response = done.response
            payload = openai_chat.encode_response(response)
            headers = ctx.response_headers(done.target.provider.name, done.target.model, len(done.attempts),
                                           done.upstream_seconds)
            headers.append(JSON)
            if response.cost is not None:
                headers.append((b"x-byway-cost-usd", str(response.cost).encode()))
            provider = done.target.provider
            meter(gateway, ctx, provider=provider.name, connection=provider.connection_id, model=done.target.model,
                  usage=response.usage, cost=response.cost, estimated=response.estimated, attempts=done.attempts,
                  upstream_seconds=done.upstream_seconds)
            watch.finishing()
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return

        stream = await engine.open_stream(request, principal, passthrough="openai")
        target = stream.target
        passthrough = adapter_for(target.provider.provider_type).wire_family(target.provider) == "openai"
        encoder = openai_chat.StreamEncoder(request, passthrough=passthrough)
        await relay(gateway, ctx, stream, encoder, watch, send)
