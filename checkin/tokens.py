"""Ticket tokens: what a ticket's QR code carries. Pure functions, no database.

A token is base64url (no padding) of 77 bytes: a 13-byte payload — format (1), event id, registration id and ticket
version (4 bytes each, big-endian) — followed by the payload's Ed25519 signature (64) under the event's key. No
personal data; 103 characters, a QR code of version 6 at error correction M, which phone cameras read well.
Anyone with the event's public key can verify a token offline; only the server, holding the private key, can make
one. Changing any byte (the event, the registration, the version) breaks the signature; a bumped version makes an
old, correctly signed token "revoked" (the server and the offline list know the current version).

Private keys are sealed at rest with AES-GCM under a key derived (HKDF-SHA256) from SECRET_KEY, the event id
bound as associated data, so a database dump alone cannot mint tickets and a sealed key cannot be moved to another
event.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = 1
_PAYLOAD = struct.Struct(">BIII")
SIGNATURE_LENGTH = 64
TOKEN_BYTES = _PAYLOAD.size + SIGNATURE_LENGTH
TOKEN_LENGTH = (TOKEN_BYTES * 4 + 2) // 3  # base64url without padding: 103 characters
MAX_ID = 2**31 - 1  # ids are 32-bit signed integers in the database: larger claims are not ours
_SEAL_INFO = b"beiyang-events checkin ticket keys v1"


@dataclass(frozen=True)
class TicketClaims:
    event_id: int
    registration_id: int
    version: int


class MalformedToken(ValueError):
    """Not a ticket of ours at all (wrong length, alphabet or format)."""


# ---- base64url ---------------------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    if not isinstance(text, str) or not text or any(c not in _B64URL for c in text):
        raise MalformedToken("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken("not base64url") from None


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# ---- keys --------------------------------------------------------------------------------------------------------

def new_key_pair() -> tuple[Ed25519PrivateKey, str]:
    """A fresh key pair: the private key object and the public key as base64url of its 32 raw bytes."""
    private = Ed25519PrivateKey.generate()
    return private, public_key_text(private.public_key())


def public_key_text(public: Ed25519PublicKey) -> str:
    return b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


@functools.lru_cache(maxsize=256)
def load_public_key(text: str) -> Ed25519PublicKey:
    """The key object of a public key's text (kept: a door verifies every scan with the same key)."""
    return Ed25519PublicKey.from_public_bytes(unb64url(text))


def _sealing_key(secret_key: str) -> AESGCM:
    material = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(material)
    return AESGCM(key)


def seal_private_key(private: Ed25519PrivateKey, *, event_id: int, secret_key: str) -> str:
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    nonce = os.urandom(12)
    sealed = _sealing_key(secret_key).encrypt(nonce, raw, f"event:{int(event_id)}".encode())
    return b64url(nonce + sealed)


def unseal_private_key(sealed: str, *, event_id: int, secret_key: str) -> Ed25519PrivateKey:
    """Raises cryptography's InvalidTag when SECRET_KEY changed or the sealed key belongs to another event."""
    data = unb64url(sealed)
    raw = _sealing_key(secret_key).decrypt(data[:12], data[12:], f"event:{int(event_id)}".encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


# ---- tokens ------------------------------------------------------------------------------------------------------

def sign_token(private: Ed25519PrivateKey, claims: TicketClaims) -> str:
    for value in (claims.event_id, claims.registration_id, claims.version):
        if not 0 <= int(value) <= MAX_ID:
            raise ValueError("ticket field out of range")
    payload = _PAYLOAD.pack(FORMAT, claims.event_id, claims.registration_id, claims.version)
    return b64url(payload + private.sign(payload))


def read_claims(token: str) -> tuple[TicketClaims, bytes, bytes]:
    """Split a token into its claims, the signed payload and the signature, without verifying. Raises
    MalformedToken for anything that is not shaped like one of our tokens."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        raise MalformedToken("wrong length")
    data = unb64url(token)
    if len(data) != TOKEN_BYTES or b64url(data) != token:  # one canonical spelling per token
        raise MalformedToken("wrong length")
    payload, signature = data[:_PAYLOAD.size], data[_PAYLOAD.size:]
    fmt, event_id, registration_id, version = _PAYLOAD.unpack(payload)
    if fmt != FORMAT:
        raise MalformedToken("unknown format")
    if max(event_id, registration_id, version) > MAX_ID:
        raise MalformedToken("out of range")
    return TicketClaims(event_id, registration_id, version), payload, signature


def signature_valid(public: Ed25519PublicKey, payload: bytes, signature: bytes) -> bool:
    try:
        public.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def token_digest(token: str) -> str:
    """A short fingerprint of what was scanned, kept in the log (never the token itself)."""
    return hashlib.sha256(str(token).encode("utf-8", "replace")).hexdigest()[:32]
