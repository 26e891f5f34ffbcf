import os

import pytest

from bot.crypto import IdentityCipher, generate_key
from config.settings import decode_data_key


def cipher() -> IdentityCipher:
    return IdentityCipher(decode_data_key(generate_key()))


def test_roundtrip_and_fresh_nonce():
    c = cipher()
    a, b = c.encrypt_id(123456789), c.encrypt_id(123456789)
    assert a != b
    assert c.decrypt_id(a) == c.decrypt_id(b) == 123456789


def test_tampering_and_wrong_key_are_detected():
    c = cipher()
    blob = bytearray(c.encrypt_id(42))
    blob[-1] ^= 1
    with pytest.raises(ValueError):
        c.decrypt_id(bytes(blob))
    with pytest.raises(ValueError):
        cipher().decrypt_id(c.encrypt_id(42))


def test_index_is_keyed_and_stable():
    c = cipher()
    assert c.index(5) == c.index(5)
    assert c.index(5) != c.index(6)
    assert c.index(5) != cipher().index(5)


def test_generated_keys_decode_to_32_bytes():
    assert len(decode_data_key(generate_key())) == 32
    with pytest.raises(ValueError):
        decode_data_key("short")


def test_sealed_content_authenticates_and_is_bound_to_its_label():
    cipher = IdentityCipher(os.urandom(32))
    blob = cipher.seal("Свидание разрешили 🙏".encode(), b"report")
    assert "Свидание".encode() not in blob
    assert cipher.unseal(blob, b"report").decode() == "Свидание разрешили 🙏"
    with pytest.raises(ValueError):
        cipher.unseal(blob, b"attachment")
    with pytest.raises(ValueError):
        cipher.unseal(blob[:-1] + bytes([blob[-1] ^ 1]), b"report")
    with pytest.raises(ValueError):
        IdentityCipher(os.urandom(32)).unseal(blob, b"report")
