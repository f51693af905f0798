"""Matching cycles: opening, finding and listing them, and the cycle's lock that serialises every change
of its matches."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize
from app.errors import DomainError, NotFound
from app.extensions import db
from mentoring.inputs import (
    MAX_PER_FOUNDER,
    invalid_input,
)
from mentoring.models import (
    MATCHING_MODES,
    MentoringCycle,
)


def create_cycle(organizer, *, name: str, description: str = "", per_founder: int = 1, mode: str = "optimal",
                 now: datetime) -> MentoringCycle:
    """Open a matching cycle (organizers): founders may ask from now on."""
    authorize(organizer, "organizer")
    errors = {}
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        errors["name"] = _l("Please give the cycle a name (at most 120 characters).")
    check_cycle_settings(per_founder, mode, errors)
    if errors:
        raise invalid_input("invalid_cycle", errors)
    cycle = MentoringCycle(name=name, description=(description or "").strip(), per_founder=per_founder, mode=mode,
                           created_by_id=organizer.id, created_at=now, updated_at=now)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def check_cycle_settings(per_founder, mode, errors: dict) -> None:
    if not isinstance(per_founder, int) or isinstance(per_founder, bool) or not 1 <= per_founder <= MAX_PER_FOUNDER:
        errors["per_founder"] = _l("Each founder gets between 1 and %(n)d mentors.", n=MAX_PER_FOUNDER)
    if mode not in MATCHING_MODES:
        errors["mode"] = _l("Choose optimal or stable matching.")


def get_cycle(cycle_id: int) -> MentoringCycle:
    cycle = db.session.get(MentoringCycle, cycle_id)
    if cycle is None:
        raise NotFound("cycle_not_found", _l("This mentoring cycle does not exist."))
    return cycle


def list_cycles() -> list[MentoringCycle]:
    return list(db.session.scalars(sa.select(MentoringCycle).order_by(MentoringCycle.id.desc())))


def open_cycles() -> list[MentoringCycle]:
    """Cycles founders may still ask in."""
    return list(db.session.scalars(sa.select(MentoringCycle).where(MentoringCycle.status.in_(("open", "proposed")))
                                   .order_by(MentoringCycle.id.desc())))


def lock_cycle(cycle_id: int) -> MentoringCycle:
    """Serialise every change of this cycle's matches (row lock on PostgreSQL, write lock on SQLite)."""
    updated = db.session.execute(sa.update(MentoringCycle).where(MentoringCycle.id == cycle_id)
                                 .values(version=MentoringCycle.version + 1)
                                 .execution_options(synchronize_session=False)).rowcount
    if not updated:
        raise NotFound("cycle_not_found", _l("This mentoring cycle does not exist."))
    cycle = db.session.get(MentoringCycle, cycle_id)
    db.session.refresh(cycle)
    return cycle


def require_not_published(cycle: MentoringCycle) -> None:
    if cycle.status in ("published", "closed"):
        raise DomainError("cycle_published", _l("This cycle is already published; its matching cannot change."),
                          status=409)
