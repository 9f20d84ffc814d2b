"""Client side of the PLENTICORE login: SCRAM-SHA-256 followed by one AES-256-GCM step.

Pure functions, no I/O. Binary values travel as standard, padded base64 on the wire; these
functions take and return bytes, :func:`b64encode`/:func:`b64decode` convert.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_LENGTH = 32
TAG_LENGTH = 16


@dataclass(frozen=True, kw_only=True, slots=True)
class ScramKeys:
    """The keys derived from one password, salt and round count."""

    salted_password: bytes
    client_key: bytes
    stored_key: bytes
    server_key: bytes

    def __repr__(self) -> str:
        """Never show key material (it is as good as the password)."""
        return "ScramKeys(<redacted>)"


@dataclass(frozen=True, kw_only=True, slots=True)
class EncryptedPayload:
    """AES-256-GCM output as the inverter wants it: ciphertext and tag apart."""

    ciphertext: bytes
    tag: bytes


def b64encode(data: bytes) -> str:
    """Encode as standard, padded base64 text."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode strict standard base64; :class:`ValueError` on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as err:
        raise ValueError(f"not valid base64: {err}") from err


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def salted_password(password: str, salt: bytes, rounds: int) -> bytes:
    """PBKDF2-HMAC-SHA256 of the password, 32 bytes. CPU-heavy: run it in an executor."""
    if rounds < 1:
        raise ValueError("rounds must be positive")
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds, KEY_LENGTH)


def client_key(salted: bytes) -> bytes:
    """``HMAC(SaltedPassword, "Client Key")``."""
    return _hmac(salted, b"Client Key")


def stored_key(client: bytes) -> bytes:
    """``SHA256(ClientKey)``."""
    return hashlib.sha256(client).digest()


def server_key(salted: bytes) -> bytes:
    """``HMAC(SaltedPassword, "Server Key")``."""
    return _hmac(salted, b"Server Key")


def derive_keys(password: str, salt: bytes, rounds: int) -> ScramKeys:
    """Derive all keys of one login; the PBKDF2 inside makes this the slow part."""
    salted = salted_password(password, salt, rounds)
    client = client_key(salted)
    return ScramKeys(
        salted_password=salted,
        client_key=client,
        stored_key=stored_key(client),
        server_key=server_key(salted),
    )


def auth_message(
    *, username: str, client_nonce: bytes, server_nonce: bytes, salt: bytes, rounds: int
) -> bytes:
    """Build the SCRAM AuthMessage in the inverter's layout (channel binding ``biws``)."""
    server = b64encode(server_nonce)
    return (
        f"n={username},r={b64encode(client_nonce)},r={server},s={b64encode(salt)},"
        f"i={rounds},c=biws,r={server}"
    ).encode()


def client_proof(keys: ScramKeys, message: bytes) -> bytes:
    """``ClientKey XOR HMAC(StoredKey, AuthMessage)``."""
    signature = _hmac(keys.stored_key, message)
    return bytes(a ^ b for a, b in zip(keys.client_key, signature, strict=True))


def server_signature(keys: ScramKeys, message: bytes) -> bytes:
    """Compute what a genuine server answers: ``HMAC(ServerKey, AuthMessage)``."""
    return _hmac(keys.server_key, message)


def verify_server_signature(keys: ScramKeys, message: bytes, received: bytes) -> bool:
    """Check the server proved it knows the password (constant-time comparison)."""
    return hmac.compare_digest(server_signature(keys, message), received)


def protocol_key(keys: ScramKeys, message: bytes) -> bytes:
    """``HMAC(StoredKey, "Session Key" + AuthMessage + ClientKey)``, the AES-256 key."""
    return _hmac(keys.stored_key, b"Session Key" + message + keys.client_key)


def session_plaintext(token: str, service_code: str | None = None) -> bytes:
    """Build what create_session encrypts: ``token``, or ``token:service_code`` (installer)."""
    text = token if service_code is None else f"{token}:{service_code}"
    return text.encode()


def encrypt_session_payload(key: bytes, iv: bytes, plaintext: bytes) -> EncryptedPayload:
    """AES-256-GCM without associated data, the 16-byte tag split from the ciphertext."""
    if len(key) != KEY_LENGTH:
        raise ValueError("the protocol key must be 32 bytes")
    sealed = AESGCM(key).encrypt(iv, plaintext, None)
    return EncryptedPayload(ciphertext=sealed[:-TAG_LENGTH], tag=sealed[-TAG_LENGTH:])
