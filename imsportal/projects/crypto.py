"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``, with rotation.

``settings.ENCRYPTION_KEYS`` lists Fernet keys, newest first. The first one encrypts; any of
them decrypts (``MultiFernet``), so a key is rotated by putting a new one in front, and a
value is re-encrypted with the new key the next time its row is saved.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty: no key to encrypt secrets with")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each)"
        ) from None


setting_changed.connect(
    lambda setting, **kw: _fernet.cache_clear() if setting == "ENCRYPTION_KEYS" else None,
    weak=False,
)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Never include the token: a wrong key must not put ciphertext into logs either.
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any of ENCRYPTION_KEYS "
            "(was the key that encrypted it removed?)"
        ) from None


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python sees the plain text. Empty stays empty.

    Every save encrypts again with the first key, which is what makes rotation work.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return encrypt(value)
