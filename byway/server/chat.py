"""``POST /v1/chat/completions``: OpenAI Chat Completions in front of every provider."""

from __future__ import annotations

from byway.api import openai_chat
from byway.providers.registry import adapter_for
from byway.server.asgi import DisconnectWatch, Receive, Send, read_body
from byway.server.context import Gateway, RequestContext
from byway.server.relay import deliver, relay


async def chat_completions(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    principal = gateway.principal(ctx.headers)
    request = openai_chat.decode_request(body)
    engine = gateway.engine
    ctx.principal = principal
    ctx.endpoint = "chat.completions"
    ctx.stream = request.stream
    if not request.stream:
        done = await engine.complete(request, principal)
        await deliver(gateway, ctx, done, openai_chat.encode_response(done.response), send)
        return
    async with DisconnectWatch(receive, armed=False) as watch:
        stream = await engine.open_stream(request, principal, passthrough="openai")
        target = stream.target
        passthrough = adapter_for(target.provider.provider_type).wire_family(target.provider) == "openai"
        encoder = openai_chat.StreamEncoder(request, passthrough=passthrough)
        await relay(gateway, ctx, stream, encoder, watch, send)
