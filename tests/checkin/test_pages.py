"""Pages: my ticket (QR inline, event, time, place, name, add to calendar), the scanner for door roles only, and the
organizers' summary with attendance, no-shows, conflicts and the check-in log as CSV / XLSX."""

from __future__ import annotations

import io
import re

import zxingcpp
from openpyxl import load_workbook

from tests.checkin.test_tickets import rasterize_svg
from tests.conftest import sign_in


def test_my_ticket_page_shows_a_qr_that_decodes_to_the_token(client, door_event, confirmed):
    event = door_event(title="模速路演日")
    event.venue = "模速空间 3 楼"
    from app.extensions import db

    db.session.commit()
    registration = confirmed(event, name="林晓舟")
    sign_in(client, registration.user)
    response = client.get(f"/tickets/{registration.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = re.search(r'data-token="([^"]+)"', html).group(1)
    svg = re.search(r"(<svg.*?</svg>)", html, re.S).group(1)
    assert [r.text for r in zxingcpp.read_barcodes(rasterize_svg(svg))] == [token]
    for text in ("模速路演日", "模速空间 3 楼", "林晓舟", f"/events/{event.id}.ics", "/tickets/sw.js"):
        assert text in html
    assert client.get("/tickets/sw.js").status_code == 200


def test_someone_elses_ticket_page_is_403(client, door_event, confirmed, create_resident):
    registration = confirmed(door_event())
    sign_in(client, create_resident(name="路人"))
    assert client.get(f"/tickets/{registration.id}").status_code == 403


def test_the_scanner_page_is_for_the_door_team(client, door_event, steward, create_resident):
    event = door_event()
    sign_in(client, steward(event))
    html = client.get(f"/events/{event.id}/scan").get_data(as_text=True)
    assert 'data-testid="gate-A"' in html
    html = client.get(f"/events/{event.id}/scan?gate=B").get_data(as_text=True)
    assert 'data-gate="B"' in html and 'data-role="steward"' in html and "search-form" not in html
    assert "vendor/qr-scanner/qr-scanner.umd.min.js" in html
    sign_in(client, create_resident(name="路人"))
    assert client.get(f"/events/{event.id}/scan?gate=B").status_code == 403


def test_the_summary_shows_attendance_and_exports_the_log(client, door_event, confirmed, token_of, supervisor, scan,
                                                          steward):
    event = door_event()
    came = confirmed(event, name="来了的人")
    confirmed(event, name="没来的人")
    scan.as_(steward(event))
    scan(event, token_of(came), gate="A")
    scan(event, "garbage", gate="B")

    sign_in(client, steward(event, name="另一位志愿者"))
    assert client.get(f"/events/{event.id}/checkin").status_code == 403  # stewards only scan

    sign_in(client, supervisor(event))
    html = client.get(f"/events/{event.id}/checkin").get_data(as_text=True)
    assert re.search(r'data-testid="admitted">1<', html) and re.search(r'data-testid="no-shows">1<', html)
    assert "没来的人" in html and "来了的人" in html

    csv_response = client.get(f"/events/{event.id}/checkins.csv")
    assert csv_response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]  # said once (issue 23)
    csv_body = csv_response.get_data().decode("utf-8-sig")
    assert csv_body.count("\n") == 3 and "来了的人" in csv_body
    workbook = load_workbook(io.BytesIO(client.get(f"/events/{event.id}/checkins.xlsx").data))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert len(rows) == 3 and any("来了的人" in (cell or "") for cell in rows[2] + rows[1])


def test_supervisors_get_walk_ins_and_who_is_inside_and_organizers_switch_reentry(
        client, door_event, supervisor, create_resident):
    from app.accounts.services import grant_role
    from app.extensions import db
    from checkin.services import config_for

    event = door_event()
    sign_in(client, supervisor(event))
    html = client.get(f"/events/{event.id}/scan?gate=A").get_data(as_text=True)
    assert 'data-testid="walk-in-form"' in html and 'data-testid="inside-panel"' in html
    assert 'data-reentry="no"' in html and "direction-out" not in html
    summary = client.get(f"/events/{event.id}/checkin").get_data(as_text=True)
    assert "door-settings" not in summary  # supervisors run the door; organizers set it up

    organizer = create_resident(name="王珂")
    grant_role(organizer, "organizer", f"event:{event.id}")
    db.session.commit()
    sign_in(client, organizer)
    summary = client.get(f"/events/{event.id}/checkin").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', summary).group(1)
    response = client.post(f"/events/{event.id}/checkin/settings",
                           data={"csrf_token": csrf, "allow_reentry": "yes", "opens_minutes_before": "45"})
    assert response.status_code == 302
    db.session.expire_all()
    config = config_for(event.id)
    assert config.allow_reentry and config.opens_minutes_before == 45
    html = client.get(f"/events/{event.id}/scan?gate=A").get_data(as_text=True)
    assert 'data-reentry="yes"' in html and 'data-testid="direction-out"' in html and 'data-testid="inside"' in html


def test_attendance_and_no_shows_export_as_csv_and_xlsx(client, door_event, confirmed, token_of, supervisor, scan,
                                                        steward):
    event = door_event()
    came = confirmed(event, name="来了的人")
    confirmed(event, name="没来的人")
    scan.as_(steward(event))
    scan(event, token_of(came), gate="B")
    sign_in(client, supervisor(event))
    response = client.get(f"/events/{event.id}/attendance.csv")
    assert response.status_code == 200 and "attendance.csv" in response.headers["Content-Disposition"]
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]  # said once (issue 23)
    lines = response.get_data().decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 3 and "来了的人" in lines[1] and ",B" in lines[1] and "没来的人" in lines[2]
    workbook = load_workbook(io.BytesIO(client.get(f"/events/{event.id}/attendance.xlsx").data))
    assert [row[0] for row in workbook.active.iter_rows(values_only=True)][1:] == ["来了的人", "没来的人"]


def test_confirmed_people_find_my_ticket_on_the_event_page_and_in_my_events(client, create_event, confirmed,
                                                                           create_resident):
    from app.extensions import db
    from events.models import Registration

    event = create_event(title="技术沙龙：票", capacity=1)
    registration = confirmed(event, name="有座位的人")
    waiting = create_resident(name="候补的人")
    db.session.add(Registration(event_id=event.id, user_id=waiting.id, status="waitlisted", waitlist_seq=2))
    db.session.commit()
    ticket_link = f'href="/tickets/{registration.id}"'
    my_events = "/me/events"

    sign_in(client, registration.user)
    assert ticket_link in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert ticket_link in client.get(my_events).get_data(as_text=True)

    sign_in(client, waiting)
    assert "/tickets/" not in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "/tickets/" not in client.get(my_events).get_data(as_text=True)


def test_attendance_exports_keep_a_formula_looking_name_as_text(client, door_event, confirmed, supervisor):
    event = door_event()
    confirmed(event, name="@SUM(1+1)*cmd")
    sign_in(client, supervisor(event))
    lines = client.get(f"/events/{event.id}/attendance.csv").get_data().decode("utf-8-sig").strip().splitlines()
    assert lines[1].startswith("'@SUM(1+1)*cmd,")
    cell = load_workbook(io.BytesIO(client.get(f"/events/{event.id}/attendance.xlsx").data)).active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("@SUM(1+1)*cmd", "s", True)
