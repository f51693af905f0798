"""The live room over Socket.IO. A phone joins `event:<id>:live`, the big screen `event:<id>:live:screen` (the
event's attendees and organizers, checked by live.services.access.participant_event through
app.realtime.join_authorised, again whenever their access changes); a moderator's page joins
`event:<id>:live:moderators` (organizers).

A question asked, upvoted or moderated (live.signals.question_changed) is announced after COMMIT as `question`:
the room hears what it may see (or {"id", "removed": true}), the moderators hear everything. A poll prepared,
opened, closed, answered or whose results are shown (live.signals.poll_changed) is announced as `poll`: the room
hears opened polls, with counts only once the organizers show them; the moderators hear drafts and counts too.
The people's choice of a competition round (live.signals.audience_vote_changed) is announced as `audience_vote`
to the round's event's rooms, the round's big screen (judging's leaderboard room) and its console (console room).
A rolled-back change is never announced. Clients re-fetch GET /api/v1/events/<id>/questions and .../polls after a
reconnect, so a missed message costs nothing. When the event is cancelled its rooms close at once: every connection
leaves them, told with room_left (code room_closed), and nobody joins them again."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app
from flask_socketio import emit
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.after_commit import run_after_commit
from app.errors import DomainError
from app.extensions import db, socketio
from app.realtime import close_rooms, join_authorised, leave, shared_redis
from events import signals as event_signals
from events.realtime import event_id_from
from judging.realtime import console_room, leaderboard_room
from live import presenters, signals
from live.services import access, peoples_choice

log = logging.getLogger(__name__)

JOIN = "join_live"
LEAVE = "leave_live"
JOIN_MODERATORS = "join_live_moderators"
QUESTION = "question"
POLL = "poll"
AUDIENCE_VOTE = "audience_vote"  # the people's choice as the screen sees it (peoples_choice.board, revealed ranks)
_PENDING_KEY = "live.realtime.changed"


def live_room(event_id: int) -> str:
    return f"event:{int(event_id)}:live"


def moderators_room(event_id: int) -> str:
    return f"event:{int(event_id)}:live:moderators"


def screen_room(event_id: int) -> str:
    """The big screen's room: what the room sees, at the screens' cadence (LIVE_ANNOUNCE_INTERVAL) rather than the
    phones' (LIVE_PHONES_ANNOUNCE_INTERVAL)."""
    return f"event:{int(event_id)}:live:screen"


def may_listen(user, event_id: int):
    return access.room_open(access.participant_event(event_id, user))


def may_moderate(user, event_id: int):
    return access.room_open(access.moderated_event(event_id, user))


def _join(data, room_of, check) -> dict:
    try:
        event_id = event_id_from(data)
        event = join_authorised(room_of(event_id), check, event_id)
    except DomainError as error:
        payload = {"code": error.code, "message": str(error.message)}
        emit("error", payload)
        return {"ok": False, **payload}
    return {"ok": True, "room": room_of(event.id)}


def on_join(data=None):
    """Join an event's live room: {"event_id"} (a phone), or {"event_id", "screen": true} (the big screen, which
    hears the same at a quicker cadence). Acknowledged with {"ok": true, "room"} or {"ok": false, "code",
    "message"}."""
    screen = isinstance(data, dict) and data.get("screen") is True
    return _join(data, screen_room if screen else live_room, may_listen)


def on_join_moderators(data=None):
    return _join(data, moderators_room, may_moderate)


def on_leave(data=None):
    try:
        event_id = event_id_from(data)
        leave(live_room(event_id))
        leave(screen_room(event_id))
        leave(moderators_room(event_id))
    except DomainError:
        pass
    return {"ok": True}


# ---- announcing after COMMIT -------------------------------------------------------------------------------------

def _changed(kind: str, item_id: int) -> None:
    """Collect what changed in this transaction; the first change books the after-commit step."""
    session = db.session()
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = []
        run_after_commit(lambda: _committed(session, pending), session)
    if (kind, item_id) not in pending:
        pending.append((kind, item_id))


def _on_question_changed(sender, *, event_id: int, question_id: int, **_extra) -> None:
    _changed(QUESTION, question_id)


def _on_poll_changed(sender, *, event_id: int, poll_id: int, **_extra) -> None:
    _changed(POLL, poll_id)


def _on_audience_vote_changed(sender, *, round_id: int, **_extra) -> None:
    _changed(AUDIENCE_VOTE, round_id)


def _audience_vote_payloads(connection, round_id: int) -> tuple[int | None, dict, dict] | None:
    """(the round's event, what the room and the screens hear, what the moderators hear) of the people's choice,
    read on `connection` after COMMIT: everyone hears the board as the screen sees it (revealed ranks only)."""
    found = peoples_choice.announced_board(connection, round_id)
    if found is None:
        return None
    event_id, board = found
    return event_id, board, board


_READERS = {QUESTION: presenters.broadcast_payloads, POLL: presenters.poll_broadcast_payloads,
            AUDIENCE_VOTE: _audience_vote_payloads}


def _committed(session: Session, pending: list[tuple[str, int]]) -> None:
    if session.info.get(_PENDING_KEY) is pending:
        session.info.pop(_PENDING_KEY)
    app = current_app._get_current_object()
    cadences = ((SCREENS, app.config["LIVE_ANNOUNCE_INTERVAL"]), (PHONES, app.config["LIVE_PHONES_ANNOUNCE_INTERVAL"]))
    for kind, item_id in pending:
        audiences = [audience for audience, interval in cadences if _due_now(app, (kind, item_id, audience), interval)]
        if audiences:
            _announce(kind, item_id, audiences)  # one read for the audiences whose turn it is


