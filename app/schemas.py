"""The API's base schema: every request and response schema derives from it (import Schema from here, not from
marshmallow), so what app.inputs says about ids, integers and text holds for every field without each one saying it.

- `Id()`: a positive integer up to MAX_ID (the database's INTEGER), documented with its bounds.
- Any other Integer field without its own Range is bounded to the database's INTEGER range (documented too).
- Text: every string in the input (values and keys, at any depth) must be storable (no NUL, no lone surrogate);
  the 422 names the field ("title", "members.1.name").
"""

from __future__ import annotations

from marshmallow import Schema as MarshmallowSchema
from marshmallow import ValidationError, fields, pre_load, validate

from app.inputs import MAX_ID, MIN_INT, text_problems


class Id(fields.Integer):
    """An id: an integer from 1 to MAX_ID."""

    def __init__(self, **kwargs):
        extra = kwargs.pop("validate", None)
        validators = [validate.Range(min=1, max=MAX_ID)]
        if extra is not None:
            validators.extend(extra if isinstance(extra, list | tuple) else [extra])
        super().__init__(validate=validators, **kwargs)


def _bounded(field: fields.Field) -> None:
    """An Integer field (or a List of them) with no upper bound of its own gets the database's INTEGER range."""
    if isinstance(field, fields.List):
        _bounded(field.inner)
        return
    if isinstance(field, fields.Dict) and field.value_field is not None:
        _bounded(field.value_field)
        return
    if isinstance(field, fields.Integer) and not any(isinstance(v, validate.Range) and v.max is not None
                                                     for v in field.validators):
        field.validators = [*field.validators, validate.Range(min=MIN_INT, max=MAX_ID)]


class Schema(MarshmallowSchema):
    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        _bounded(field_obj)
        super().on_bind_field(field_name, field_obj)

    @pre_load(pass_collection=True)
    def _storable_text(self, data, **kwargs):
        problems = text_problems(data)
        if problems:
            raise ValidationError({path: [str(message)] for path, message in problems.items()})
        return data


__all__ = ["Id", "Schema", "ValidationError", "fields", "validate"]
