"""JSON API of check-in: the contract scanner devices and the ticket page use (described in the OpenAPI document)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app, jsonify, url_for
from flask_login import current_user
from marshmallow import fields, validate

from app.accounts.auth import checks_bearer_token, decided_with_bearer
from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.schemas import Id, Schema
from checkin import admission, door, numbers, offline, presenters, qr, scanning, tickets, walk_ins

blp = api_blueprint("checkin_api", __name__, "",
                    "Check-in: QR tickets (Ed25519-signed tokens), scanning with exactly-once admission, offline "
                    "scanners (public key, ticket list, sync of queued scans).")

# A ticket changes when it is re-issued or cancelled: the page and its images must always be fetched afresh
# (the ticket page's service worker keeps its own copy for offline use).
PRIVATE_NO_CACHE = "private, no-cache"


class TicketSchema(Schema):
    registration_id = Id()
    event_id = Id()
    version = fields.Integer(metadata={"description": "raised when the ticket is re-issued or cancelled"})
    token = fields.String(metadata={"description": "what the QR code carries: base64url, 103 characters"})
    qr_svg_url = fields.String()
    qr_png_url = fields.String()


def _ticket_payload(registration, token: str) -> dict:
    return {"registration_id": registration.id, "event_id": registration.event_id, "version": registration.version,
            "token": token,
            "qr_svg_url": url_for("checkin_api.ticket_svg", registration_id=registration.id, v=registration.version),
            "qr_png_url": url_for("checkin_api.ticket_png", registration_id=registration.id, v=registration.version)}


@blp.route("/registrations/<int:registration_id>/ticket")
@blp.response(200, TicketSchema)
@blp.alt_response(403, schema="Error", description="not the owner nor an organizer of the event")
@blp.alt_response(404, schema="Error", description="registration_not_found")
@blp.alt_response(409, schema="Error", description="no_ticket (not confirmed), event_cancelled")
@login_required
def ticket(registration_id: int):
    """The ticket of a confirmed registration (its owner, or an organizer of the event): the signed token and
    where its QR code is, as SVG and PNG. The images decode to exactly `token`."""
    registration, token = tickets.ticket_for(registration_id, current_user, now=utcnow())
    db.session.commit()  # the event's key pair may just have been created
    return _ticket_payload(registration, token)


@blp.route("/registrations/<int:registration_id>/ticket/reissue", methods=["POST"])
@blp.response(200, TicketSchema)
@blp.alt_response(409, schema="Error", description="no_ticket, event_cancelled")
@login_required
def reissue(registration_id: int):
    """Replace the ticket (its owner, or an organizer): the old QR code stops working at every door."""
    registration, token = tickets.reissue_ticket(registration_id, current_user, now=utcnow())
    db.session.commit()
    return _ticket_payload(registration, token)


def _image(body, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = PRIVATE_NO_CACHE
    return response


@blp.route("/registrations/<int:registration_id>/ticket.png")
@blp.doc(responses={"200": {"description": "the ticket as an image to save: the QR code with the event's title, "
                                           "time, venue and the attendee's name; named after the event",
                            "content": {"image/png": {}}}})
@login_required
def ticket_png(registration_id: int):
    """The ticket as PNG (owner or organizer): the QR code, which decodes to exactly `token`, with the event's
    title, time (Asia/Shanghai), venue and the attendee's name around it (TICKET_FONT_PATH: a CJK font; ASCII text
    without it). Its file name carries the event's title."""
    registration, token = tickets.ticket_for(registration_id, current_user, now=utcnow())
    db.session.commit()
    response = _image(presenters.ticket_image(registration, token, font_path=current_app.config["TICKET_FONT_PATH"]),
                      "image/png")
    name = presenters.ticket_file_name(registration)
    response.headers["Content-Disposition"] = (f"inline; filename=\"ticket-{registration.id}.png\"; "
                                               f"filename*=UTF-8''{quote(name, safe='')}")
    return response


@blp.route("/registrations/<int:registration_id>/ticket.svg")
@blp.doc(responses={"200": {"description": "the QR code", "content": {"image/svg+xml": {}}}})
@login_required
def ticket_svg(registration_id: int):
    """The ticket's QR code as SVG (owner or organizer)."""
    _, token = tickets.ticket_for(registration_id, current_user, now=utcnow())
    db.session.commit()
    return _image(qr.qr_svg(token), "image/svg+xml")


