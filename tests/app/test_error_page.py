"""The error page speaks to people: a heading and what they can do, no raw code or status, and a "go back" that
works under the Content-Security-Policy (no javascript: link)."""

from __future__ import annotations

from tests.conftest import sign_in


def test_a_missing_page_is_said_in_words_with_a_way_back(client, create_resident):
    sign_in(client, create_resident(name="林晓舟"))
    response = client.get("/events/999999", headers={"Accept-Language": "zh-CN", "Referer": "http://localhost/"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "找不到" in html and "错误代码" not in html and "(404)" not in html
    assert "javascript:" not in html and 'data-error-code="event_not_found"' in html
    assert 'href="http://localhost/"' in html
