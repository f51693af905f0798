"""Tables of mentoring. (Requests, matching and office hours come with the mentoring issue.)"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class MentorProfile(db.Model):
    __tablename__ = "mentor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    expertise: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    stages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    capacity: Mapped[int] = mapped_column(default=3)
