"""``POST /v1/embeddings``: OpenAI's embeddings API in front of every provider that has one."""

from __future__ import annotations

from byway.api import embeddings
from byway.server.asgi import Receive, Send, read_body
from byway.server.context import Gateway, RequestContext
from byway.server.relay import deliver


async def create_embeddings(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    principal = gateway.principal(ctx.headers)
    decoded = embeddings.decode_request(body)
    engine = gateway.engine
    ctx.principal = principal
    ctx.endpoint = "embeddings"
    done = await engine.embed(decoded.request, principal)
    await deliver(gateway, ctx, done, embeddings.encode_response(done.response, decoded.encoding_format), send)
