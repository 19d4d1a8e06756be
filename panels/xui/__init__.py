"""MoonVPN's client for 3x-ui panels; pure Python, no Django."""

from .client import XuiClient
from .config import API_GENERATIONS, LEGACY, V2, V3, V3_CLIENTS, PanelConfig
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
from .parsing import client_key
from .records import (
    ClientRecord,
    ClientTraffic,
    as_int,
    datetime_to_ms,
    ms_to_datetime,
    new_client_secret,
)

__all__ = [
    "API_GENERATIONS",
    "LEGACY",
    "V2",
    "V3",
    "V3_CLIENTS",
    "ClientNotFound",
    "ClientTraffic",
    "DuplicateEmail",
    "LastClientError",
    "PanelAuthError",
    "PanelConfig",
    "PanelError",
    "PanelRejected",
    "PanelUnavailable",
    "XuiClient",
    "ClientRecord",
    "as_int",
    "datetime_to_ms",
    "ms_to_datetime",
    "new_client_secret",
    "client_key",
    "error_summary",
]
