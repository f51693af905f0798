"""Mentor profiles: a mentor's own profile and the list founders choose from."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.authz import authorize
from app.extensions import db
from mentoring.inputs import (
    EXPERTISE,
    LANGUAGES,
    MAX_CAPACITY,
    MAX_DESCRIPTION,
    STAGES,
    check_codes,
    check_free_tags,
    invalid_input,
)
from mentoring.models import (
    MentorProfile,
)


def mentor_profile_of(user_id: int) -> MentorProfile | None:
    return db.session.scalars(sa.select(MentorProfile).where(MentorProfile.user_id == user_id)).first()


def save_mentor_profile(user, *, bio: str = "", expertise=(), industries=(), stages=(), languages=(),
                        capacity: int = 3) -> MentorProfile:
    """Create or change the acting mentor's own profile. Capacity is founders per cycle, 1 to 20."""
    authorize(user, "mentor")
    errors = {}
    expertise = check_codes(expertise, EXPERTISE, "expertise", errors, required=True)
    stages = check_codes(stages, STAGES, "stages", errors)
    languages = check_codes(languages, LANGUAGES, "languages", errors)
    industries = check_free_tags(industries, "industries", errors)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = _l("A mentor takes between 1 and %(n)d founders per cycle.", n=MAX_CAPACITY)
    if len(bio or "") > MAX_DESCRIPTION:
        errors["bio"] = _l("At most %(n)d characters.", n=MAX_DESCRIPTION)
    if errors:
        raise invalid_input("invalid_profile", errors)
    profile = mentor_profile_of(user.id)
    if profile is None:
        profile = MentorProfile(user_id=user.id)
        db.session.add(profile)
    profile.bio, profile.expertise, profile.industries = (bio or "").strip(), expertise, industries
    profile.stages, profile.languages, profile.capacity = stages, languages, capacity
    db.session.flush()
    return profile


def list_mentors() -> list[MentorProfile]:
    """Every mentor with a profile (what founders may prefer or avoid), by name."""
    return list(db.session.scalars(
        sa.select(MentorProfile).join(User, User.id == MentorProfile.user_id)
        .where(User.is_active_account.is_(True)).order_by(User.name, User.id)))
