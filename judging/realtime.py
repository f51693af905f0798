"""Live judging over Socket.IO: three rooms per round, each joined through the same checks as the HTTP API.

- `round:<id>:judges`  (the round's judges and its organizers) hears `stage`: the team on stage, the phase, its
  server start and end and the server's clock, and each team's scoring state. Never a score.
- `round:<id>:console` (organizers) hears `console`: per team, which judges have submitted, who has not, who is
  recused (not the scores: the console may be on a shared screen).
- `round:<id>:leaderboard` (anyone signed in who is not a judge of the round; organizers always) hears
  `leaderboard`: the audience's view (live, or only the ranks revealed so far), the same as the big screen reads.

Services send judging.signals' `stage_changed`, `scores_changed` and `leaderboard_changed` inside their transaction
(they do not know this module); the receivers here, connected at app start (init_app), note the round, and nothing is
sent before COMMIT nor anything of a rolled-back transaction (app.after_commit). Once the transaction has ended, the
rounds that changed in this process during a short moment (ANNOUNCE_DELAY_SECONDS) are read back once each, in a
background task with its own session (the request's connection is already back in the pool), and emitted through the
Socket.IO message queue when one is configured, so clients of every process hear them. Clients re-read the state
over HTTP after a reconnect: a missed message costs nothing.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_socketio import emit
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.accounts.auth import device_passes
from app.after_commit import run_after_commit
from app.authz import authorize
from app.db_types import utcnow
from app.errors import DomainError, Forbidden, NotFound
from app.extensions import db, socketio
from app.inputs import parse_id
from app.realtime import join_authorised, leave
from judging import presenters, signals
from judging.services import access, results

log = logging.getLogger(__name__)

JOIN_JUDGES, JOIN_CONSOLE, JOIN_LEADERBOARD = "join_round_judges", "join_round_console", "join_round_leaderboard"
LEAVE = "leave_round"
STAGE, CONSOLE, LEADERBOARD = "stage", "console", "leaderboard"
ANNOUNCE_DELAY_SECONDS = 0.004
# While judges' scores are still being handled in this process (seven judges submitting at once), the announcer
# waits for them, up to this long after the first change: the screens then get one leaderboard for the burst, and
# the process spends its time finishing the scores instead of reading and sending boards that are stale at once.
COALESCE_MAX_SECONDS = 0.06
COALESCE_STEP_SECONDS = 0.002
_PENDING_KEY = "judging.realtime.changed"

_batches: dict[object, dict[int, set[str]]] = {}  # app -> {round_id: {"stage", "scores"}}
_batches_lock = threading.Lock()
# One announcer of a process reads and emits at a time: a batch read later is emitted later, so a screen never gets
# an older leaderboard after a newer one from the same process. Across processes, payloads carry the time their
# read began (`updated_at`, `server_now`), and screens drop one older than what they show.
_announcing = threading.Lock()
_idle = threading.Condition(_batches_lock)
_running = 0  # announcers started and not finished
_scoring = 0  # score submissions being handled by this process (see `scoring`)


def judges_room(round_id: int) -> str:
    return f"round:{int(round_id)}:judges"


def console_room(round_id: int) -> str:
    return f"round:{int(round_id)}:console"


def leaderboard_room(round_id: int) -> str:
    return f"round:{int(round_id)}:leaderboard"


# ---- joining --------------------------------------------------------------------------------------------------------

def _round_id_from(data) -> int:
    value = data.get("round_id") if isinstance(data, dict) else data
    try:
        return parse_id(value)  # a positive int within the database's range (app.inputs)
    except ValueError:
        raise NotFound("round_not_found", "round_id") from None


def _refused(error: DomainError) -> dict:
    payload = {"code": error.code, "message": str(error.message)}
    emit("error", payload)
    return {"ok": False, **payload}


# Who may be in each room: checked at the join, and again whenever the person's access changes (app.realtime), by
# the same function. Each returns the round.

def may_watch_stage(user, round_id: int, passes: tuple[str, ...] = ()):
    """The round's judges (signed in, or holding a live judge pass of its competition on this device: `passes`,
    the device's pass tokens when it joined) and its organizers."""
    round_ = access.get_round(round_id)
    if not (user.is_authenticated and access.is_organizer(user, round_)):
        access.require_judge(round_, access.judging_actor(round_, user, list(passes), now=utcnow()))
    return round_


def may_watch_console(user, round_id: int):
    """The organizers of the round's competition."""
    round_ = access.get_round(round_id)
    access.authorize_organizer(user, round_)
    return round_


def may_watch_leaderboard(user, round_id: int):
    """Anyone signed in, except the round's judges (they must not see others' scores); organizers always."""
    round_ = access.get_round(round_id)
    authorize(user, "resident")
    if access.judge_of(round_.id, user) and not access.is_organizer(user, round_):
        raise Forbidden("judges_no_leaderboard", _l("Judges do not see the leaderboard during the round."))
    return round_


def on_join_judges(data=None):
    """Judges of the round (signed in, or with the judge pass of this device) and its organizers.
    Ack: {"ok": true, "room", "stage"}."""
    try:
        round_id = _round_id_from(data)
        round_ = join_authorised(judges_room(round_id), may_watch_stage, round_id, tuple(device_passes()))
    except DomainError as error:
        return _refused(error)
    return {"ok": True, "room": judges_room(round_.id), "stage": presenters.stage_payload(round_, now=utcnow())}


def on_join_console(data=None):
    """Organizers of the round's competition. Ack: {"ok": true, "room", "console"}."""
    try:
        round_id = _round_id_from(data)
        round_ = join_authorised(console_room(round_id), may_watch_console, round_id)
    except DomainError as error:
        return _refused(error)
    return {"ok": True, "room": console_room(round_.id), "console": presenters.console_data(round_, now=utcnow())}


