"""The PLENTICORE login steps (SCRAM-SHA-256, AES-GCM) against the vendor test vectors."""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import hmac

import pytest

from custom_components.solarhub.api.plenticore import scram

CLIENT_NONCE = "AAECAwQFBgcICQoL"
SERVER_NONCE = "AAECAwQFBgcICQoLoKGio6Slpqeoqaqr"
SALT = "EBESExQVFhcYGRob"
ROUNDS = 29000
TOKEN = "0123456789abcdef0123456789abcdef"
IV = "MDEyMzQ1Njc4OTo7PD0+Pw=="


@dataclass(frozen=True, kw_only=True, slots=True)
class Vector:
    """One column of the test-vector table."""

    username: str
    password: str
    service_code: str | None
    salted_password: str
    client_key: str
    stored_key: str
    proof: str
    server_signature: str
    protocol_key: str
    payload: str
    tag: str


USER = Vector(
    username="user",
    password="Pass1234",
    service_code=None,
    salted_password="accede5c650454ab9916c8591dd3fee44a4a6ca3fd12910d9403a7689330215e",
    client_key="9db212d627f6f48e8d26d365a7502460a0c2efa140682e0edc1fb6f1802cd3ac",
    stored_key="3dc4d117311f32737a4dd7054672584f39844caea46bcb5c67d4de0ac8342dca",
    proof="exFgzpexJK3lnEGHELQ7Ak2MXF7AXbvsanctq4OsRDU=",
    server_signature="0N1z88e5UcFpK4fR1oj/7JoGotO+ikiJUq/4mfEUsVw=",
    protocol_key="1b33c8a4102811071fdc1952a7055af6ababc4c837160cbeb5791f4eb4e4ffe5",
    payload="pHgYVncJ2odKjJjfIIhjYKULQdVm85e8sQRIbE0Rw38=",
    tag="Uo0jPqlXd1dOSQCjp3kBhw==",
)
MASTER = Vector(
    username="master",
    password="MASTERKEY123",
    service_code="12345",
    salted_password="788e4ba2b4ad89f1de75ec0762370e7d5f523926b1037ff328cc27546d04b06a",
    client_key="506de30da3752487030ac4af39ac18f70fcc29b5fff0e56edb84ccc42cd3ac41",
    stored_key="0e988baa86b7ddc25058f9ec22d83490efc3ae52d2dd5f6b43d553300f9352c2",
    proof="9ROLPGmqcijfP+PomDr2aBHI2M3jJiJE3hXnF7fFhlc=",
    server_signature="wufF+YkaCxOZE9qPHCveIYuzPzfonYGu7Eobry2h/xs=",
    protocol_key="c64bdf591728c3a3066a885a93e6a4bba3333625a9f9394f2a6c64ae1f47f3f3",
    payload="MWxO+Q23BffWTryf//Q9lTWXQI2EBllHjuCEinUF5H5bZj8zRsg=",
    tag="sQKE47/Uyf1t8k8jOS6HMQ==",
)
VECTORS = pytest.mark.parametrize("vector", [USER, MASTER], ids=["user", "master"])

_KEYS: dict[str, scram.ScramKeys] = {}


def keys_for(vector: Vector) -> scram.ScramKeys:
    """Derive once per column: PBKDF2 with 29000 rounds is the slow part."""
    if vector.username not in _KEYS:
        _KEYS[vector.username] = scram.derive_keys(vector.password, scram.b64decode(SALT), ROUNDS)
    return _KEYS[vector.username]


def message_for(vector: Vector) -> bytes:
    return scram.auth_message(
        username=vector.username,
        client_nonce=scram.b64decode(CLIENT_NONCE),
        server_nonce=scram.b64decode(SERVER_NONCE),
        salt=scram.b64decode(SALT),
        rounds=ROUNDS,
    )


@VECTORS
def test_salted_password(vector: Vector) -> None:
    salted = scram.salted_password(vector.password, scram.b64decode(SALT), ROUNDS)
    assert salted.hex() == vector.salted_password
    assert keys_for(vector).salted_password.hex() == vector.salted_password


