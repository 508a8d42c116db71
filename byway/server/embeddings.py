"""``POST /v1/embeddings``: OpenAI's embeddings API in front of every provider that has one."""

from __future__ import annotations

from byway.api import embeddings
from byway.server.asgi import JSON, DisconnectWatch, Receive, Send, read_body
from byway.server.context import Gateway, RequestContext
from byway.server.metering import meter


async def create_embeddings(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    principal = gateway.principal(ctx.headers)
    decoded = embeddings.decode_request(body)
    engine = gateway.engine
    ctx.principal = principal
    ctx.endpoint = "embeddings"
    async with DisconnectWatch(receive) as watch:
        done = await engine.embed(decoded.request, principal)
        payload = embeddings.encode_response(done.response, decoded.encoding_format)
        headers = ctx.response_headers(done.target.provider.name, done.target.model, len(done.attempts),
                                       done.upstream_seconds)
        headers.append(JSON)
        response = done.response
        if response.cost is not None:
            headers.append((b"x-byway-cost-usd", str(response.cost).encode()))
        provider = done.target.provider
        meter(gateway, ctx, provider=provider.name, connection=provider.connection_id, model=done.target.model,
              usage=response.usage, cost=response.cost, estimated=response.estimated, attempts=done.attempts,
              upstream_seconds=done.upstream_seconds)
        watch.finishing()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
