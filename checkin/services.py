"""Check-in's rules, by concern (issue 18): this module only gathers them for callers outside checkin/ (tests,
bench, the demo) that import `checkin.services`. New code imports the module that owns the rule:

- checkin.tickets: keys, tokens, issue and re-issue, ticket types;
- checkin.qr: QR images;
- checkin.door: door roles and door settings;
- checkin.admission: the verdict of every scan (`verdict`) and the scans decided alone;
- checkin.scanning: an online scan, in a batch (checkin.scan_batches) where one can decide it, alone otherwise;
- checkin.walk_ins: registering and admitting at the door;
- checkin.offline: offline scanners' kit and sync;
- checkin.numbers: counters, who is inside, attendance, the log, conflicts;
- checkin.presenters: answer shapes for pages and the API;
- app.locking: the SQLite writer lock that scans queue for.
"""

from __future__ import annotations

from app.locking import queue_for_sqlite_writer
from checkin.admission import (
    DOORS_CLOSE_AFTER_END,
    MAX_DEVICE,
    MAX_GATE,
    MAX_REASON,
    SCAN_ID_PATTERN,
    Door,
    ScanOutcome,
    Verdict,
    admit_registration,
    admit_ticket,
    clean_scan_input,
    door_of,
    doors_open,
    ticket_refusal,
    verdict,
    verdict_for_token,
)
from checkin.door import (
    MAX_OPENS_BEFORE,
    door_role,
    door_role_at,
    door_settings,
    event_of,
    may_scan,
    require_supervisor,
    update_door_settings,
)
from checkin.numbers import attendance, conflicts, counters, door_counters, inside_now, scan_log
from checkin.offline import CLOCK_SKEW, MAX_SYNC_BATCH, offline_kit, record_offline_scan, sync_order
from checkin.presenters import attendee, attendee_of, outcome_payload, scan_answer
from checkin.qr import qr_png, qr_svg
from checkin.scanning import scan_ticket, scan_with_bearer
from checkin.tickets import (
    MAX_TOKEN,
    TICKET_STATUSES,
    config_for,
    ensure_config,
    issue_token,
    public_key_of,
    reissue_ticket,
    ticket_for,
    ticket_registration,
    ticket_type,
)
from checkin.walk_ins import MAX_NAME, register_walk_in

__all__ = [
    "CLOCK_SKEW", "DOORS_CLOSE_AFTER_END", "MAX_DEVICE", "MAX_GATE", "MAX_NAME", "MAX_OPENS_BEFORE", "MAX_REASON",
    "MAX_SYNC_BATCH", "MAX_TOKEN", "SCAN_ID_PATTERN", "TICKET_STATUSES", "Door", "ScanOutcome", "Verdict",
    "admit_registration", "admit_ticket", "attendance", "attendee", "attendee_of", "clean_scan_input", "config_for",
    "conflicts", "counters", "door_counters", "door_of", "door_role", "door_role_at", "door_settings", "doors_open",
    "ensure_config", "event_of", "inside_now", "issue_token", "may_scan", "offline_kit", "outcome_payload",
    "public_key_of", "qr_png", "qr_svg", "queue_for_sqlite_writer", "record_offline_scan", "register_walk_in",
    "reissue_ticket", "require_supervisor", "scan_answer", "scan_log", "scan_ticket", "scan_with_bearer",
    "sync_order", "ticket_for", "ticket_refusal", "ticket_registration", "ticket_type", "update_door_settings",
    "verdict", "verdict_for_token",
]
