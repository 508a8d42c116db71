"""``POST /v1/chat/completions``: OpenAI Chat Completions in front of every provider."""

from __future__ import annotations

from byway.api import openai_chat
from byway.core import Accumulator, ByWayError
from byway.providers.registry import adapter_for
from byway.server.asgi import JSON, SSE_HEADERS, DisconnectWatch, Receive, Send, read_body
from byway.server.context import Gateway, RequestContext


async def chat_completions(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    principal = gateway.principal(ctx.headers)
    request = openai_chat.decode_request(body)
    engine = gateway.engine
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
            watch.finishing()
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return

        stream = await engine.open_stream(request, principal, passthrough="openai")
        target = stream.target
        passthrough = adapter_for(target.provider.provider_type).wire_family(target.provider) == "openai"
        encoder = openai_chat.StreamEncoder(request, passthrough=passthrough)
        headers = ctx.response_headers(target.provider.name, target.model, len(stream.attempts),
                                       stream.upstream_seconds)
        headers.extend(SSE_HEADERS)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        accumulated = Accumulator()
        try:
            async for batch in stream.batches():
                out = []
                for frame in batch:
                    for event in frame.events:
                        accumulated.add(event)
                    data = encoder.frame(frame)
                    if data:
                        out.append(data)
                if out:
                    await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
            tail = encoder.end()
        except ByWayError as e:
            tail = encoder.error(e)
        finally:
            stream.close()
            engine.stream_cost(stream, accumulated)
        watch.finishing()
        await send({"type": "http.response.body", "body": tail, "more_body": False})
