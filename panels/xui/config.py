"""Which panel, how to get in, and the API generations a 3x-ui panel may speak."""

from __future__ import annotations

from dataclasses import dataclass, field

LEGACY = "legacy"
V2 = "v2"
V3 = "v3"
V3_CLIENTS = "v3_clients"

API_GENERATIONS: tuple[tuple[str, str], ...] = (
    (LEGACY, "x-ui (alireza0) / 3x-ui before 1.4.6 — xui/API"),
    (V2, "3x-ui 1.4.6 – 2.9.x — panel/api, cookie"),
    (V3, "3x-ui 3.0.x — CSRF or API token"),
    (V3_CLIENTS, "3x-ui 3.1+ — panel/api/clients"),
)
_GENERATION_VALUES = frozenset(value for value, _ in API_GENERATIONS)
CSRF_GENERATIONS = frozenset({V3, V3_CLIENTS})


@dataclass
class PanelConfig:
    """Where a panel is and how to get in. ``base_url`` includes the web base path."""

    base_url: str
    username: str = ""
    password: str = field(default="", repr=False)
    api_token: str = field(default="", repr=False)
    verify_tls: bool = True
    api_generation: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # Wall-clock bound on one request's answer. read_timeout is per socket read: a
    # panel dripping a byte a second never trips it (one call was held 66 s).
    deadline: float = 30.0

    def __post_init__(self) -> None:
        # Every panel route hangs off the base path, so a missing slash would
        # silently drop its last segment when routes are appended.
        self.base_url = self.base_url.strip()
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        if self.api_generation and self.api_generation not in _GENERATION_VALUES:
            raise ValueError(f"unknown api_generation {self.api_generation!r}")
