"""Changing one quiet-hours setting keeps the others (issue 23, item 1's neighbour): PUT
/api/v1/notifications/preferences says "only what is given changes", and switching quiet hours off must not reset
the hours a person chose."""

from tests.conftest import csrf_token_from, sign_in


def test_switching_quiet_hours_off_keeps_the_hours_chosen(client, create_resident):
    sign_in(client, create_resident())
    headers = {"X-CSRFToken": csrf_token_from(client)}
    chosen = client.put("/api/v1/notifications/preferences", json={"quiet_hours": {"enabled": True, "start": "23:00",
                                                                     "end": "07:30"}}, headers=headers)
    assert chosen.status_code == 200, chosen.json

    off = client.put("/api/v1/notifications/preferences", json={"quiet_hours": {"enabled": False}}, headers=headers)
    assert off.status_code == 200, off.json
    later = client.put("/api/v1/notifications/preferences", json={"quiet_hours": {"end": "06:45"}}, headers=headers)
    assert later.status_code == 200, later.json

    quiet = client.get("/api/v1/notifications/preferences").json["quiet_hours"]
    assert (quiet["enabled"], quiet["start"], quiet["end"]) == (False, "23:00", "06:45")
