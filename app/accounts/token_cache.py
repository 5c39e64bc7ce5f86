"""Bearer tokens' owners mirrored in Redis, so the flash-sale buy endpoint can tell who
is calling without PostgreSQL (its losers are answered from Redis alone).

Guarantees:
- An entry `apitoken:<sha256>` -> user id is written when the token is issued and when
  PostgreSQL has just vouched for it, always with SET NX (a fill never overwrites
  anything), and expires with the token, after API_TOKEN_CACHE_SECONDS at the latest.
- Every revocation (`revoke_api_token`; `bump_session_version`: sign-out everywhere,
  password change or reset, ban, role change, account deletion) writes a tombstone over
  the token's entry before its transaction commits. A tombstone means "ask PostgreSQL",
  and a fill racing the revocation cannot replace it (NX), so once the revocation has
  committed the cache never vouches for the token again. A revocation that rolls back
  leaves a tombstone: that token is checked in PostgreSQL until it expires. Only a token
  issued in the very transaction race with a `bump_session_version` of the same user could
  keep an entry; it expires within API_TOKEN_CACHE_SECONDS.
- The cache only ever decides a refusal. The one reader (app/web/api/security.py,
  `cached_token_required`) gives the view the user id; before anything is bought or a
  payment is shown, the token is checked again in PostgreSQL (`BearerIdentity.user()`),
  so a revoked token can at worst be told `sold_out`, never buy.
- Redis errors are a miss (PostgreSQL decides), never an error; after one, this app
  leaves the cache alone for TOKEN_CACHE_RECHECK_SECONDS so a hung Redis does not cost
  every request a socket timeout.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from redis.exceptions import RedisError

from app.core.clock import utcnow
from app.core.jobs import get_redis

log = logging.getLogger(__name__)
TOMBSTONE = b"-"
RECHECK_SECONDS = 5.0
DOWN_UNTIL = "token_cache_down_until"  # in app.extensions: this app stops asking Redis until then (monotonic)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _key(token_digest: str) -> str:
    return f"apitoken:{token_digest}"


def _client():
    if time.monotonic() < current_app.extensions.get(DOWN_UNTIL, 0.0):
        return None
    return get_redis()


def _failed(exc: BaseException) -> None:
    recheck = float(current_app.config.get("TOKEN_CACHE_RECHECK_SECONDS", RECHECK_SECONDS))
    if current_app.extensions.get(DOWN_UNTIL, 0.0) < time.monotonic():
        log.warning("API token cache: Redis unavailable (%s); PostgreSQL decides for %.0f s",
                    type(exc).__name__, recheck)
    current_app.extensions[DOWN_UNTIL] = time.monotonic() + recheck


def remember(token_digest: str, user_id: int, expires_at: datetime) -> None:
    """Vouch for a live token (never over a tombstone or another entry)."""
    ttl_ms = min(int((expires_at - utcnow()).total_seconds() * 1000),
                 int(current_app.config.get("API_TOKEN_CACHE_SECONDS", 86400)) * 1000)
    client = _client()
    if client is None or ttl_ms <= 0:
        return
    try:
        client.set(_key(token_digest), str(int(user_id)), px=ttl_ms, nx=True)
    except RedisError as exc:
        _failed(exc)


def forget(token_digests: Iterable[str]) -> None:
    """Tombstones over these tokens' entries: PostgreSQL decides for them from now on."""
    keys = [_key(d) for d in token_digests]
    client = get_redis()  # even while the breaker is open: a revocation must try
    if client is None or not keys:
        return
    ttl = int(current_app.config.get("API_TOKEN_CACHE_SECONDS", 86400))
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, TOMBSTONE, ex=ttl)
            pipe.execute()
    except RedisError as exc:
        # The entries stay: losers may be answered for this token until they expire,
        # but every purchase checks PostgreSQL, where the token is revoked.
        log.error("API token cache: could not forget %d token(s) (%s)", len(keys), exc)


def user_id(token_digest: str) -> int | None:
    """The user the cache vouches for, or None: ask PostgreSQL."""
    client = _client()
    if client is None:
        return None
    try:
        value = client.get(_key(token_digest))
    except RedisError as exc:
        _failed(exc)
        return None
    if value is None or value == TOMBSTONE:
        return None
    return int(value)
