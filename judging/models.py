"""Tables of the competition. (Rubrics, judges and scores come with the judging issue.)"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

ROUND_KINDS = ("preliminary", "semifinal", "final")


class Competition(db.Model):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    prize_pool_yuan: Mapped[int | None] = mapped_column()
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    # Tracks (赛道) teams apply to: [{"key": "ai-manufacturing", "label": "AI+制造", "label_en": "AI + manufacturing"}]
    # ("label_en" optional). Team applications (events/teams.py) are taken while `applications_open` and, when
    # set, before `applications_close_at`.
    tracks: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    applications_open: Mapped[bool] = mapped_column(default=False)
    applications_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rounds: Mapped[list[CompetitionRound]] = relationship(
        back_populates="competition", order_by="CompetitionRound.position", cascade="all, delete-orphan"
    )


class CompetitionRound(db.Model):
    __tablename__ = "competition_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    competition: Mapped[Competition] = relationship(back_populates="rounds")
