"""Links that become a redirect or an href (announcements; the inbox's "open"; a push's URL) are a path on this site
or an absolute http(s) URL: never another host in disguise, never a script. One function (app.safe_urls.safe_link)
refuses them on input and replaces them on output."""

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from app.safe_urls import safe_link
from notifications import tasks
from notifications.models import Announcement, Notification
from tests.conftest import csrf_token_from, sign_in

BAD = ["/\t/evil.example/", "/\\evil.example", "//evil.example", "\\\\evil.example", " //evil.example",
       "/%09/evil.example", "/%2F/evil.example", "/%5Cevil.example", "/%252F/evil.example", "/\n/evil.example",
       "\t//evil.example", "\u3000//evil.example", "javascript:alert(1)", "JavaScript:alert(1)", " javascript:x",
       "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "https:evil.example",
       "https:/evil.example", "http:\\\\evil.example", "https://user@evil.example/", "https://[::1]/", "evil.example",
       "https:///x", "ftp://evil.example/"]
GOOD = ["/events/12", "/events/12?tab=agenda#top", "/mentoring/"]
ABSOLUTE = ["https://www.beiyang.cn/news/1", "http://example.com/a"]


@pytest.mark.parametrize("link", BAD)
def test_a_link_that_could_lead_elsewhere_or_run_a_script_is_not_safe(link):
    assert safe_link(link) is None and safe_link(link, absolute=True) is None


@pytest.mark.parametrize("link", GOOD)
def test_a_path_on_this_site_is_safe(link):
    assert safe_link(link) == link


@pytest.mark.parametrize("link", ABSOLUTE)
def test_a_full_http_address_is_safe_only_where_the_caller_allows_one(link):
    assert safe_link(link) is None and safe_link(link, absolute=True) == link


@pytest.fixture
def no_fan_out(monkeypatch):
    monkeypatch.setattr(tasks, "fan_out_announcement", lambda announcement_id: None)


@pytest.mark.parametrize("link", BAD)
def test_an_announcement_with_such_a_link_is_refused_with_422_naming_the_field(client, organizer, no_fan_out, link):
    sign_in(client, organizer)
    response = client.post("/api/v1/notifications/announcements", headers={
        "X-CSRFToken": csrf_token_from(client), "Accept-Language": "zh-CN"},
        json={"segment": {"kind": "all"}, "title": "公告", "link": link})
    assert response.status_code == 422, link
    error = response.get_json()["error"]
    assert error["code"] == "invalid_announcement" and "本站" in error["details"]["fields"]["link"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0


def test_the_announcement_page_refuses_it_too_and_accepts_a_path(client, organizer, no_fan_out):
    sign_in(client, organizer)
    token = csrf_token_from(client, "/notifications/announcements")
    form = {"csrf_token": token, "segment": "all", "title": "公告"}
    refused = client.post("/notifications/announcements", data={**form, "link": "/\\evil.example"},
                          headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 422 and "链接须指向本站页面" in refused.get_data(as_text=True)
    sent = client.post("/notifications/announcements", data={**form, "link": " /events/12 "})
    assert sent.status_code == 302
    assert db.session.scalars(sa.select(Announcement.link)).all() == ["/events/12"]


@pytest.mark.parametrize("link", BAD)
def test_opening_a_message_with_such_a_stored_link_goes_to_the_inbox(client, create_resident, link):
    """Rows written before the check (or by any other path) are made safe where they are followed."""
    person = create_resident()
    message = Notification(user_id=person.id, category="announcements", kind="announcement", title="t", body="",
                           link=link, locale="zh_Hans_CN", dedupe_key="x", created_at=utcnow())
    db.session.add(message)
    db.session.commit()
    sign_in(client, person)
    opened = client.post(f"/notifications/{message.id}/open", data={"csrf_token": csrf_token_from(client)})
    assert opened.status_code == 302 and opened.headers["Location"] == "/notifications"
    assert tasks._absolute_link("https://events.beiyang.test", link) == "https://events.beiyang.test/notifications"


def test_opening_a_message_follows_a_safe_link(client, create_resident):
    person = create_resident()
    message = Notification(user_id=person.id, category="announcements", kind="announcement", title="t", body="",
                           link="/events/12", locale="zh_Hans_CN", dedupe_key="x", created_at=utcnow())
    db.session.add(message)
    db.session.commit()
    sign_in(client, person)
    opened = client.post(f"/notifications/{message.id}/open", data={"csrf_token": csrf_token_from(client)})
    assert opened.headers["Location"] == "/events/12"
