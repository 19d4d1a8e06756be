"""Traffic and time arithmetic on a client's limits: pure, no panel, no database.

Milliseconds since the epoch and bytes, as 3x-ui stores them (0 means unlimited).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from panels.xui.records import ms_to_datetime  # noqa: F401 - part of this module's vocabulary

DAY_MS = 86_400_000


@dataclass(frozen=True)
class PanelState:
    """A client as its panel sees it now."""

    expiry_ms: int  # 0 never, < 0 "starts at first use"
    total: int  # bytes, 0 unlimited
    used: int
    enable: bool

    def out_of_time(self, now_ms: int) -> bool:
        return 0 < self.expiry_ms <= now_ms

    def out_of_traffic(self) -> bool:
        return self.total > 0 and self.used >= self.total


@dataclass(frozen=True)
class Target:
    expiry_ms: int
    total: int
    reset_usage: bool = False


def to_int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def extend_expiry(expiry_ms: int, days: int, now: int) -> int:
    if days <= 0 or expiry_ms == 0:
        return expiry_ms
    if expiry_ms < 0:
        return expiry_ms - days * DAY_MS
    return max(expiry_ms, now) + days * DAY_MS


def add_traffic(state: PanelState, extra_bytes: int) -> int:
    if extra_bytes <= 0 or state.total == 0:
        return state.total
    return max(state.total, state.used) + extra_bytes


def renewal_target(
    state: PanelState,
    *,
    days: int,
    traffic_bytes: int,
    now: int,
    carry_over: bool,
    reset_usage: bool,
) -> Target:
    expiry = extend_expiry(state.expiry_ms, days, now)
    if state.total == 0 or traffic_bytes == 0:
        return Target(expiry, 0, reset_usage)
    remaining = max(state.total - state.used, 0) if carry_over else 0
    kept_usage = 0 if reset_usage else state.used
    return Target(expiry, kept_usage + remaining + traffic_bytes, reset_usage)


def extension_target(state: PanelState, *, days: int, traffic_bytes: int, now: int) -> Target:
    return Target(extend_expiry(state.expiry_ms, days, now), add_traffic(state, traffic_bytes))


def enable_after(state: PanelState, target: Target, *, used_after: int, now: int, force: bool):
    """Whether the client is enabled once the target is applied."""
    if force:
        return True
    exhausted = state.out_of_time(now) or state.out_of_traffic()
    after = PanelState(target.expiry_ms, target.total, used_after, True)
    usable = not (after.out_of_time(now) or after.out_of_traffic())
    return usable and (state.enable or exhausted)
