"""The exercise's pages and API: the facilitator's (``white``), the evaluators' (``eval``) and the player cells'.

:func:`exercise_routes` adds them to a console app (:func:`mwx.live.app.console_app`, ``extra_routes=``): the
cells are partners with a console of their own; the facilitator and the evaluators are roles whose tokens sit
in the same :class:`~mwx.live.tokens.Tokens` (keys ``white`` and ``eval``).  Every route needs a token: none
is a 401, another role's a 403 — each role sees and does only what is its own.

* ``GET /exercise/white?token=…`` — the facilitator's page: the clock and its controls, the MSEL's injects,
  the log of what was done, the cells' summary (template ``templates/white.html``, assets under
  ``/ttx-static``, all shipped: no CDN);
* ``GET /exercise/eval?token=…`` — the evaluators' page: the log and the injects, the evaluation (proposed
  ratings to confirm or override) and the improvement plan (``templates/eval.html``);
* ``GET /api/exercise/state`` (white or eval) — :class:`~mwx.ttx.desk.ExerciseState`;
* ``POST /api/exercise/control`` (white) — :class:`~mwx.ttx.desk.ControlRequest`;
* ``POST /api/exercise/rating``, ``POST /api/exercise/plan`` (eval) — :class:`~mwx.ttx.desk.RatingRequest`,
  :class:`~mwx.ttx.desk.PlanRequest`;
* ``POST /api/{cell}/note``, ``…/warning``, ``…/answer`` (that cell) — :class:`~mwx.ttx.desk.NoteRequest`,
  :class:`~mwx.ttx.desk.WarningRequest`, :class:`~mwx.ttx.desk.AnswerRequest`.

A request body is decoded into its record at the door: an unknown field, a wrong type or an empty text is a
422 with a one-line reason.  The desk's :class:`~mwx.live.operators.DeskClosed` (the exercise is over, or not
running) is a 409, its ``ValueError`` (a request that makes no sense now) a 400 with its reason; a request
handed on is a 202 ``{"exercise": true, "accepted": true}``: it is carried out at the run's next step.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' parameter types at run time.
from collections.abc import Callable, Collection, Sequence
from importlib import resources
from typing import Annotated, Any, TypeVar

import jinja2
import msgspec
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from mwx.live.operators import DeskClosed
from mwx.live.tokens import Tokens
from mwx.live.updates import EXERCISE_MARKING
from mwx.ttx.desk import (
    AnswerRequest,
    ControlRequest,
    ExerciseDesk,
    NoteRequest,
    PlanRequest,
    RatingRequest,
    WarningRequest,
)

#: The facilitator's role (exercise control) and the evaluators' (keys of :attr:`Tokens.by_partner`).
WHITE = "white"
EVAL = "eval"
#: Where the exercise pages' scripts and styles are served.
STATIC = "/ttx-static"
JSON = "application/json"

_encoder = msgspec.json.Encoder()
R = TypeVar("R", bound=msgspec.Struct)


def _json(record: Any, status_code: int = 200) -> Response:
    return Response(_encoder.encode(record), status_code=status_code, media_type=JSON)


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mwx.ttx", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _decode(body: bytes, kind: type[R]) -> R:
    """The request record of ``body`` (JSON); 422 with a one-line reason if it is not one."""
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError as err:
        raise HTTPException(422, _one_line(f"body: {err}")) from None


async def _hand(call: Callable[..., None], *args: Any) -> Response:
    """Hand a request to the desk (in a worker thread: a desk may take a lock): 202, or 409 / 400 with why not."""
    try:
        await run_in_threadpool(call, *args)
    except DeskClosed as err:
        raise HTTPException(409, _one_line(str(err)) or "the exercise is not running") from None
    except ValueError as err:
        raise HTTPException(400, _one_line(str(err)) or "not possible now") from None
    return _json({"exercise": True, "accepted": True}, status_code=202)


def exercise_routes(desk: ExerciseDesk, tokens: Tokens, cells: Sequence[str]) -> Callable[[FastAPI], None]:
    """The exercise's routes over ``desk`` for ``console_app(..., extra_routes=...)``; ``tokens`` opens the
    ``cells`` (each a partner of the console app) and the roles ``white`` and ``eval``."""
    cell_set = frozenset(cells)
    templates = _templates()

    def role_of(
        request: Request,
        token: Annotated[str | None, Query(description="the role's token, where no header can be sent")] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> str:
        """The role (a cell's code, ``white`` or ``eval``) the request's token opens; 401 without one."""
        bearer = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else None
        holder = tokens.partner_of(bearer or token)
        if holder is None:
            raise HTTPException(401, "a token is needed", headers={"WWW-Authenticate": "Bearer"})
        return holder

    Role = Annotated[str, Depends(role_of)]

    def only(role: str, allowed: Collection[str], what: str) -> None:
        if role not in allowed:
            raise HTTPException(403, f"{what} is not {role}'s to see or do")

    def cell_of(cell: str, role: str) -> str:
        if role != cell or cell not in cell_set:
            raise HTTPException(403, f"this token acts for {role}, not for {cell}")
        return cell

    def page(name: str, role: str, token: str | None) -> HTMLResponse:
        html = templates.get_template(f"{name}.html").render(
            role=role, token=token or "", cells=list(cells), marking=EXERCISE_MARKING, static=STATIC
        )
        return HTMLResponse(html)

    def install(app: FastAPI) -> None:
        static = resources.files("mwx.ttx").joinpath("static")
        app.mount(STATIC, StaticFiles(directory=str(static)), name="ttx-static")

        @app.get("/exercise/white", response_class=HTMLResponse, summary="The facilitator's page")
        def white_page(role: Role, token: str | None = None) -> HTMLResponse:
            only(role, {WHITE}, "the facilitator's page")
            return page("white", role, token)

        @app.get("/exercise/eval", response_class=HTMLResponse, summary="The evaluators' page")
        def eval_page(role: Role, token: str | None = None) -> HTMLResponse:
            only(role, {EVAL}, "the evaluators' page")
            return page("eval", role, token)

        @app.get(
            "/api/exercise/state",
            summary="The exercise as the facilitator and the evaluators see it",
            responses={200: {"content": {JSON: {}}}},
        )
        async def state(role: Role) -> Response:
            only(role, {WHITE, EVAL}, "the exercise's state")
            return _json(await run_in_threadpool(desk.state))

        @app.post("/api/exercise/control", status_code=202, summary="The facilitator's clock")
        async def control(role: Role, request: Request) -> Response:
            only(role, {WHITE}, "the exercise's clock")
            return await _hand(desk.control, _decode(await request.body(), ControlRequest))

        @app.post("/api/exercise/rating", status_code=202, summary="Confirm or override a proposed rating")
        async def rating(role: Role, request: Request) -> Response:
            only(role, {EVAL}, "the evaluation")
            return await _hand(desk.rate, role, _decode(await request.body(), RatingRequest))

        @app.post("/api/exercise/plan", status_code=202, summary="Add or replace a row of the improvement plan")
        async def plan(role: Role, request: Request) -> Response:
            only(role, {EVAL}, "the improvement plan")
            return await _hand(desk.plan, role, _decode(await request.body(), PlanRequest))

        @app.post("/api/{cell}/note", status_code=202, summary="A cell's message on the consultation channel")
        async def note(cell: str, role: Role, request: Request) -> Response:
            who = cell_of(cell, role)
            return await _hand(desk.note, who, _decode(await request.body(), NoteRequest))

        @app.post("/api/{cell}/warning", status_code=202, summary="A cell's public warning: draft, issue, all-clear")
        async def warning(cell: str, role: Role, request: Request) -> Response:
            who = cell_of(cell, role)
            return await _hand(desk.warning, who, _decode(await request.body(), WarningRequest))

        @app.post("/api/{cell}/answer", status_code=202, summary="A cell's answer to an inject's question")
        async def answer(cell: str, role: Role, request: Request) -> Response:
            who = cell_of(cell, role)
            return await _hand(desk.answer, who, _decode(await request.body(), AnswerRequest))

    return install
