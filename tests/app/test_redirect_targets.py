"""Forms that send a person on after they are done (language switch, sign-in) only send them to a path on this
site: the tricks a browser would read as another site (a tab, a backslash, an encoded slash) send them home."""

import pytest

from tests.conftest import csrf_token_from

TRICKS = ["/\t/evil.example/", "/\\evil.example", "//evil.example", "/%09/evil.example", " //evil.example",
          "/%2F/evil.example", "https://evil.example/", "javascript:alert(1)"]


@pytest.mark.parametrize("target", TRICKS)
def test_the_language_switch_never_sends_someone_to_another_site(client, target):
    response = client.post("/lang", data={"lang": "en", "next": target, "csrf_token": csrf_token_from(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/", response.headers["Location"]


def test_the_language_switch_keeps_a_path_on_this_site(client):
    response = client.post("/lang", data={"lang": "en", "next": "/events/3?x=1", "csrf_token": csrf_token_from(client)})
    assert response.headers["Location"] == "/events/3?x=1"
