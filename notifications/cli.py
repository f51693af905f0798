"""`flask --app app notifications ...`: VAPID keys for Web Push (generated once, kept in configuration), and sending
what is due by hand."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from notifications.channels.webpush import generate_vapid_keys
from notifications.tasks import drain

notifications_cli = AppGroup("notifications", help="Web Push keys and message delivery.")


@notifications_cli.command("vapid-keys")
def vapid_keys_command():
    """Print a new VAPID key pair as environment lines. Generate once; keep both in the server's configuration
    (changing them later invalidates every browser's subscription)."""
    private, public = generate_vapid_keys()
    click.echo(f"VAPID_PRIVATE_KEY={private}")
    click.echo(f"VAPID_PUBLIC_KEY={public}")


@notifications_cli.command("deliver")
def deliver_command():
    """Send every delivery that is due now, in this process, and print how many were sent."""
    click.echo(f"sent {drain()}")


def init_app(app: Flask) -> None:
    app.cli.add_command(notifications_cli)
