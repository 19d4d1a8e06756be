"""One 3x-ui client per panel, reused so its login session is reused too.

Every module that calls a panel gets its client here (``panel_client``); the HTTP
details live in panels.xui.
"""

import hashlib
import threading

from django.conf import settings

from panels.models import Panel
from panels.xui import (
    PanelConfig,
    XuiClient,
)

_clients: dict[int, tuple[str, XuiClient]] = {}
_clients_lock = threading.Lock()


def _fingerprint(panel: Panel) -> str:
    # Editing the URL or credentials in the admin must drop the old session.
    raw = "\0".join(
        [panel.base_url, panel.username, panel.password, panel.api_token, str(panel.verify_tls)]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def panel_config(panel: Panel) -> PanelConfig:
    return PanelConfig(
        base_url=panel.base_url,
        username=panel.username or "",
        password=panel.password or "",
        api_token=panel.api_token or "",
        verify_tls=panel.verify_tls,
        api_generation=panel.api_generation,
        connect_timeout=settings.PANEL_CONNECT_TIMEOUT,
        read_timeout=settings.PANEL_READ_TIMEOUT,
        deadline=settings.PANEL_CALL_DEADLINE,
    )


def panel_client(panel: Panel) -> XuiClient:
    """The panel's client, reused across calls so its login session is reused too."""
    fingerprint = _fingerprint(panel)
    with _clients_lock:
        cached = _clients.get(panel.pk)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        client = XuiClient(panel_config(panel))
        if panel.pk is not None:
            _clients[panel.pk] = (fingerprint, client)
        return client


def panel_clients_reset() -> None:
    with _clients_lock:
        _clients.clear()


def panel_remember_generation(panel: Panel, client: XuiClient) -> None:
    # The client re-detects when a panel is upgraded; keep what it found.
    if client.api_generation and client.api_generation != panel.api_generation:
        panel.api_generation = client.api_generation
        Panel.objects.filter(pk=panel.pk).update(api_generation=client.api_generation)
