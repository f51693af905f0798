"""Page forms of accounts (Flask-WTF gives each one its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.models import PERSONAS


def persona_choices():
    labels = {"founder": _l("Founder"), "investor": _l("Investor"), "engineer": _l("Engineer"), "other": _l("Other")}
    return [(key, labels[key]) for key in PERSONAS]


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired(message=_l("Please enter your mobile number."))])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(_l("Verification code"),
                       validators=[DataRequired(message=_l("Please enter the code.")), Length(min=4, max=8)])
    next = HiddenField()


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Please enter your name.")), Length(max=80)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=120)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=80)])
    persona = RadioField(_l("I am a"), choices=persona_choices, default="founder")
    interests = StringField(_l("Interests (separated by commas)"), validators=[Optional(), Length(max=400)])
    email = EmailField(_l("E-mail (optional)"), validators=[Optional(), Length(max=254)])
    next = HiddenField()
