"""Mentoring's vocabulary (expertise, stages, languages), its limits, and the checks of what people type."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize
from app.errors import DomainError
from app.extensions import db
from mentoring.models import (
    MentorProfile,
)

EXPERTISE = {
    "fundraising": _l("Fundraising"),
    "go-to-market": _l("Go-to-market"),
    "product": _l("Product"),
    "engineering": _l("Engineering"),
    "ai-infrastructure": _l("AI infrastructure"),
    "legal": _l("Legal"),
    "hiring": _l("Hiring"),
    "finance": _l("Finance"),
    "operations": _l("Operations"),
    "marketing": _l("Marketing"),
    "data": _l("Data"),
    "international": _l("Going abroad"),
}
STAGES = {
    "idea": _l("Idea"),
    "prototype": _l("Prototype"),
    "seed": _l("Seed"),
    "angel": _l("Angel"),
    "pre-a": _l("Pre-A"),
    "series-a": _l("Series A"),
    "series-b-plus": _l("Series B and later"),
}
LANGUAGES = {"zh": _l("Chinese"), "en": _l("English")}
INDUSTRY_SUGGESTIONS = ("大模型应用", "AI Infra", "医疗AI", "企业服务", "智能制造", "自动驾驶", "金融科技", "机器人",
                        "教育", "消费")
MAX_CAPACITY = 20
MAX_NEEDS = 5
MAX_INDUSTRIES = 5
MAX_TAG_LENGTH = 40
MAX_DESCRIPTION = 2000
MAX_PER_FOUNDER = 5
MAX_WEIGHT = 5.0

MATCHING_MESSAGES = {
    "pins_over_capacity": _l("More pairs are pinned to a mentor than the mentor can take."),
    "pins_over_founder_limit": _l("More mentors are pinned to a founder than a founder may have in this cycle."),
    "pin_forbidden": _l("A pair is both pinned and forbidden."),
    "pin_unknown": _l("A pinned founder has no request in this cycle, or a pinned mentor has no profile."),
}


def normalise_tag(value) -> str:
    """Codes are lower-case with hyphens ("series_a" and "Series-A" are "series-a")."""
    return str(value or "").strip().lower().replace("_", "-")


def invalid_input(code: str, fields: dict) -> DomainError:
    return DomainError(code, _l("Please correct the highlighted fields."),
                       fields={k: str(v) for k, v in fields.items()})


def check_codes(values, allowed: dict, field: str, errors: dict, *, required: bool = False, limit: int | None = None):
    if isinstance(values, str):
        values = [v for v in values.split(",")]
    codes = list(dict.fromkeys(normalise_tag(v) for v in (values or ()) if normalise_tag(v)))
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        errors[field] = _l("Unknown choice: %(value)s.", value=unknown[0][:MAX_TAG_LENGTH])
    elif required and not codes:
        errors[field] = _l("Please choose at least one.")
    elif limit and len(codes) > limit:
        errors[field] = _l("At most %(n)d.", n=limit)
    return codes


def check_free_tags(values, field: str, errors: dict) -> list[str]:
    if isinstance(values, str):
        values = values.replace("，", ",").split(",")
    tags = list(dict.fromkeys(str(v).strip() for v in (values or ()) if str(v).strip()))
    if len(tags) > MAX_INDUSTRIES or any(len(t) > MAX_TAG_LENGTH for t in tags):
        errors[field] = _l("At most %(n)d, each at most %(m)d characters.", n=MAX_INDUSTRIES, m=MAX_TAG_LENGTH)
    return tags


def check_mentor_ids(values, field: str, errors: dict, founder_id: int) -> list[int]:
    try:
        ids = list(dict.fromkeys(int(v) for v in (values or ())))
    except (TypeError, ValueError):
        errors[field] = _l("Choose mentors from the list.")
        return []
    if len(ids) > 5:
        errors[field] = _l("At most %(n)d.", n=5)
    elif ids:
        found = set(db.session.scalars(sa.select(MentorProfile.user_id).where(MentorProfile.user_id.in_(ids))))
        if founder_id in ids or found != set(ids):
            errors[field] = _l("Choose mentors from the list.")
    return ids


def require_organizer(user) -> None:
    authorize(user, "organizer")
