"""What any input must be before it reaches the database: ids within the columns' range, text that can be stored,
JSON that is not absurdly deep. Checked once, here, for every URL, form, query string, JSON body and socket payload;
views never have to think about it (and a 500 is never the answer to what a client sent).

- Ids: PostgreSQL's INTEGER ends at 2^31-1 (it raises NumericValueOutOfRange beyond), SQLite's at 2^63-1
  (OverflowError). One bound for both: MAX_ID. The URL converter `int` is bounded (a larger id is simply not
  found: 404), and so are the API schemas' ids and integers (app.schemas: 422).
- Text: PostgreSQL refuses NUL ("\\x00") in text and a lone surrogate cannot be encoded at all. Query strings,
  form fields and path segments are checked before any view runs; JSON bodies by the API's base schema.
- JSON deeper than MAX_JSON_DEPTH is refused with 400 (Python's parser would raise RecursionError, a 500).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from app.errors import DomainError

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite stores more, one bound keeps both the same
MIN_INT = -(2**31)
MAX_JSON_DEPTH = 32

TEXT_NUL = _l("This text contains a NUL character, which cannot be stored.")
TEXT_SURROGATE = _l("This text contains an invalid character (a lone UTF-16 surrogate).")


# ---- ids ----------------------------------------------------------------------------------------------------------

class IdConverter(IntegerConverter):
    """`<int:id>` in every route: an unsigned integer up to MAX_ID, so a larger one matches nothing (404) instead of
    reaching the database. Registered as the `int` converter, so routes need no change; the OpenAPI document shows
    the bound (flask-smorest reads `max`)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002  (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(value) -> int:
    """An id from a loose source (a form field, a query string, a socket payload): a positive int up to MAX_ID, given
    as an int or a string of digits. ValueError otherwise, so `request.args.get("x", type=parse_id)` gives None."""
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        number = int(value.strip())
    else:
        raise ValueError("not an id")
    if not 1 <= number <= MAX_ID:
        raise ValueError("id out of range")
    return number


def ids_from(values: Iterable) -> list[int]:
    """The valid ids among `values` (form checkboxes, a comma list), in order; the rest are ignored."""
    ids = []
    for value in values:
        try:
            ids.append(parse_id(value))
        except ValueError:
            continue
    return ids


# ---- text ---------------------------------------------------------------------------------------------------------

def text_problem(value: str | None):
    """Why this text cannot be stored (a message), or None. A multipart part without a name has the key None:
    nothing to store, nothing wrong."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return TEXT_NUL
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return TEXT_SURROGATE
    return None


def text_problems(data) -> dict[str, str]:
    """Every string (and mapping key) in a JSON-like value that cannot be stored: {"title": message,
    "members.1.name": message}. Iterative, so any depth is safe; deeper than MAX_JSON_DEPTH answers 400."""
    problems: dict[str, str] = {}
    stack: list[tuple[str, object, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            abort_too_deep()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                problems.setdefault(path or "_schema", problem)
        elif isinstance(value, dict):
            for key, item in value.items():
                key_text = str(key)
                problem = text_problem(key_text)
                if problem:
                    problems.setdefault(path or "_schema", problem)
                    continue
                stack.append((f"{path}.{key_text}" if path else key_text, item, depth + 1))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), item, depth + 1))
    return problems


def abort_too_deep():
    raise DomainError("invalid_json", _l("The body is nested too deeply."), 400)


def _check_request_text():
    """Before any view: query strings, form fields and path segments hold storable text. A bad query or form field
    answers 422 naming it; a bad path segment names nothing that can exist (404)."""
    req = request._get_current_object()  # looked up once: every request passes here
    for value in (req.view_args or {}).values():
        if isinstance(value, str) and text_problem(value):
            abort(404)
    problems: dict[str, str] = {}
    sources = [req.args] if req.environ.get("QUERY_STRING") else []  # no query string: nothing to parse
    if req.method not in ("GET", "HEAD"):
        sources.append(req.form)
    for source in sources:
        for key, values in source.lists():
            problem = text_problem(key) or next(filter(None, (text_problem(v) for v in values)), None)
            if problem:
                problems.setdefault(key if not text_problem(key) else "_schema", str(problem))
    if problems:
        raise DomainError("invalid_input", _l("Some fields contain characters that cannot be stored: %(fields)s.",
                                              fields=", ".join(problems)), 422, fields=problems)


# ---- JSON ---------------------------------------------------------------------------------------------------------

class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body too deep for Python's parser is invalid JSON (400), not a RecursionError (500)."""

    def loads(self, s, **kwargs):
        try:
            return json.loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.before_request(_check_request_text)
