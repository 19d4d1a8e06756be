"""MoonVPN's client for 3x-ui panels; pure Python, no Django."""

from .client import (
    API_GENERATIONS,
    LEGACY,
    V2,
    V3,
    V3_CLIENTS,
    PanelConfig,
    XuiClient,
    client_key,
)
from .errors import (
    ClientNotFound,
    DuplicateEmail,
    LastClientError,
    PanelAuthError,
    PanelError,
    PanelRejected,
    PanelUnavailable,
    error_summary,
)

__all__ = [
    "API_GENERATIONS",
    "LEGACY",
    "V2",
    "V3",
    "V3_CLIENTS",
    "ClientNotFound",
    "DuplicateEmail",
    "LastClientError",
    "PanelAuthError",
    "PanelConfig",
    "PanelError",
    "PanelRejected",
    "PanelUnavailable",
    "XuiClient",
    "client_key",
    "error_summary",
]
