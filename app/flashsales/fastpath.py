"""The Redis gate in front of a flash sale: one Lua script decides, atomically and
without PostgreSQL, whether a buyer may take units of an item now.

Keys of item `i` (the `{i}` hash tag keeps them in one Redis Cluster slot):

    flash:{i}:left      units left (string integer)
    flash:{i}:buyers    hash buyer id -> units the buyer holds
    flash:{i}:meta      hash starts, ends (epoch ms), limit (per buyer)
    flash:{i}:req:<buyer>:<key>   the idempotency key of a taken request (a day)
    flash:{i}:back:<order id>     a cancelled order's units were given back (a week)

PostgreSQL stays the truth: `rebuild` writes these keys from the item's rows (at
approval, at the start, and by the sweep every minute), and every unit taken here is
taken again in PostgreSQL by a conditional UPDATE before an order exists. Redis only
spares the losers the database. See docs/flash-sales.md for the codes and the rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from redis import Redis


# What the take script answers.
class Take(IntEnum):
    SOLD_OUT = 0
    TAKEN = 1
    LIMIT_REACHED = 2
    NOT_STARTED = 3
    ENDED = 4
    NOT_LOADED = 5  # no keys for the item (Redis restarted, never loaded): ask PostgreSQL
    REPLAY = 6  # this buyer's idempotency key already took units: find its payment


# KEYS: left, buyers, meta, request marker. ARGV: buyer id, quantity, now (ms), marker ttl (s).
# Checks in order: loaded, window, replay, stock, per-buyer limit. The take script is these
# checks and then the take; the check script (`check`, read-only) stops where it would take.
_CHECKS_LUA = """
local meta = redis.call('HMGET', KEYS[3], 'starts', 'ends', 'limit')
if not meta[1] then return 5 end
local now = tonumber(ARGV[3])
if now < tonumber(meta[1]) then return 3 end
if now >= tonumber(meta[2]) then return 4 end
if redis.call('EXISTS', KEYS[4]) == 1 then return 6 end
local q = tonumber(ARGV[2])
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left < q then return 0 end
local had = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if had + q > tonumber(meta[3]) then return 2 end
"""
TAKE_LUA = _CHECKS_LUA + """
redis.call('DECRBY', KEYS[1], q)
redis.call('HINCRBY', KEYS[2], ARGV[1], q)
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return 1
"""
CHECK_LUA = _CHECKS_LUA + "return 1\n"

# Undo a take whose checkout failed. KEYS: left, buyers, request marker. ARGV: buyer, quantity.
UNDO_LUA = """
redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
local had = redis.call('HINCRBY', KEYS[2], ARGV[1], -tonumber(ARGV[2]))
if had < 0 then redis.call('HSET', KEYS[2], ARGV[1], 0) end
redis.call('DEL', KEYS[3])
return 1
"""

# Give a cancelled order's units back, once per order. KEYS: left, buyers, marker, meta.
# ARGV: buyer, quantity, marker ttl (s). Nothing to do when the item is not loaded
# (the next rebuild reads PostgreSQL, which has the units back already).
GIVE_BACK_LUA = """
if redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', tonumber(ARGV[3])) then return 0 end
redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
local had = redis.call('HINCRBY', KEYS[2], ARGV[1], -tonumber(ARGV[2]))
if had < 0 then redis.call('HSET', KEYS[2], ARGV[1], 0) end
return 1
"""

REQUEST_TTL_SECONDS = 86400
BACK_TTL_SECONDS = 7 * 86400
KEEP_AFTER_END = timedelta(days=1)


def _key(item_id: int, part: str) -> str:
    return f"flash:{{{int(item_id)}}}:{part}"


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class _Scripts:
    """The scripts registered on one client (redis-py loads them with EVALSHA and
    falls back to EVAL once after a restart emptied the script cache)."""

    def __init__(self, client: Redis) -> None:
        self.take = client.register_script(TAKE_LUA)
        self.check = client.register_script(CHECK_LUA)
        self.undo = client.register_script(UNDO_LUA)
        self.give_back = client.register_script(GIVE_BACK_LUA)


def _scripts(client: Redis) -> _Scripts:
    scripts = getattr(client, "_flash_scripts", None)
    if scripts is None:
        scripts = _Scripts(client)
        client._flash_scripts = scripts
    return scripts


def _take_keys(item_id: int, buyer_id: int, request_key: str) -> list[str]:
    return [_key(item_id, "left"), _key(item_id, "buyers"), _key(item_id, "meta"),
            _key(item_id, f"req:{int(buyer_id)}:{request_key}")]


def take(client: Redis, item_id: int, buyer_id: int, quantity: int, request_key: str, now: datetime) -> Take:
    """Try to take `quantity` units of the item for the buyer; raises RedisError when Redis
    does not answer (the caller falls back to PostgreSQL)."""
    return Take(int(_scripts(client).take(keys=_take_keys(item_id, buyer_id, request_key),
                                          args=[int(buyer_id), int(quantity), _ms(now), REQUEST_TTL_SECONDS])))


def check(client: Redis, item_id: int, buyer_id: int, quantity: int, request_key: str, now: datetime) -> Take:
    """What `take` would answer now, taking nothing (TAKEN: it would take). Read-only, so
    a caller may act on a refusal and leave everything else to `take`; raises RedisError
    when Redis does not answer."""
    return Take(int(_scripts(client).check(keys=_take_keys(item_id, buyer_id, request_key),
                                           args=[int(buyer_id), int(quantity), _ms(now), REQUEST_TTL_SECONDS])))


def undo(client: Redis, item_id: int, buyer_id: int, quantity: int, request_key: str) -> None:
    """Compensation: give back what `take` took for a request whose checkout failed."""
    keys = [_key(item_id, "left"), _key(item_id, "buyers"), _key(item_id, f"req:{int(buyer_id)}:{request_key}")]
    _scripts(client).undo(keys=keys, args=[int(buyer_id), int(quantity)])


def give_back(client: Redis, item_id: int, order_id: int, buyer_id: int, quantity: int) -> bool:
    """A cancelled order's units back to the item, at most once per order (its marker)."""
    keys = [_key(item_id, "left"), _key(item_id, "buyers"), _key(item_id, f"back:{int(order_id)}"),
            _key(item_id, "meta")]
    return bool(_scripts(client).give_back(keys=keys, args=[int(buyer_id), int(quantity), BACK_TTL_SECONDS]))


