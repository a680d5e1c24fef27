"""Opaque, tamper-proof paging tokens bound to the request that issued them.

A token carries (offset, page number, issue time) and a MAC over those and a binding
string naming the caller's scope and filter, so a token replayed against another scope or
filter, edited, or older than its lifetime is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

_MAC_BYTES = 18


@dataclass(frozen=True)
class Cursor:
    """Where a token points: item offset and the 1-based number of the page it asks for."""

    offset: int
    page: int


class TokenCodec:
    """Issues and checks tokens with one secret, clock and lifetime."""

    def __init__(self, secret: bytes, clock: Callable[[], float], ttl: float) -> None:
        self._secret = secret
        self._clock = clock
        self._ttl = ttl

    def _mac(self, binding: str, payload: bytes) -> bytes:
        message = binding.encode() + b"\x00" + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, binding: str, cursor: Cursor) -> str:
        """A token for `cursor`, valid only with the same binding."""
        payload = f"{cursor.offset}.{cursor.page}.{int(self._clock())}".encode()
        raw = payload + self._mac(binding, payload)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def read(self, token: str, binding: str) -> Cursor | None:
        """The cursor of a valid token; None if malformed, foreign or expired."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, self._mac(binding, payload)):
            return None
        offset, page, issued = (int(part) for part in payload.decode().split("."))
        if issued + self._ttl < self._clock():
            return None
        return Cursor(offset, page)