@VECTORS
def test_client_key(vector: Vector) -> None:
    assert scram.client_key(bytes.fromhex(vector.salted_password)).hex() == vector.client_key
    assert keys_for(vector).client_key.hex() == vector.client_key


@VECTORS
def test_stored_key(vector: Vector) -> None:
    assert scram.stored_key(bytes.fromhex(vector.client_key)).hex() == vector.stored_key
    assert keys_for(vector).stored_key.hex() == vector.stored_key


@VECTORS
def test_server_key_is_hmac_of_salted_password(vector: Vector) -> None:
    salted = bytes.fromhex(vector.salted_password)
    assert keys_for(vector).server_key == scram.server_key(salted)
    assert len(keys_for(vector).server_key) == 32


@VECTORS
def test_auth_message(vector: Vector) -> None:
    expected = (
        f"n={vector.username},r={CLIENT_NONCE},r={SERVER_NONCE},s={SALT},i={ROUNDS},"
        f"c=biws,r={SERVER_NONCE}"
    )
    assert message_for(vector) == expected.encode()


@VECTORS
def test_client_proof(vector: Vector) -> None:
    proof = scram.client_proof(keys_for(vector), message_for(vector))
    assert scram.b64encode(proof) == vector.proof


@VECTORS
def test_server_signature(vector: Vector) -> None:
    keys, message = keys_for(vector), message_for(vector)
    assert scram.b64encode(scram.server_signature(keys, message)) == vector.server_signature
    assert scram.verify_server_signature(keys, message, scram.b64decode(vector.server_signature))


@VECTORS
def test_wrong_server_signature_is_rejected(vector: Vector) -> None:
    keys, message = keys_for(vector), message_for(vector)
    good = scram.b64decode(vector.server_signature)
    bad = bytes([good[0] ^ 1]) + good[1:]
    assert not scram.verify_server_signature(keys, message, bad)
    assert not scram.verify_server_signature(keys, message, good[:-1])
    assert not scram.verify_server_signature(keys, message, b"")


@VECTORS
def test_protocol_key(vector: Vector) -> None:
    key = scram.protocol_key(keys_for(vector), message_for(vector))
    assert key.hex() == vector.protocol_key


@VECTORS
def test_session_payload_and_tag(vector: Vector) -> None:
    plaintext = scram.session_plaintext(TOKEN, vector.service_code)
    sealed = scram.encrypt_session_payload(
        bytes.fromhex(vector.protocol_key), scram.b64decode(IV), plaintext
    )
    assert scram.b64encode(sealed.ciphertext) == vector.payload
    assert scram.b64encode(sealed.tag) == vector.tag
    assert len(sealed.tag) == scram.TAG_LENGTH


def test_session_plaintext() -> None:
    assert scram.session_plaintext(TOKEN) == TOKEN.encode()
    assert scram.session_plaintext(TOKEN, "12345") == f"{TOKEN}:12345".encode()


def test_client_proof_recovers_client_key_on_server_side() -> None:
    """What the inverter checks: proof XOR HMAC(StoredKey, AuthMessage) hashes to StoredKey."""
    keys, message = keys_for(USER), message_for(USER)
    proof = scram.client_proof(keys, message)
    signature = hmac.new(keys.stored_key, message, hashlib.sha256).digest()
    recovered = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    assert hashlib.sha256(recovered).digest() == keys.stored_key


def test_keys_repr_hides_material() -> None:
    keys = keys_for(USER)
    assert keys.client_key.hex() not in repr(keys)
    assert "redacted" in repr(keys)


def test_base64_round_trip_and_strictness() -> None:
    assert scram.b64decode(scram.b64encode(b"\x00\xff abc")) == b"\x00\xff abc"
    for bad in ("not base64!", "AAE", "ÄÖÜ"):
        with pytest.raises(ValueError, match="base64"):
            scram.b64decode(bad)


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="rounds"):
        scram.salted_password("x", b"salt", 0)
    with pytest.raises(ValueError, match="32 bytes"):
        scram.encrypt_session_payload(b"short", b"0" * 12, b"token")
