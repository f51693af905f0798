"""One authorisation mechanism for pages, API and sockets."""

import pytest

from app.authz import authorize, has_role, scope_key
from app.errors import DomainError


def test_everyone_signed_in_is_a_resident(create_resident):
    assert has_role(create_resident(), "resident")


def test_nobody_anonymous_holds_any_role():
    assert not has_role(None, "resident")


def test_a_global_organizer_organizes_every_event(create_resident):
    organizer = create_resident(roles=["organizer"])
    assert has_role(organizer, "organizer", scope_key("event", 1))
    assert not has_role(organizer, "judge")


def test_a_scoped_judge_judges_only_that_competition(create_resident):
    judge = create_resident(roles=[("judge", scope_key("competition", 3))])
    assert has_role(judge, "judge", scope_key("competition", 3))
    assert not has_role(judge, "judge", scope_key("competition", 4))
    assert not has_role(judge, "judge")


def test_admins_hold_every_role(create_resident):
    admin = create_resident(roles=["admin"])
    assert all(has_role(admin, role, scope_key("event", 9)) for role in ("organizer", "judge", "mentor"))


def test_authorize_tells_unauthorized_from_forbidden(create_resident):
    with pytest.raises(DomainError) as error:
        authorize(None, "organizer")
    assert (error.value.code, error.value.status) == ("unauthorized", 401)
    with pytest.raises(DomainError) as error:
        authorize(create_resident(), "organizer")
    assert (error.value.code, error.value.status) == ("forbidden", 403)


def test_unknown_roles_and_scopes_are_programming_errors(create_resident):
    with pytest.raises(ValueError):
        has_role(create_resident(), "superuser")
    with pytest.raises(ValueError):
        scope_key("planet", 1)