@dataclass(frozen=True)
class Snapshot:
    """An item as PostgreSQL has it, for `rebuild`."""

    item_id: int
    starts_at: datetime
    ends_at: datetime  # the window closed (== starts_at) when the event no longer sells
    per_buyer_limit: int
    left: int
    buyers: dict[int, int]
    returned_orders: tuple[int, ...] = ()  # orders whose units PostgreSQL has back already


def rebuild(client: Redis, snap: Snapshot) -> None:
    """Write the item's keys from PostgreSQL's numbers, all at once (MULTI/EXEC), so the
    script never sees half of them. Idempotent; expires a day after the event ends."""
    expire_at = snap.ends_at + KEEP_AFTER_END
    left, buyers, meta = _key(snap.item_id, "left"), _key(snap.item_id, "buyers"), _key(snap.item_id, "meta")
    with client.pipeline(transaction=True) as pipe:
        pipe.set(left, max(0, snap.left))
        pipe.delete(buyers)
        held = {str(b): q for b, q in snap.buyers.items() if q > 0}
        if held:
            pipe.hset(buyers, mapping=held)
        pipe.hset(meta, mapping={"starts": _ms(snap.starts_at), "ends": _ms(snap.ends_at),
                                 "limit": snap.per_buyer_limit})
        for key in (left, buyers, meta):
            pipe.expireat(key, expire_at)
        # `left` counts these orders' units already: a give-back job still on its way
        # must find its marker and do nothing.
        for order_id in snap.returned_orders:
            pipe.set(_key(snap.item_id, f"back:{int(order_id)}"), "1", ex=BACK_TTL_SECONDS)
        pipe.execute()


def left(client: Redis, item_id: int) -> int | None:
    """Units left as Redis has them (None when the item is not loaded)."""
    value = client.get(_key(item_id, "left"))
    return int(value) if value is not None else None


def buyer_units(client: Redis, item_id: int, buyer_id: int) -> int:
    return int(client.hget(_key(item_id, "buyers"), str(int(buyer_id))) or 0)
