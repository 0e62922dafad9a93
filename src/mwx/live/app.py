"""The console and its HTTP API (FastAPI): each partner's picture as a page, as JSON and GeoJSON, and pushed.

Routes (``{partner}``: a partner code; every ``/api`` and ``/console`` route needs that partner's token,
:mod:`mwx.live.tokens`):

* ``GET /console/{partner}?token=…`` — the console page (template ``templates/console.html``, assets under
  ``/static``, all shipped: no CDN, no tile server);
* ``GET /api/{partner}/picture[?at=…]`` — the picture now or at a scenario time (:class:`~mwx.live.updates.
  Snapshot`); ``…/picture.geojson`` the same as a GeoJSON FeatureCollection;
* ``GET /api/{partner}/history?after=N`` or ``?since=TIME`` — the updates after number N or from a time
  (:class:`~mwx.live.updates.UpdateBatch`);
* ``GET /api/{partner}/stream[?after=N]`` — the updates pushed as server-sent events (``event: updates``,
  ``id:`` the newest number, so a browser that reconnects resumes after it by ``Last-Event-ID``);
* ``POST /api/{partner}/ack`` ``{"msg_id": …}`` — the operator acknowledges a partner's alert change; the
  acknowledgement travels over the exchange (202);
* ``GET /api/{partner}/czml`` — the picture as a CZML document for Cesium; ``…/czml/stream`` its packets
  pushed as server-sent events;
* ``GET /openapi.json`` — the OpenAPI document, with the records' JSON Schemas as components.

Every answer carries the header ``Mwx-Data: exercise`` and every JSON body ``"exercise": true``.  The
interactive API pages of FastAPI are off: they load their scripts from a CDN.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' parameter types at run time.
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any

import jinja2
import msgspec
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from mwx.live import geojson as live_geojson
from mwx.live.operators import DeskClosed, OperatorDesk
from mwx.live.picture import LivePicture
from mwx.live.tokens import Tokens
from mwx.live.updates import EXERCISE_MARKING, Snapshot, UpdateBatch

#: s: the push stream sends what arrived at most this often (a batch per interval, not a message per update)
PUSH_INTERVAL_S = 0.05
#: s: a comment line keeps an idle stream open through proxies
KEEPALIVE_S = 15.0
#: most updates in one pushed batch or history answer
BATCH_LIMIT = 5000
JSON = "application/json"

_encoder = msgspec.json.Encoder()


class AckRequest(msgspec.Struct, forbid_unknown_fields=True):
    """An operator's acknowledgement of a partner's alert change: the id of the envelope that carried it."""

    msg_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


def _json(record: Any, status_code: int = 200) -> Response:
    return Response(_encoder.encode(record), status_code=status_code, media_type=JSON)


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mwx.live", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )


def _time(text: str | None, name: str) -> datetime | None:
    """A query parameter's ISO 8601 time (UTC where it gives no zone, as every time of mwx); 422 if it is not one."""
    if text is None:
        return None
    try:
        value = msgspec.json.decode(msgspec.json.encode(text), type=datetime)
    except msgspec.ValidationError:
        raise HTTPException(422, f"{name}: not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def console_app(
    pictures: Mapping[str, LivePicture],
    tokens: Tokens,
    desk: OperatorDesk | None = None,
    *,
    extra_routes: Callable[[FastAPI], None] | None = None,
) -> FastAPI:
    """The app over ``pictures`` (by partner), opened by ``tokens``; ``desk`` takes operators' actions (None: a
    replay, where nothing can be acknowledged)."""
    app = FastAPI(
        title="mwx console API",
        version="1",
        description=f"Each partner's live picture: tracks, launch events, alerts, the exchange's health. "
        f"{EXERCISE_MARKING}.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN
        redoc_url=None,
    )
    templates = _templates()
    static = resources.files("mwx.live").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.middleware("http")
    async def mark_exercise(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Mwx-Data"] = "exercise"
        response.headers["Referrer-Policy"] = "no-referrer"  # the page's address holds its token
        response.headers["Cache-Control"] = "no-store"
        return response

    def picture_of(
        partner: str,
        token: Annotated[str | None, Query(description="the partner's token, where no header can be sent")] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> LivePicture:
        """The partner's picture, if the request holds that partner's token (401 without one, 403 for another)."""
        bearer = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else None
        holder = tokens.partner_of(bearer or token)
        if holder is None:
            raise HTTPException(401, "a partner's token is needed", headers={"WWW-Authenticate": "Bearer"})
        if holder != partner:
            raise HTTPException(403, f"this token opens {holder}'s picture, not {partner}'s")
        if partner not in pictures:
            raise HTTPException(404, f"no picture of {partner}")
        return pictures[partner]

    Picture = Annotated[LivePicture, Depends(picture_of)]

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        page = templates.get_template("index.html").render(partners=list(pictures), marking=EXERCISE_MARKING)
        return HTMLResponse(page)

    @app.get("/console/{partner}", response_class=HTMLResponse, summary="The partner's console page")
    def console(partner: str, picture: Picture, token: str | None = None) -> HTMLResponse:
        page = templates.get_template("console.html").render(
            partner=partner, token=token or "", mode=picture.setup.mode, marking=EXERCISE_MARKING, static="/static"
        )
        return HTMLResponse(page)

    @app.get(
        "/api/{partner}/picture",
        summary="The picture now, or at a scenario time",
        responses={200: _schema_ref("Snapshot")},
    )
    def picture(picture: Picture, at: str | None = None) -> Response:
        return _json(picture.snapshot(_time(at, "at")))

    @app.get(
        "/api/{partner}/picture.geojson",
        summary="The picture as a GeoJSON FeatureCollection",
        responses={200: {"content": {"application/geo+json": {}}}},
    )
    def picture_geojson(picture: Picture, at: str | None = None) -> Response:
        collection = live_geojson.collection(picture.snapshot(_time(at, "at")))
        return Response(_encoder.encode(collection), media_type="application/geo+json")

    @app.get(
        "/api/{partner}/history",
        summary="The updates after a number, or from a scenario time",
        responses={200: _schema_ref("UpdateBatch")},
    )
    def history(picture: Picture, after: Annotated[int, Query(ge=0)] = 0, since: str | None = None) -> Response:
        start = _time(since, "since")
        return _json(picture.since_time(start) if start is not None else picture.since(after))

    @app.get(
        "/api/{partner}/stream",
        summary="The updates, pushed (server-sent events)",
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    def stream(
        picture: Picture,
        after: Annotated[int | None, Query(ge=0)] = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        resume = _resume_point(after, last_event_id, picture.seq)
        return StreamingResponse(
            _pushed(picture, resume, _batch_event), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    @app.post("/api/{partner}/ack", status_code=202, summary="Acknowledge a partner's alert change")
    async def acknowledge(partner: str, picture: Picture, request: Request) -> Response:
        try:
            ack = msgspec.json.decode(await request.body(), type=AckRequest)
        except msgspec.DecodeError as err:
            raise HTTPException(422, f"body: {err}") from None
        if desk is None:
            raise HTTPException(409, "a replay: nothing can be acknowledged")
        if not picture.knows_received(ack.msg_id):
            raise HTTPException(404, f"no alert change of a partner came to {partner} as {ack.msg_id}")
        try:
            desk.acknowledge(partner, ack.msg_id)
        except DeskClosed as err:
            raise HTTPException(409, str(err)) from None
        return _json({"exercise": True, "accepted": ack.msg_id}, status_code=202)

    @app.get(
        "/api/{partner}/czml",
        summary="The picture as a CZML document (Cesium)",
        responses={200: {"content": {JSON: {}}}},
    )
    def czml(picture: Picture) -> Response:
        from mwx.live.czml import czml_document

        return Response(czml_document(picture.snapshot()), media_type=JSON)

    @app.get(
        "/api/{partner}/czml/stream",
        summary="CZML packets pushed (server-sent events)",
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    def czml_stream(picture: Picture, last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
        from mwx.live.czml import czml_packets

        def event(batch: UpdateBatch) -> bytes:
            return b"event: czml\nid: %d\ndata: %s\n\n" % (batch.seq, czml_packets(batch))

        resume = _resume_point(None, last_event_id, 0)
        return StreamingResponse(_pushed(picture, resume, event), media_type="text/event-stream")

    if extra_routes is not None:
        extra_routes(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _resume_point(after: int | None, last_event_id: str | None, newest: int) -> int:
    """Where a stream starts: after ``Last-Event-ID`` (a reconnecting browser), else ``after``, else now."""
    if last_event_id is not None and last_event_id.strip().isdigit():
        return int(last_event_id)
    return newest if after is None else after


def _batch_event(batch: UpdateBatch) -> bytes:
    return b"event: updates\nid: %d\ndata: %s\n\n" % (batch.seq, _encoder.encode(batch))


async def _pushed(picture: LivePicture, after: int, event: Callable[[UpdateBatch], bytes]) -> AsyncIterator[bytes]:
    """Server-sent events of the picture's updates after ``after``: what arrived in each push interval, batched."""
    yield b"retry: 1000\n: exercise data\n\n"
    seq = after
    while True:
        if not await picture.wait(seq, timeout=KEEPALIVE_S):
            yield b": keep-alive\n\n"
            continue
        batch = picture.since(seq, limit=BATCH_LIMIT)
        seq = batch.seq
        yield event(batch)
        await asyncio.sleep(PUSH_INTERVAL_S)


def _schema_ref(name: str) -> dict[str, Any]:
    return {"content": {JSON: {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the live records' JSON Schemas (from the msgspec structs) as components."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _, components = msgspec.json.schema_components(
            [Snapshot, UpdateBatch], ref_template="#/components/schemas/{name}"
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
        app.openapi_schema = schema
    return app.openapi_schema
