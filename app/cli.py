"""Admin commands: `flask --app app users ...`, `tokens ...`, `seed-demo`, `worker`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.accounts.services import (
    create_users,
    find_user_by_phone,
    grant_role,
    import_users,
    issue_api_token,
    revoke_all_api_tokens,
    set_account_active,
)
from app.authz import scope_key
from app.db_types import utcnow
from app.demo import seed_demo
from app.errors import DomainError
from app.extensions import db
from app.tasks import run_worker

users_cli = AppGroup("users", help="Create, import and grant roles to users.")
tokens_cli = AppGroup("tokens", help="Issue and revoke API bearer tokens.")


def _fail(error: DomainError) -> None:
    db.session.rollback()
    detail = f" ({error.details})" if error.details else ""
    click.echo(f"error: {error.code}: {error.message}{detail}", err=True)
    sys.exit(1)


@users_cli.command("create")
@click.argument("phones", nargs=-1, required=True)
@click.option("--name", default="", help="Name for new users.")
@click.option("--role", type=click.Choice(["organizer", "judge", "mentor", "admin"]), help="Global role to grant.")
def create_users_command(phones, name, role):
    """Create users by phone number (11-digit Chinese mobile, or +CC...). Existing users are kept."""
    try:
        users = create_users(list(phones), name=name, role=role, now=utcnow())
        db.session.commit()
    except DomainError as error:
        _fail(error)
    for user in users:
        click.echo(f"{user.id}\t{user.phone}\t{user.name}\t{','.join(g.role for g in user.roles) or 'resident'}")


@users_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_users_command(file):
    """Import users from CSV: phone,name,company,title,persona,role,email (header row required)."""
    try:
        users = import_users(file.read(), now=utcnow())
        db.session.commit()
    except DomainError as error:
        _fail(error)
    click.echo(f"imported {len(users)} users", err=True)


@users_cli.command("grant")
@click.argument("phone")
@click.argument("role", type=click.Choice(["organizer", "judge", "mentor", "admin", "steward", "supervisor"]))
@click.option("--event", "event_id", type=int, help="Scope the role to one event.")
@click.option("--competition", "competition_id", type=int, help="Scope the role to one competition.")
def grant_command(phone, role, event_id, competition_id):
    """Grant a role, globally or for one event or competition."""
    scope = scope_key("event", event_id) if event_id else scope_key("competition", competition_id) \
        if competition_id else scope_key()
    try:
        grant_role(find_user_by_phone(phone), role, scope)
        db.session.commit()
    except DomainError as error:
        _fail(error)
    click.echo(f"granted {role} {scope or '(global)'}", err=True)


@users_cli.command("block")
@click.argument("phone")
def block_command(phone):
    """Block an account: its sessions, API tokens and open connections stop working at once."""
    _set_active(phone, False)


@users_cli.command("unblock")
@click.argument("phone")
def unblock_command(phone):
    """Unblock an account (it signs in again; old sessions and tokens that were revoked stay revoked)."""
    _set_active(phone, True)


def _set_active(phone: str, active: bool) -> None:
    try:
        set_account_active(find_user_by_phone(phone), active)
        db.session.commit()
    except DomainError as error:
        _fail(error)
    click.echo("unblocked" if active else "blocked", err=True)


@tokens_cli.command("create")
@click.argument("phones", nargs=-1, required=True)
@click.option("--name", default="cli", help="A label for the tokens (e.g. 'scanner gate A').")
def create_tokens_command(phones, name):
    """Print one bearer token per phone, in the order given, and nothing else on stdout."""
    try:
        tokens = [issue_api_token(find_user_by_phone(phone), name=name, now=utcnow()) for phone in phones]
        db.session.commit()
    except DomainError as error:
        _fail(error)
    for token in tokens:
        click.echo(token)


@tokens_cli.command("revoke")
@click.argument("phone")
def revoke_tokens_command(phone):
    """Revoke every API token of a user."""
    try:
        count = revoke_all_api_tokens(find_user_by_phone(phone), now=utcnow())
        db.session.commit()
    except DomainError as error:
        _fail(error)
    click.echo(f"revoked {count} tokens", err=True)


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Seed again even if demo data exists (adds nothing twice).")
def seed_demo_command(force):
    """Load the demo town: events, the competition, mentors, residents (once)."""
    created = seed_demo(now=utcnow(), force=force)
    db.session.commit()
    click.echo("demo data loaded" if created else "demo data already present", err=True)


@click.command("worker")
@click.option("--workers", default=4, show_default=True, help="Worker threads.")
def worker_command(workers):
    """Run a background-task worker (production: separate processes sharing Redis or PostgreSQL)."""
    if current_app.config["TASK_QUEUE"] not in ("redis", "postgres", "embedded"):
        raise click.UsageError("TASK_QUEUE must be redis, postgres or embedded to run a worker")
    run_worker(workers)


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(worker_command)
