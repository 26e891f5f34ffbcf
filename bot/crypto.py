"""Identity protection: Telegram ids are stored only encrypted, found by a keyed index.

One DATA_KEY yields independent sub-keys (HKDF) for encryption, for the lookup index
and for the short hashes that logs and audit records may carry, so none of them can be
turned into another and none is ever stored in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = 1
_NONCE = 12


def generate_key() -> str:
    """A new DATA_KEY: 32 random bytes, url-safe base64 without padding."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def code_digest(code: str, purpose: str) -> bytes:
    """The hash under which a single-use code (an invitation) is stored and found.

    Codes carry 144 random bits, so a dump of their hashes cannot be turned back into a
    code without a key; leaving the key out lets a pending invitation survive a rotation
    of DATA_KEY, which no keyed hash could."""
    return hashlib.sha256(b"umid:" + purpose.encode() + b":" + code.encode()).digest()


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"umid:" + purpose).derive(
        master
    )


class IdentityCipher:
    """Encrypts, decrypts and indexes numeric Telegram ids with keys from DATA_KEY."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("master key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"identity-encryption"))
        self._index_key = _derive(master_key, b"identity-index")
        self._log_key = _derive(master_key, b"log-hash")
        self._content = AESGCM(_derive(master_key, b"content-encryption"))
        self._check_key = _derive(master_key, b"key-check")

    def encrypt_id(self, tg_id: int) -> bytes:
        """Authenticated encryption of an id; a fresh nonce each time."""
        nonce = os.urandom(_NONCE)
        plain = struct.pack(">q", tg_id)
        return bytes([_VERSION]) + nonce + self._aead.encrypt(nonce, plain, b"tg-id")

    def decrypt_id(self, blob: bytes) -> int:
        """Recover the id; ValueError if the blob was tampered with or the key is wrong."""
        if len(blob) < 1 + _NONCE + 16 or blob[0] != _VERSION:
            raise ValueError("unknown identity blob")
        try:
            plain = self._aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], b"tg-id")
        except InvalidTag as exc:
            raise ValueError("identity blob does not authenticate") from exc
        return int(struct.unpack(">q", plain)[0])

    def index(self, tg_id: int) -> bytes:
        """The keyed lookup index (HMAC-SHA256) under which a person's row is found."""
        return hmac.new(self._index_key, b"tg:%d" % tg_id, hashlib.sha256).digest()

    def fingerprint(self) -> bytes:
        """A keyed hash that tells one key from another and reveals nothing of either."""
        return hmac.new(self._check_key, b"umid:data-key", hashlib.sha256).digest()

    def log_hash(self, value: int | str) -> str:
        """A short keyed hash, stable per key, to correlate log lines without an id."""
        return hmac.new(self._log_key, str(value).encode(), hashlib.sha256).hexdigest()[:10]

    def secret_hash(self, value: str, purpose: str) -> bytes:
        """Keyed hash of a secret such as an invite code, so only the hash is stored."""
        key = _derive(self._index_key, purpose.encode())
        return hmac.new(key, value.encode(), hashlib.sha256).digest()

    def seal(self, plain: bytes, label: bytes) -> bytes:
        """Authenticated encryption of content a person sent (a family report, say).
        `label` binds the blob to its use, so one kind of blob cannot pass for another."""
        nonce = os.urandom(_NONCE)
        return bytes([_VERSION]) + nonce + self._content.encrypt(nonce, plain, label)

    def unseal(self, blob: bytes, label: bytes) -> bytes:
        """The content again; ValueError if it was tampered with or the key is wrong."""
        if len(blob) < 1 + _NONCE + 16 or blob[0] != _VERSION:
            raise ValueError("unknown content blob")
        try:
            return self._content.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], label)
        except InvalidTag as exc:
            raise ValueError("content blob does not authenticate") from exc