# ---- scanning ------------------------------------------------------------------------------------------------------

SCAN_ID_DESCRIPTION = "chosen by the scanner for this scan (a UUID): the same scan_id again returns the first answer"


class CheckinRequestSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(max=4096),
                          metadata={"description": "what the camera read"})
    gate = fields.String(required=True, validate=validate.Length(min=1, max=admission.MAX_GATE),
                         metadata={"example": "A"})
    scan_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}\Z"),
                            metadata={"description": SCAN_ID_DESCRIPTION})
    device = fields.String(load_default="", validate=validate.Length(max=admission.MAX_DEVICE))
    direction = fields.String(load_default="in", validate=validate.OneOf(["in", "out"]),
                              metadata={"description": "out: leaving (events that allow re-entry)"})


class AttendeeSchema(Schema):
    registration_id = Id()
    name = fields.String()
    phone = fields.String(metadata={"description": "masked: 138****5678"})
    ticket_type = fields.String(metadata={"description": "standard | walk_in"})


class CheckinResultSchema(Schema):
    result = fields.String(metadata={"description": "admitted | already_admitted | invalid | revoked | wrong_event "
                                                    "| not_open | exited | not_inside"})
    reason = fields.String(metadata={"description": "why not admitted: old_version, cancelled, not_yet_open, "
                                                    "closed, signature, malformed, ..."})
    scan_id = fields.String()
    replayed = fields.Boolean(metadata={"description": "this scan_id was seen before: its first answer"})
    attendee = fields.Nested(AttendeeSchema, allow_none=True)
    first_admitted_at = fields.String(allow_none=True)
    gate = fields.String(metadata={"description": "where the person was first admitted (else this scan's gate)"})
    scanned_gate = fields.String()
    inside = fields.Boolean(allow_none=True)


class ManualAdmissionSchema(Schema):
    registration_id = Id(required=True)
    gate = fields.String(required=True, validate=validate.Length(min=1, max=admission.MAX_GATE))
    scan_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}\Z"),
                            metadata={"description": SCAN_ID_DESCRIPTION})
    device = fields.String(load_default="", validate=validate.Length(max=admission.MAX_DEVICE))
    override = fields.Boolean(load_default=False,
                              metadata={"description": "admit despite a refusal (cancelled, doors closed)"})
    reason = fields.String(load_default="", validate=validate.Length(max=admission.MAX_REASON),
                           metadata={"description": "required with override; logged"})


@blp.route("/events/<int:event_id>/checkins", methods=["POST"])
@blp.arguments(CheckinRequestSchema)
@blp.response(200, CheckinResultSchema)
@blp.alt_response(403, schema="Error", description="not a steward, supervisor or organizer of this event")
@blp.alt_response(409, schema="Error", description="scan_id_reused (the same scan_id with another token)")
@blp.alt_response(422, schema="Error", description="invalid_input / invalid_scan")
@checks_bearer_token
def check_in(payload, event_id: int):
    """Scan a ticket at a gate: exactly-once admission decided by the database. Every answer is 200 with a
    result; a refused ticket is not an HTTP error."""
    answer = decided_with_bearer(  # a scanner device: its token is checked with the scan, in a batch
        lambda bearer: scanning.scan_with_bearer(event_id, bearer, now=utcnow(), **payload))
    return answer or scanning.scan_ticket(event_id, current_user, now=utcnow(), **payload)


@blp.route("/events/<int:event_id>/checkins/manual", methods=["POST"])
@blp.arguments(ManualAdmissionSchema)
@blp.response(200, CheckinResultSchema)
@blp.alt_response(403, schema="Error", description="supervisor_only")
@blp.alt_response(422, schema="Error", description="reason_required")
@login_required
def check_in_manually(payload, event_id: int):
    """A supervisor admits someone found by search (a dead phone), or overrides a refusal with a logged reason."""
    registration_id = payload.pop("registration_id")
    outcome = admission.admit_registration(event_id, registration_id, current_user, now=utcnow(), **payload)
    answer = presenters.outcome_payload(outcome)  # before COMMIT, which would expire what it reads
    db.session.commit()
    return answer


class WalkInSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32),
                          metadata={"description": "mobile number (11 digits is taken as +86)"})
    name = fields.String(load_default="", validate=validate.Length(max=walk_ins.MAX_NAME))
    gate = fields.String(required=True, validate=validate.Length(min=1, max=admission.MAX_GATE))
    scan_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}\Z"),
                            metadata={"description": SCAN_ID_DESCRIPTION})
    device = fields.String(load_default="", validate=validate.Length(max=admission.MAX_DEVICE))


@blp.route("/events/<int:event_id>/checkins/walk-ins", methods=["POST"])
@blp.arguments(WalkInSchema)
@blp.response(200, CheckinResultSchema)
@blp.alt_response(403, schema="Error", description="supervisor_only")
@blp.alt_response(409, schema="Error", description="event_full, not_open, event_cancelled, registration_rejected")
@blp.alt_response(422, schema="Error", description="invalid_walk_in (phone, name)")
@login_required
def walk_in(payload, event_id: int):
    """A supervisor registers someone at the door (if a seat remains, decided by the database) and admits them at
    once: result "admitted" with ticket type walk_in. Someone who already has a ticket is admitted as usual."""
    outcome = walk_ins.register_walk_in(event_id, current_user, now=utcnow(), **payload)
    answer = presenters.outcome_payload(outcome)  # before COMMIT, which would expire what it reads
    db.session.commit()
    return answer


class DoorSettingsSchema(Schema):
    allow_reentry = fields.Boolean(metadata={"description": "scan out and in again; shows who is inside now"})
    opens_minutes_before = fields.Integer(validate=validate.Range(min=0, max=door.MAX_OPENS_BEFORE),
                                          metadata={"description": "the doors open this long before the start"})


class DoorSettingsStateSchema(DoorSettingsSchema):
    """As saved. The demo town opens its doors days ahead (so its tickets scan today), beyond what may be set here."""

    opens_minutes_before = fields.Integer(validate=validate.Range(min=0),
                                          metadata={"description": "the doors open this long before the start"})


def _settings_payload(config) -> dict:
    return {"allow_reentry": config.allow_reentry, "opens_minutes_before": config.opens_minutes_before}


@blp.route("/events/<int:event_id>/checkin/settings")
@blp.response(200, DoorSettingsStateSchema)
@blp.alt_response(403, schema="Error")
@login_required
def door_settings(event_id: int):
    """The door settings of an event (its door team)."""
    config = door.door_settings(event_id, current_user, now=utcnow())
    db.session.commit()
    return _settings_payload(config)


@blp.route("/events/<int:event_id>/checkin/settings", methods=["PATCH"])
@blp.arguments(DoorSettingsSchema)
@blp.response(200, DoorSettingsStateSchema)
@blp.alt_response(403, schema="Error", description="organizers of the event only")
@login_required
def change_door_settings(payload, event_id: int):
    """Organizers switch re-entry on or off and set when the doors open."""
    config = door.update_door_settings(event_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return _settings_payload(config)


class InsideSchema(Schema):
    registration_id = Id()
    name = fields.String()
    phone = fields.String(metadata={"description": "masked"})
    since = fields.String(metadata={"description": "when they last came in"})
    entries = fields.Integer()
    gate = fields.String(metadata={"description": "where they first came in"})


@blp.route("/events/<int:event_id>/checkins/inside")
@blp.response(200, InsideSchema(many=True))
@blp.alt_response(403, schema="Error", description="supervisor_only")
@login_required
def inside(event_id: int):
    """Who is inside now (admitted, not scanned out): supervisors and organizers."""
    return numbers.inside_now(event_id, current_user)


# ---- offline scanners ----------------------------------------------------------------------------------------------

class OfflineTicketSchema(Schema):
    registration_id = Id()
    version = fields.Integer(metadata={"description": "a token with another version is revoked"})
    name = fields.String()
    phone = fields.String(metadata={"description": "masked"})
    ticket_type = fields.String()
    admitted = fields.Boolean()
    inside = fields.Boolean()
    gate = fields.String(metadata={"description": "where the person was first admitted (empty: not yet)"})
    first_admitted_at = fields.String(allow_none=True)


class OfflineKitSchema(Schema):
    event_id = Id()
    public_key = fields.String(metadata={"description": "Ed25519, the 32 raw bytes in base64url"})
    key_type = fields.String()
    token_format = fields.String()
    allow_reentry = fields.Boolean()
    doors_open_at = fields.String()
    doors_close_at = fields.String()
    role = fields.String(metadata={"description": "steward | supervisor"})
    generated_at = fields.String()
    tickets = fields.List(fields.Nested(OfflineTicketSchema))


class QueuedScanSchema(Schema):
    scan_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}\Z"))
    token = fields.String(required=True, validate=validate.Length(max=4096))
    gate = fields.String(required=True, validate=validate.Length(min=1, max=admission.MAX_GATE))
    scanned_at = fields.AwareDateTime(required=True, metadata={"description": "when it was scanned (ISO 8601 with "
                                                                            "offset), by the device's clock"})
    direction = fields.String(load_default="in", validate=validate.OneOf(["in", "out"]))
    offline_result = fields.String(load_default="admitted", metadata={"description": "what the scanner showed"})


