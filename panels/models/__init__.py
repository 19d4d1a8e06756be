"""Panels' models, one module per subject; every model is importable from here.

``panel`` (Panel, ApiGeneration, PanelHealthEvent, the URL rule), ``inbound``
(Inbound), ``accounts`` (ClientAccount, AccountEvent, AccountReminder).
"""

from panels.models.accounts import (
    AccountEvent,
    AccountReminder,
    ClientAccount,
)
from panels.models.inbound import (
    Inbound,
)
from panels.models.panel import (
    ApiGeneration,
    Panel,
    PanelHealthEvent,
    validate_panel_url,
)

__all__ = [
    "AccountEvent",
    "AccountReminder",
    "ApiGeneration",
    "ClientAccount",
    "Inbound",
    "Panel",
    "PanelHealthEvent",
    "validate_panel_url",
]