# While a poll or the people's choice takes hundreds of votes a second, reading and sending the counts after every
# vote would cost more than the votes (and flood every phone). As check-in's counters do: each process announces a
# question, poll or round at once when it has not done so for `interval` seconds, otherwise once more at the end of
# that interval (so the last change is always sent, read as it is then), never more often. The few screens and
# moderators' pages hear it at a quick cadence (LIVE_ANNOUNCE_INTERVAL: vote -> screen stays well under 250 ms);
# the phones, a thousand connections or more, at a slower one (LIVE_PHONES_ANNOUNCE_INTERVAL), since every message
# to them costs a send per phone: the tally is read once per announcement, whatever the number of votes.
SCREENS = "screens"  # the big screens, the moderators, the round's screen and console
PHONES = "phones"  # event:<id>:live
# With several instances (REDIS_URL), the interval is the cluster's, not each process's: the process that takes the
# slot (SET NX PX on Redis) announces, through the message queue, to every instance's connections; another waits for
# the slot to end and tries again, and when it finds a newer slot taken, someone claimed it after its change
# committed, yet may have read before the changes that came meanwhile: it tries again at the end of that slot too, so
# the last change is always announced, and each phone hears one tally per interval however many instances there are.
_throttle_lock = threading.Lock()
_last_announced: dict[tuple[str, int, str], float] = {}
_scheduled: set[tuple[str, int, str]] = set()


def _claim(app: Flask, key: tuple[str, int, str], interval: float) -> float:
    """0 when this process takes the announcement slot of `key` for `interval` seconds (it announces now), else the
    seconds until the slot taken ends."""
    if interval <= 0:
        return 0.0
    client = shared_redis(app)
    if client is not None:
        name = f"{app.config['SOCKETIO_CHANNEL']}:live-announce:{key[0]}:{key[1]}:{key[2]}"
        try:
            if client.set(name, "1", nx=True, px=max(1, int(interval * 1000))):
                return 0.0
            return max(client.pttl(name), 1) / 1000
        except Exception:  # Redis away: each process throttles on its own
            log.exception("the live announcement slot of %s could not be claimed on Redis", key)
    now = time.monotonic()
    with _throttle_lock:
        wait = _last_announced.get(key, float("-inf")) + interval - now
        if wait <= 0:
            _last_announced[key] = now
        return max(wait, 0.0)


def _due_now(app: Flask, key: tuple[str, int, str], interval: float) -> bool:
    """Whether this change is announced to `key`'s audience now; if not, a trailing announcement is on its way
    (booked here, or already) and will read the item as it is then."""
    with _throttle_lock:
        if key in _scheduled:
            return False
    wait = _claim(app, key, interval)
    if wait <= 0:
        return True
    with _throttle_lock:
        if key in _scheduled:
            return False
        _scheduled.add(key)
    _later(app, key, interval, wait)
    return False


def _later(app: Flask, key: tuple[str, int, str], interval: float, wait: float) -> None:
    timer = threading.Timer(wait, _announce_later, (app, key, interval))
    timer.daemon = True
    timer.start()


def _announce_later(app: Flask, key: tuple[str, int, str], interval: float) -> None:
    wait = _claim(app, key, interval)
    if wait > 0:  # another process took a newer slot: it may have read before the changes queued here
        _later(app, key, interval, wait)
        return
    with _throttle_lock:
        _scheduled.discard(key)
    with app.app_context():
        try:
            _announce(key[0], key[1], [key[2]])
        finally:
            db.session.remove()


def _announce(kind: str, item_id: int, audiences: list[str]) -> None:
    """Read the item once and send it to these audiences (SCREENS, PHONES)."""
    try:
        with db.engine.connect() as connection:
            found = _READERS[kind](connection, item_id)
    except Exception:  # committed already; a lost broadcast only delays the list (clients re-fetch)
        log.exception("reading a live change (%s %s) to announce failed", kind, item_id)
        return
    if found is None:
        return
    event_id, room, moderators = found
    if kind == AUDIENCE_VOTE and SCREENS in audiences:  # the round's big screen and its console (which re-reads)
        socketio.emit(kind, room, to=leaderboard_room(item_id))
        socketio.emit(kind, room, to=console_room(item_id))
    if event_id is None:
        return
    if SCREENS in audiences:
        if room is not None:
            socketio.emit(kind, room, to=screen_room(event_id))
        socketio.emit(kind, moderators, to=moderators_room(event_id))
    if PHONES in audiences and room is not None:
        socketio.emit(kind, room, to=live_room(event_id))


ROOM_CLOSED = "room_closed"  # room_left's code when the event is cancelled: the page says so and stops


def _on_event_cancelled(sender, *, event_id: int, **_extra) -> None:
    """A cancelled event's live room closes at once: after COMMIT, every connection in it (phones, screens,
    moderators), in every process, leaves it and hears room_left {"room", "code": "room_closed"}; joining again is
    refused (access.room_open)."""
    app = current_app._get_current_object()
    rooms = [live_room(event_id), screen_room(event_id), moderators_room(event_id)]
    run_after_commit(lambda: close_rooms(app, rooms, ROOM_CLOSED))


@sa_event.listens_for(Session, "after_rollback")
@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, *args) -> None:
    session.info.pop(_PENDING_KEY, None)


def init_app(app: Flask) -> None:
    socketio.on_event(JOIN, on_join)
    socketio.on_event(JOIN_MODERATORS, on_join_moderators)
    socketio.on_event(LEAVE, on_leave)
    signals.question_changed.connect(_on_question_changed)
    signals.poll_changed.connect(_on_poll_changed)
    signals.audience_vote_changed.connect(_on_audience_vote_changed)
    event_signals.event_cancelled.connect(_on_event_cancelled)