class SyncRequestSchema(Schema):
    device = fields.String(load_default="", validate=validate.Length(max=admission.MAX_DEVICE))
    scans = fields.List(fields.Nested(QueuedScanSchema), required=True,
                        validate=validate.Length(min=1, max=offline.MAX_SYNC_BATCH))


class SyncResultSchema(CheckinResultSchema):
    result = fields.String(allow_none=True, metadata={"description": CheckinResultSchema._declared_fields["result"]
                                                      .metadata["description"] + "; null when `error` refused it"})
    error = fields.Dict(allow_none=True, metadata={"description": "{code, message} when this one scan was refused "
                                                                 "(e.g. scan_id_reused); the others still count"})


class SyncResponseSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema), metadata={"description": "in the order sent"})


class CountersSchema(Schema):
    event_id = Id()
    expected = fields.Integer()
    admitted = fields.Integer()
    inside = fields.Integer()
    gates = fields.Dict(keys=fields.String(), values=fields.Integer())
    conflicts = fields.Integer()


@blp.route("/events/<int:event_id>/checkin/offline-kit")
@blp.response(200, OfflineKitSchema)
@blp.alt_response(403, schema="Error")
@login_required
def offline_kit(event_id: int):
    """What a scanner downloads to keep working offline: the event's public key and the valid tickets (minimal
    fields). Door team of the event only."""
    kit = offline.offline_kit(event_id, current_user, now=utcnow())
    db.session.commit()  # the key pair may just have been created
    response = jsonify_no_store(kit)
    return response


def jsonify_no_store(body: dict):
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"  # names of attendees: never kept by a proxy
    return response


@blp.route("/events/<int:event_id>/checkins/sync", methods=["POST"])
@blp.arguments(SyncRequestSchema)
@blp.response(200, SyncResponseSchema)
@blp.alt_response(403, schema="Error")
@login_required
def sync(payload, event_id: int):
    """Upload scans queued while offline. They are applied in the order they happened (scanned_at), each in its
    own transaction, through the same exactly-once admission as online scans; a scan id already synced answers
    as before. A ticket admitted at two gates offline: both scans are kept, the first wins, the conflict shows."""
    scans = payload["scans"]
    results: list[dict | None] = [None] * len(scans)
    now = utcnow()
    for index in offline.sync_order(scans):
        item = scans[index]
        try:
            outcome = offline.record_offline_scan(event_id, current_user, now=now, device=payload["device"],
                                                   **item)
            db.session.commit()
            results[index] = {**presenters.outcome_payload(outcome), "error": None}
        except DomainError as error:
            db.session.rollback()
            if error.status in (401, 403, 404):
                raise
            results[index] = {"scan_id": item["scan_id"], "result": None,
                              "error": {"code": error.code, "message": str(error.message)}}
    return {"results": results}


@blp.route("/events/<int:event_id>/checkins/conflicts")
@blp.response(200)
@blp.alt_response(403, schema="Error", description="supervisor_only")
@login_required
def conflicts(event_id: int):
    """Tickets admitted twice by offline scanners: every scan of each, and which one won (the first)."""
    return {"conflicts": numbers.conflicts(event_id, current_user)}


@blp.route("/events/<int:event_id>/checkins/counters")
@blp.response(200, CountersSchema)
@login_required
def counters(event_id: int):
    """Admitted / expected, inside now, per gate: what every scanner shows (and re-fetches after a reconnect)."""
    return numbers.door_counters(event_id, current_user)
