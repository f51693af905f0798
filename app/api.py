"""The JSON API under /api/v1/, documented by flask-smorest from the code at /api/v1/openapi.json."""

from __future__ import annotations

import json

from flask import Flask
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from app.authz import login_required
from app.extensions import csrf

_blueprints: list[Blueprint] = []


def refused_unless_allowed(blp: Blueprint, *, forbidden: str, not_found: str | None = None):
    """A read for signed-in people in a role: sign-in required, and its refusals documented (401 not signed in,
    403 with who may, 404 with the error code of what was not found)."""
    def decorate(view):
        view = login_required(view)
        if not_found:
            view = blp.alt_response(404, schema="Error", description=not_found)(view)
        view = blp.alt_response(403, schema="Error", description=f"forbidden ({forbidden})")(view)
        return blp.alt_response(401, schema="Error", description="not signed in")(view)

    return decorate


class Api(SmorestApi):
    """flask-smorest, minus its own error handler: app.errors answers every error in our one format."""

    def _register_error_handlers(self):
        pass


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid_phone"},
                "message": {"type": "string", "example": "这不是有效的手机号码。"},
                "details": {"type": "object"},
            },
        }
    },
}


class ArgumentsParser(FlaskParser):
    """webargs' parser, where a body too deep for Python's JSON parser is invalid JSON (400), not a RecursionError."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "[", 0) from None  # a doc: "" would mean "no body"


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()

    def arguments(self, schema, *args, **kwargs):
        """flask-smorest's, with a schema class made an instance once: webargs would build one per request (a deep
        copy of every field, as much as a cheap request costs)."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """Declare a blueprint of the public API; it is registered (and documented) by init_app."""
    blueprint = ApiBlueprint(name, import_name, url_prefix="/api/v1" + url_prefix, description=description)
    _blueprints.append(blueprint)
    return blueprint


def init_app(app: Flask) -> None:
    api = Api(spec_kwargs={
        "info": {"description": "北杨小镇活动平台 Beiyang Events. Errors are "
                                "{\"error\": {\"code\", \"message\"}}; messages follow Accept-Language."},
    })
    api.init_app(app)
    api.spec.components.schemas["Error"] = ERROR_SCHEMA  # replaces flask-smorest's own error shape
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}, {}]
    for blueprint in _blueprints:
        if blueprint.name in app.blueprints:
            continue
        csrf.exempt(blueprint)  # cookie writes are checked in accounts.auth; bearer clients need no CSRF
        api.register_blueprint(blueprint)
    app.extensions["beiyang_api"] = api