def on_join_leaderboard(data=None):
    """Anyone signed in, except the round's judges (they must not see others' scores); organizers always.
    Ack: {"ok": true, "room", "leaderboard"} (the audience's view)."""
    try:
        round_id = _round_id_from(data)
        round_ = join_authorised(leaderboard_room(round_id), may_watch_leaderboard, round_id)
    except DomainError as error:
        return _refused(error)
    return {"ok": True, "room": leaderboard_room(round_.id),
            "leaderboard": results.leaderboard(round_.id, None, now=utcnow())}


def on_leave(data=None):
    value = data.get("round_id") if isinstance(data, dict) else data
    try:
        round_id = parse_id(value)
    except ValueError:
        return {"ok": True}
    for room in (judges_room(round_id), console_room(round_id), leaderboard_room(round_id)):
        leave(room)
    return {"ok": True}


# ---- announcing after commit ---------------------------------------------------------------------------------------

def on_stage_changed(sender, *, round_id: int, **_) -> None:
    """judging.signals.stage_changed, inside a service's transaction: the stage (or a team's scoring state) of this
    round changed: its judges hear the stage, its console and leaderboard are sent again."""
    _collect(round_id, "stage")


def on_scores_changed(sender, *, round_id: int, **_) -> None:
    """judging.signals.scores_changed and leaderboard_changed, inside a service's transaction: scores (or what the
    leaderboard shows) of this round changed: its console and leaderboard are sent again."""
    _collect(round_id, "scores")


QUIET_KEY = "judging.realtime.quiet"  # set in a session's info: its changes are not announced (demo seeding)


def _collect(round_id: int, kind: str) -> None:
    session = db.session()
    if session.info.get(QUIET_KEY):
        return
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = {}
        app = current_app._get_current_object()
        run_after_commit(lambda: _committed(app, session, pending), session)
    pending.setdefault(round_id, set()).add(kind)


def _committed(app, session: Session, pending: dict) -> None:
    if session.info.get(_PENDING_KEY) is pending:
        session.info.pop(_PENDING_KEY)
    global _running
    with _batches_lock:
        first = app not in _batches
        batch = _batches.setdefault(app, {})
        for round_id, kinds in pending.items():
            batch.setdefault(round_id, set()).update(kinds)
        if first:
            _running += 1
    if first:
        socketio.start_background_task(_announce_batch, app)


def _announce_batch(app) -> None:
    global _running
    try:
        socketio.sleep(ANNOUNCE_DELAY_SECONDS)
        _wait_for_scores_in_flight()
        with _announcing:
            with _batches_lock:
                batch = _batches.pop(app, {})
            if batch:
                with app.app_context():
                    try:
                        _announce(batch)
                    finally:
                        db.session.remove()
    except Exception:  # the change is committed; a lost broadcast only delays a screen (clients re-fetch)
        log.exception("announcing judging changes failed")
    finally:
        with _idle:
            _running -= 1
            _idle.notify_all()


@contextmanager
def scoring():
    """Around a score submission's transaction: the announcer holds back while any is being handled (see
    COALESCE_MAX_SECONDS)."""
    global _scoring
    with _batches_lock:
        _scoring += 1
    try:
        yield
    finally:
        with _batches_lock:
            _scoring -= 1


def _wait_for_scores_in_flight() -> None:
    waited = ANNOUNCE_DELAY_SECONDS
    while _scoring and waited < COALESCE_MAX_SECONDS:
        socketio.sleep(COALESCE_STEP_SECONDS)
        waited += COALESCE_STEP_SECONDS


def wait_until_announced(timeout: float = 5.0) -> bool:
    """Block until every committed change of this process has been announced (tests, benchmarks, shutdown)."""
    with _idle:
        return _idle.wait_for(lambda: _running == 0, timeout=timeout)


def _announce(batch: dict[int, set[str]]) -> None:
    now = utcnow()
    messages = []
    with access.one_snapshot():
        for round_id, kinds in sorted(batch.items()):
            messages += _messages_of(round_id, kinds, now=now)
    db.session.rollback()  # give the connection back before emitting
    for event, payload, room in messages:
        socketio.emit(event, payload, to=room)


def _messages_of(round_id: int, kinds: set[str], *, now) -> list[tuple[str, dict, str]]:
    """(event, payload, room) of what changed in a round: the stage when it moved, and always its console and
    leaderboard."""
    try:
        round_ = access.get_round(round_id)
    except DomainError:
        return []
    messages = []
    if "stage" in kinds:
        messages.append((STAGE, presenters.stage_payload(round_, now=now), judges_room(round_id)))
    messages.append((CONSOLE, presenters.console_data(round_, now=now), console_room(round_id)))
    messages.append((LEADERBOARD, results.leaderboard(round_id, None, now=now), leaderboard_room(round_id)))
    return messages


@sa_event.listens_for(Session, "after_rollback")
@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, *args) -> None:
    session.info.pop(_PENDING_KEY, None)


def init_app(app: Flask) -> None:
    # blinker keeps one connection per receiver, however many apps
    signals.stage_changed.connect(on_stage_changed)
    signals.scores_changed.connect(on_scores_changed)
    signals.leaderboard_changed.connect(on_scores_changed)
    signals.judges_changed.connect(on_scores_changed)
    socketio.on_event(JOIN_JUDGES, on_join_judges)
    socketio.on_event(JOIN_CONSOLE, on_join_console)
    socketio.on_event(JOIN_LEADERBOARD, on_join_leaderboard)
    socketio.on_event(LEAVE, on_leave)
