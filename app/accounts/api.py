"""JSON API of accounts: codes, tokens for mobile apps and scanners, the signed-in person's profile."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_babel import get_locale
from flask_login import current_user
from marshmallow import fields, validate

from app.accounts import services
from app.accounts.auth import bearer_token
from app.accounts.models import PERSONAS
from app.accounts.ratelimits import limit_code_requests, limit_code_verifications
from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.extensions import db
from app.schemas import Id, Schema

blp = api_blueprint("accounts_api", __name__, "", "Sign-in with phone and one-time code; the signed-in person.")


class CodeRequestSchema(Schema):
    phone = fields.String(required=True, metadata={"example": "13812345678"})


class CodeSentSchema(Schema):
    phone = fields.String(metadata={"description": "E.164"})
    expires_at = fields.DateTime()


class TokenRequestSchema(Schema):
    phone = fields.String(required=True)
    code = fields.String(required=True, validate=validate.Length(min=4, max=8))
    device_name = fields.String(load_default="", validate=validate.Length(max=80))


class RoleSchema(Schema):
    role = fields.String()
    scope = fields.String()


class MeSchema(Schema):
    id = Id()
    phone = fields.String()
    masked_phone = fields.String()
    name = fields.String()
    company = fields.String()
    title = fields.String()
    persona = fields.String()
    interests = fields.List(fields.String())
    email = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    profile_complete = fields.Boolean()
    roles = fields.List(fields.Nested(RoleSchema))


class TokenSchema(Schema):
    token = fields.String()
    user = fields.Nested(MeSchema)


class ProfileUpdateSchema(Schema):
    """Any subset of the profile: a field not sent keeps its value (a first profile needs a name)."""

    name = fields.String(metadata={"description": "required once, for the first profile; at most 80 characters"})
    company = fields.String(metadata={"description": "at most 120 characters; \"\" clears it"})
    title = fields.String(metadata={"description": "at most 80 characters; \"\" clears it"})
    persona = fields.String(validate=validate.OneOf(PERSONAS))
    interests = fields.List(fields.String(), metadata={"description": "at most 10; replaces the list"})
    email = fields.String(allow_none=True, metadata={"description": "null or \"\" clears it"})


@blp.route("/auth/codes", methods=["POST"])
@blp.arguments(CodeRequestSchema)
@blp.response(201, CodeSentSchema)
@blp.alt_response(400, schema="Error", description="invalid_phone")
@blp.alt_response(429, schema="Error", description="rate_limited")
@limit_code_requests
def request_code(payload):
    """Send a sign-in code by SMS."""
    issued = services.request_login_code(payload["phone"], now=utcnow(), requested_from=request.remote_addr,
                                         locale=str(get_locale()))
    db.session.commit()
    return {"phone": issued.phone, "expires_at": issued.expires_at}


@blp.route("/auth/tokens", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(400, schema="Error", description="code_wrong, code_expired, code_invalid")
@blp.alt_response(429, schema="Error", description="too_many_attempts, rate_limited")
@limit_code_verifications
def create_token(payload):
    """Exchange a phone and its code for a bearer token (mobile apps, scanner devices)."""
    user = services.verify_login_code(payload["phone"], payload["code"], now=utcnow())
    token = services.issue_api_token(user, name=payload["device_name"], now=utcnow())
    db.session.commit()
    return {"token": token, "user": user}


@blp.route("/auth/tokens/current", methods=["DELETE"])
@blp.response(204)
@login_required
def revoke_current_token():
    """Revoke the bearer token of this request (sign out a device)."""
    token = bearer_token()
    if token:
        services.revoke_api_token(token, now=utcnow())
        db.session.commit()


@blp.route("/me")
class Me(MethodView):
    decorators = [login_required]

    @blp.response(200, MeSchema)
    @blp.alt_response(401, schema="Error")
    def get(self):
        """The signed-in person, with roles."""
        return current_user

    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(400, schema="Error", description="invalid_profile")
    def patch(self, payload):
        """Fill in or change the profile: only the fields sent change."""
        user = current_user._get_current_object()
        services.update_profile(user, now=utcnow(), **payload)
        db.session.commit()
        return user
