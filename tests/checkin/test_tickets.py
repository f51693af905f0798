"""Tickets: a confirmed attendee (or an organizer of the event) gets a compact Ed25519-signed token and its QR code
as PNG and SVG; the images decode to exactly the token; the token holds no personal data; cancelling or re-issuing
makes a new version; private keys are sealed at rest; ten first tickets at once share one key."""

from __future__ import annotations

import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
import zxingcpp
from PIL import Image, ImageDraw

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from checkin import tokens
from checkin.models import CheckinConfig
from events.services import cancel_registration, register_for_event
from tests.conftest import sign_in
from tests.live_server import live_server


def decode_png(body: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(body)))]


def rasterize_svg(svg: str, scale: int = 8) -> Image.Image:
    """Draw the QR code's SVG (qrcode's one path of unit squares, on a white rect) as pixels, like a browser."""
    size = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    image = Image.new("L", (int(size * scale), int(size * scale)), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H([\d.]+)z", path)
    assert squares, "unexpected SVG path shape"
    for x1, y1, x2, y2, _ in squares:
        draw.rectangle([float(x1) * scale, float(y1) * scale, float(x2) * scale - 1, float(y2) * scale - 1], fill=0)
    return image


def test_the_owner_gets_a_token_and_both_images_decode_to_exactly_it(client, create_event, confirmed):
    event = create_event()
    registration = confirmed(event)
    sign_in(client, registration.user)

    response = client.get(f"/api/v1/registrations/{registration.id}/ticket")
    assert response.status_code == 200, response.json
    body = response.json
    token = body["token"]
    assert len(token) == tokens.TOKEN_LENGTH == 103
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert body["registration_id"] == registration.id and body["event_id"] == event.id and body["version"] == 1

    png = client.get(body["qr_png_url"])
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert "no-cache" in png.headers["Cache-Control"]
    assert decode_png(png.data) == [token]

    svg = client.get(body["qr_svg_url"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert [r.text for r in zxingcpp.read_barcodes(rasterize_svg(svg.get_data(as_text=True)))] == [token]

    assert client.get(f"/api/v1/registrations/{registration.id}/ticket").json["token"] == token  # deterministic


def test_the_token_carries_ids_only_and_verifies_with_the_events_public_key(client, create_event, confirmed):
    event = create_event()
    registration = confirmed(event, name="林晓舟")
    sign_in(client, registration.user)
    token = client.get(f"/api/v1/registrations/{registration.id}/ticket").json["token"]

    claims, payload, signature = tokens.read_claims(token)
    assert claims == tokens.TicketClaims(event.id, registration.id, 1)
    raw = tokens.unb64url(token)
    user = registration.user
    assert len(payload) == 13  # format, event, registration, version: nothing else is signed or carried
    for personal in (user.name.encode(), user.phone.encode(), user.phone[-4:].encode()):
        assert personal not in raw
    public = db.session.get(CheckinConfig, event.id).public_key
    assert tokens.signature_valid(tokens.load_public_key(public), payload, signature)


def test_an_organizer_of_the_event_gets_the_ticket_others_get_403_and_no_token(
        client, create_event, confirmed, create_resident):
    event = create_event()
    registration = confirmed(event)
    event_organizer = create_resident(name="活动组织者", roles=[("organizer", f"event:{event.id}")])
    other_organizer = create_resident(name="别的活动组织者", roles=[("organizer", "event:99999")])
    stranger = create_resident(name="路人")

    sign_in(client, event_organizer)
    assert client.get(f"/api/v1/registrations/{registration.id}/ticket").status_code == 200
    for person in (other_organizer, stranger):
        sign_in(client, person)
        for suffix in ("ticket", "ticket.png", "ticket.svg"):
            response = client.get(f"/api/v1/registrations/{registration.id}/{suffix}")
            assert response.status_code == 403
            assert response.json["error"]["code"] == "forbidden"
            assert "token" not in response.get_data(as_text=True)


def test_anonymous_visitors_must_sign_in_and_unknown_registrations_are_404(client, create_event, confirmed,
                                                                           create_resident):
    event = create_event()
    registration = confirmed(event)
    assert client.get(f"/api/v1/registrations/{registration.id}/ticket").json["error"]["code"] == "unauthorized"
    sign_in(client, create_resident())
    response = client.get("/api/v1/registrations/987654/ticket")
    assert response.status_code == 404 and response.json["error"]["code"] == "registration_not_found"


def test_only_confirmed_registrations_have_a_ticket(client, create_event, create_resident, confirmed):
    event = create_event(capacity=1)
    confirmed(event)
    waiting = create_resident(name="候补者")
    registration, _ = register_for_event(event.id, waiting, now=utcnow())
    db.session.commit()
    assert registration.status == "waitlisted"
    sign_in(client, waiting)
    response = client.get(f"/api/v1/registrations/{registration.id}/ticket")
    assert response.status_code == 409 and response.json["error"]["code"] == "no_ticket"


def test_cancelling_bumps_the_version_and_signing_up_again_gives_a_new_token(client, create_event, confirmed):
    event = create_event()
    registration = confirmed(event)
    user = registration.user
    sign_in(client, user)
    first = client.get(f"/api/v1/registrations/{registration.id}/ticket").json

    cancel_registration(registration.id, user, now=utcnow())
    db.session.commit()
    assert client.get(f"/api/v1/registrations/{registration.id}/ticket").json["error"]["code"] == "no_ticket"

    register_for_event(event.id, user, now=utcnow())
    db.session.commit()
    second = client.get(f"/api/v1/registrations/{registration.id}/ticket").json
    assert second["version"] > first["version"] and second["token"] != first["token"]


def test_reissuing_a_ticket_makes_a_new_token(client, create_event, confirmed):
    event = create_event()
    registration = confirmed(event)
    sign_in(client, registration.user)
    old = client.get(f"/api/v1/registrations/{registration.id}/ticket").json
    csrf = _csrf(client)
    new = client.post(f"/api/v1/registrations/{registration.id}/ticket/reissue", headers={"X-CSRFToken": csrf})
    assert new.status_code == 200, new.json
    assert new.json["version"] == old["version"] + 1 and new.json["token"] != old["token"]
    assert decode_png(client.get(new.json["qr_png_url"]).data) == [new.json["token"]]


def _csrf(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client, "/")


def test_private_keys_are_sealed_and_bound_to_their_event(app, client, create_event, confirmed):
    from cryptography.exceptions import InvalidTag

    event = create_event()
    registration = confirmed(event)
    sign_in(client, registration.user)
    client.get(f"/api/v1/registrations/{registration.id}/ticket")
    config = db.session.get(CheckinConfig, event.id)
    secret = app.config["SECRET_KEY"]
    private = tokens.unseal_private_key(config.sealed_private_key, event_id=event.id, secret_key=secret)
    assert tokens.public_key_text(private.public_key()) == config.public_key
    with pytest.raises(InvalidTag):
        tokens.unseal_private_key(config.sealed_private_key, event_id=event.id, secret_key="another secret")
    with pytest.raises(InvalidTag):
        tokens.unseal_private_key(config.sealed_private_key, event_id=event.id + 1, secret_key=secret)


def test_ten_first_tickets_at_once_share_one_event_key(app, create_event, create_resident):
    event = create_event()
    people = [create_resident(name=f"同时{i}") for i in range(10)]
    registrations = [register_for_event(event.id, p, now=utcnow())[0] for p in people]
    bearer = [issue_api_token(p, now=utcnow()) for p in people]
    db.session.commit()
    ids = [r.id for r in registrations]
    barrier = threading.Barrier(len(ids))

    def fetch(job):
        registration_id, token = job
        session = requests.Session()
        barrier.wait(timeout=30)
        return session.get(f"{base}/api/v1/registrations/{registration_id}/ticket",
                           headers={"Authorization": f"Bearer {token}"}, timeout=60)

    with live_server(app) as base, ThreadPoolExecutor(len(ids)) as pool:
        responses = list(pool.map(fetch, zip(ids, bearer, strict=True)))
    assert [r.status_code for r in responses] == [200] * len(ids)
    db.session.rollback()
    keys = db.session.scalars(sa.select(CheckinConfig).where(CheckinConfig.event_id == event.id)).all()
    assert len(keys) == 1
    public = tokens.load_public_key(keys[0].public_key)
    for response in responses:
        _, payload, signature = tokens.read_claims(response.json()["token"])
        assert tokens.signature_valid(public, payload, signature)
