"""The schema library's own messages in the caller's language (issue 23).

marshmallow and webargs write their messages in English and fill in the values when the input is checked
("Must be one of: wecom, dingtalk, feishu."), often while the schemas are built at import, before any request has a
language. So the one place that builds a 422's body (app.errors) passes every message through `translate`: a message
that one of the library's templates below matches is written again from that template's translation, with the values
the library filled in; any other message (ours, made with _l in the caller's language already) is left as it is.

Every template is marked with N_ (one of pybabel's default keywords) so that extraction finds it; its Chinese is in
translations/zh_Hans_CN. tests/app/test_validation_language.py fails when a marshmallow upgrade brings a message that
no template matches.
"""

from __future__ import annotations

import re
from string import Formatter

from flask_babel import gettext


def N_(message: str) -> str:
    """gettext's conventional name for "mark for extraction, translate when used"."""
    return message


TEMPLATES = (
    # marshmallow.fields
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Invalid type."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid UUID."),
    N_("Not a valid number."),
    N_("Number too large."),
    N_("Not a valid integer."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid boolean."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid {obj_type}."),
    N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."),
    N_("Not a valid {awareness} {obj_type}."),
    N_("\"{input}\" cannot be formatted as a datetime."),
    N_("\"{input}\" cannot be formatted as a date."),
    N_("\"{input}\" cannot be formatted as a time."),
    N_("\"{input}\" cannot be formatted as a {obj_type}."),
    N_("Not a valid period of time."),
    N_("{input} cannot be formatted as a timedelta."),
    N_("Not a valid mapping type."),
    N_("Not a valid URL."),
    N_("Not a valid email address."),
    N_("Not a valid IP address."),
    N_("Not a valid IPv4 address."),
    N_("Not a valid IPv6 address."),
    N_("Not a valid IP interface."),
    N_("Not a valid IPv4 interface."),
    N_("Not a valid IPv6 interface."),
    # marshmallow.validate (Range composes its messages from the bounds' inclusivity when it is built)
    N_("Must be one of: {choices}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be less than {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
    N_("Shorter than minimum length {min}."),
    N_("Longer than maximum length {max}."),
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Must be equal to {other}."),
    N_("String does not match expected pattern."),
    N_("Invalid input."),
    N_("One or more of the choices you made was not in: {choices}."),
    N_("One or more of the choices you made was in: {values}."),
    # marshmallow.Schema and webargs
    N_("Unknown field."),
    N_("Invalid input type."),
    N_("Invalid JSON body."),
)


def _compile(template: str) -> tuple[re.Pattern, list[str]]:
    pattern, names = [], []
    for literal, field, _spec, _conversion in Formatter().parse(template):
        pattern.append(re.escape(literal))
        if field is not None:
            pattern.append(f"(?P<v{len(names)}>.*?)")
            names.append(field)
    return re.compile("".join(pattern), re.DOTALL), names


def _literal_length(template: str) -> int:
    return sum(len(literal) for literal, *_ in Formatter().parse(template))


# The most specific first: "Must be greater than or equal to {min}." before "Must be greater than {min}.".
_COMPILED = [(template, *_compile(template)) for template in sorted(TEMPLATES, key=_literal_length, reverse=True)]


def translate(message) -> str:
    """`message` in the language of this request, if it is one of the library's; unchanged (as text) otherwise."""
    if not isinstance(message, str):
        return str(message)  # a lazy string of ours: rendered in this request's language
    for template, pattern, names in _COMPILED:
        match = pattern.fullmatch(message)
        if match:
            values = {name: match.group(f"v{i}") for i, name in enumerate(names)}
            return _fill(gettext(template), values)
    return message


def translate_all(messages):
    """Every message in a marshmallow error structure (lists, dicts by field or index, nested at any depth)."""
    if isinstance(messages, dict):
        return {key: translate_all(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [translate_all(value) for value in messages]
    return translate(messages)


def _fill(template: str, values: dict[str, str]) -> str:
    """The values put back as the library wrote them (already converted: no format spec applied twice)."""
    out = []
    for literal, field, _spec, _conversion in Formatter().parse(template):
        out.append(literal)
        if field is not None:
            out.append(values.get(field, ""))
    return "".join(out)
