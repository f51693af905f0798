"""Weight on the wire (issue 17), over HTTP: responses are compressed for browsers that ask, static files have
content-hashed URLs cached for a year while any other version revalidates, the service workers keep stable URLs
that are never cached long, Socket.IO is left to Engine.IO, and the live client is only on live pages."""

from __future__ import annotations

import gzip
import hashlib
import re

import brotli
import pytest

from app.assets import IMMUTABLE, static_url
from app.config import PROJECT_ROOT
from app.db_types import utcnow
from app.extensions import db
from tests.conftest import sign_in

STATIC = PROJECT_ROOT / "app" / "static"
SOCKET_IO = "vendor/socket.io/socket.io.min.js"


def url_of(app, filename: str) -> str:
    with app.test_request_context():
        return static_url(filename)


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(response.data)
    if encoding == "br":
        return brotli.decompress(response.data)
    assert encoding is None, encoding
    return response.data


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href|data-worker|data-noble)="(/static/[^"]+)"', html)


@pytest.fixture
def ticket(create_event, create_resident):
    from events.services import register_for_event

    person = create_resident(name="林晓舟")
    registration, _ = register_for_event(create_event(title="模速路演日").id, person, now=utcnow())
    db.session.commit()
    return person, registration


# ---- compression ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_html_css_js_json_and_svg_go_out_compressed_for_a_browser_that_asks(app, client, ticket, encoding):
    person, registration = ticket
    sign_in(client, person)
    paths = ["/", f"/events/{registration.event_id}", f"/tickets/{registration.id}", "/api/v1/openapi.json",
             f"/api/v1/registrations/{registration.id}/ticket.svg", url_of(app, "css/app.css"),
             url_of(app, "js/page.js"), url_of(app, SOCKET_IO)]
    for path in paths:
        plain = client.get(path)
        squeezed = client.get(path, headers={"Accept-Encoding": f"{encoding}, deflate"})
        assert plain.status_code == squeezed.status_code == 200, path
        assert "Content-Encoding" not in plain.headers, path  # only for those who ask
        assert squeezed.headers["Content-Encoding"] == encoding, path
        assert "Accept-Encoding" in squeezed.headers["Vary"], path
        assert int(squeezed.headers["Content-Length"]) == len(squeezed.data) < len(plain.data) / 2, path
        if path.startswith(("/static/", "/api/v1/openapi")):  # the same bytes; pages carry a fresh CSRF token
            assert decoded(squeezed) == plain.data, path


def test_a_browser_that_asks_for_gzip_only_gets_gzip_for_a_static_file(app, client):
    response = client.get(url_of(app, "css/app.css"), headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"  # not deflate: the file is compressed whole
    assert decoded(response) == (STATIC / "css" / "app.css").read_bytes()


def test_tiny_responses_and_images_are_sent_as_they_are(app, client):
    for path in ("/healthz", url_of(app, "icons/icon-192.png")):
        response = client.get(path, headers={"Accept-Encoding": "gzip, br"})
        assert response.status_code == 200 and "Content-Encoding" not in response.headers, path


def test_socket_io_long_polling_is_left_to_engine_io(client):
    """Engine.IO answers /socket.io/ before Flask (and compresses its own long-polling payloads when they are
    large): nothing of ours touches it, so a packet is never encoded twice."""
    response = client.get("/socket.io/?EIO=4&transport=polling", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") in (None, "gzip")
    body = decoded(response).decode()
    assert body.startswith('0{"sid":'), body


# ---- static files: hashed URLs, a year's cache --------------------------------------------------------------

def test_a_static_url_carries_the_hash_of_the_files_content(app):
    data = (STATIC / "css" / "app.css").read_bytes()
    assert url_of(app, "css/app.css") == "/static/css/app.css?v=" + hashlib.sha256(data).hexdigest()[:12]


def test_the_hashed_version_is_cached_for_a_year_and_any_other_revalidates(app, client):
    url = url_of(app, "js/page.js")
    assert client.get(url).headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    for other in ("/static/js/page.js", "/static/js/page.js?v=000000000000", "/static/js/page.js?v="):
        response = client.get(other)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache", other


def test_changing_a_file_changes_its_url_and_the_old_url_is_no_longer_kept(app, client, tmp_path):
    app.static_folder = str(tmp_path)
    sheet = tmp_path / "site.css"
    sheet.write_text("body { color: #111; }\n")
    before = url_of(app, "site.css")
    assert client.get(before).headers["Cache-Control"] == IMMUTABLE

    sheet.write_text("body { color: #0b5cab; }\n")
    after = url_of(app, "site.css")
    assert after != before and after.startswith("/static/site.css?v=")
    assert client.get(after).headers["Cache-Control"] == IMMUTABLE
    old = client.get(before)  # a page rendered before the change: the new bytes, but not under the old name
    assert old.data == b"body { color: #0b5cab; }\n" and old.headers["Cache-Control"] == "no-cache"


def test_an_unknown_static_file_is_a_plain_404_and_its_url_has_no_hash(app, client):
    assert url_of(app, "no/such.js") == "/static/no/such.js"
    assert client.get("/static/no/such.js?v=abc").status_code == 404


def test_every_page_asks_for_its_static_files_by_hash(app, client, ticket):
    person, registration = ticket
    anonymous = client.get("/").get_data(as_text=True)
    sign_in(client, person)
    pages = [anonymous] + [client.get(path).get_data(as_text=True) for path in (
        "/", f"/events/{registration.event_id}", f"/tickets/{registration.id}", "/notifications", "/me/events")]
    for html in pages:
        urls = static_urls(html)
        assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls
        for url in urls:
            assert client.get(url).headers["Cache-Control"] == IMMUTABLE, url


def test_service_workers_keep_their_own_stable_urls_and_are_never_cached_long(client, ticket):
    person, registration = ticket
    sign_in(client, person)
    html = client.get(f"/tickets/{registration.id}").get_data(as_text=True)
    assert 'data-sw="/tickets/sw.js"' in html  # its scope is /tickets/: the URL must stay where it is
    for path in ("/tickets/sw.js", "/sw.js"):
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache", path
    assert client.get("/tickets/sw.js", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
    # the tickets' worker keeps its offline copies by path: the hashed sheets of the page are the ones it lists
    worker = client.get("/tickets/sw.js").get_data(as_text=True)
    for sheet in ("/static/css/app.css", "/static/checkin-pages.css"):
        assert f'"{sheet}"' in worker and f'href="{sheet}?v=' in html


# ---- the live client only where pages are live -------------------------------------------------------------

def test_the_socket_io_client_loads_only_on_live_pages(client, ticket):
    person, registration = ticket
    assert SOCKET_IO not in client.get("/").get_data(as_text=True)
    sign_in(client, person)
    for path in ("/", f"/events/{registration.event_id}", f"/tickets/{registration.id}", "/me/events"):
        html = client.get(path).get_data(as_text=True)
        assert SOCKET_IO not in html and "js/notifications.js" in html, path  # the badge still refreshes
    assert SOCKET_IO in client.get("/notifications").get_data(as_text=True)
