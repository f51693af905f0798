"""Personal .ics files take the API's credentials (issue 23): a bearer token works where the cookie does, bad or missing
credentials get a plain 401 (JSON when asked), never a redirect to the sign-in page; and a meeting's title names its
table once, in every language."""

from datetime import timedelta

import icalendar
import pytest

from app.accounts.services import issue_api_token, revoke_api_token
from app.db_types import utcnow
from app.extensions import db
from mentoring import meetings
from tests.conftest import sign_in
from tests.mentoring.test_meetings import roadshow  # noqa: F401  (the fixture)


@pytest.fixture
def published(roadshow, organizer):  # noqa: F811
    """Investor 0 meets 项目0 at table "B桌" (the organizers named their tables so), published."""
    event, founders, investors = roadshow
    start = event.starts_at + timedelta(hours=1)
    meetings.set_up_meetings(event.id, organizer, starts_at=start, ends_at=start + timedelta(hours=1),
                             tables=["B桌"], now=utcnow())
    meetings.set_wish(event.id, investors[0], target_id=founders[0].id, wanted=True, now=utcnow())
    meetings.schedule(event.id, organizer, now=utcnow())
    meetings.publish(event.id, organizer, now=utcnow())
    tokens = {p.id: issue_api_token(p, now=utcnow()) for p in (founders[0], investors[0])}
    db.session.commit()
    [meeting] = meetings.meetings_of_event(event.id)
    return event, founders[0], investors[0], meeting, tokens


def summaries(body: bytes) -> dict[str, str]:
    return {str(v["UID"]): str(v["SUMMARY"]) for v in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def bearer(token, **headers):
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.mark.parametrize("path", ["/mentoring/roadshow/{event}/meetings.ics", "/me/calendar.ics"])
def test_a_personal_ics_opens_with_a_bearer_token(client, published, path):
    event, founder, investor, meeting, tokens = published
    answer = client.get(path.format(event=event.id), headers=bearer(tokens[founder.id], **{"Accept-Language": "zh-CN"}))
    assert answer.status_code == 200, answer.headers.get("Location")
    assert answer.mimetype == "text/calendar"
    assert "Authorization" in answer.headers["Vary"] and "private" in answer.headers["Cache-Control"]
    found = summaries(answer.data)
    assert f"roadshow-meeting-{meeting.id}@beiyang-events" in found
    if path == "/me/calendar.ics":  # the whole private feed: the founder's pitch slot too (events' part)
        assert any(uid.startswith("pitch-slot-") for uid in found)
    # the other side sees the same meeting with their own token
    other = client.get(path.format(event=event.id), headers=bearer(tokens[investor.id]))
    assert f"roadshow-meeting-{meeting.id}@beiyang-events" in summaries(other.data)


@pytest.mark.parametrize("path", ["/mentoring/roadshow/{event}/meetings.ics", "/me/calendar.ics"])
def test_bad_or_missing_credentials_get_a_401_never_a_redirect(client, published, path):
    event, founder, investor, meeting, tokens = published
    url = path.format(event=event.id)
    for headers in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWJjOmRlZg=="}, {}):
        answer = client.get(url, headers={**headers, "Accept-Language": "zh-CN"})
        assert answer.status_code == 401, (headers, answer.headers.get("Location"))
        assert answer.mimetype == "text/plain" and "Location" not in answer.headers
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        text = answer.get_data(as_text=True)
        assert any("\u4e00" <= c <= "\u9fff" for c in text), text  # in the caller's language
    as_json = client.get(url, headers={"Authorization": "Bearer not-a-token", "Accept": "application/json"})
    assert as_json.status_code == 401 and as_json.get_json()["error"]["code"] == "invalid_token"
    # a revoked token stops at once
    revoke_api_token(tokens[founder.id], now=utcnow())
    db.session.commit()
    assert client.get(url, headers=bearer(tokens[founder.id])).status_code == 401


def test_the_cookie_of_the_pages_still_opens_my_meetings(client, published):
    event, founder, investor, meeting, tokens = published
    sign_in(client, founder)
    answer = client.get(f"/mentoring/roadshow/{event.id}/meetings.ics")
    assert answer.status_code == 200 and f"roadshow-meeting-{meeting.id}@beiyang-events" in summaries(answer.data)


@pytest.mark.parametrize("language, founder_title, investor_title", [
    ("zh-CN", "与投资人 投资人0 约见 · B桌", "与 项目0 约见 · B桌"),
    ("en", "Meeting with investor 投资人0 · B桌", "Meeting with 项目0 · B桌"),
])
def test_a_meeting_title_names_its_table_once(client, published, language, founder_title, investor_title):
    event, founder, investor, meeting, tokens = published
    uid = f"roadshow-meeting-{meeting.id}@beiyang-events"
    for person, title in ((founder, founder_title), (investor, investor_title)):
        answer = client.get(f"/mentoring/roadshow/{event.id}/meetings.ics",
                            headers=bearer(tokens[person.id], **{"Accept-Language": language}))
        assert summaries(answer.data)[uid] == title
        assert "桌 桌" not in answer.get_data(as_text=True) and "table B桌" not in answer.get_data(as_text=True)
