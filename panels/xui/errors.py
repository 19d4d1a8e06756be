"""Typed failures of a 3x-ui panel, as the rest of MoonVPN sees them.

The split follows the decision a caller has to make, not the HTTP detail:

* ``PanelUnavailable`` — temporary: try again later, and before retrying a
  write, look the client up (``XuiClient.find_client``) because a write that
  timed out may still have happened on the panel.
* ``PanelAuthError`` — the stored credentials or API token are wrong; an
  operator has to fix the server record, retrying will not help.
* ``PanelRejected`` — the panel understood the request and said no
  (``success: false``); ``panel_message`` keeps its words for the operator.
* ``ClientNotFound`` — the client (or its inbound) is not on the panel.
"""

from __future__ import annotations


class PanelError(Exception):
    """Anything that went wrong while talking to a panel."""


class PanelUnavailable(PanelError):
    """The panel did not answer usefully: refused, timed out, 5xx or garbage."""


class PanelAuthError(PanelError):
    """The panel refused our username/password or API token."""


class PanelRejected(PanelError):
    """The panel answered ``success: false``; ``panel_message`` is its text."""

    def __init__(self, panel_message: str, *, action: str = "") -> None:
        # Panels end raw error texts with a newline (Go's Sprintln); strip it
        # so messages read well in logs and admin pages.
        self.panel_message = (panel_message or "").strip()
        self.action = action
        text = self.panel_message or "panel refused the request"
        super().__init__(f"{action}: {text}" if action else text)


class DuplicateEmail(PanelRejected):
    """The email is already used on this panel (checked case-insensitively)."""


class LastClientError(PanelRejected):
    """v2.1.2+ panels refuse to delete the last client of an inbound.

    Callers should disable the client instead (``enable: false``).
    """


class ClientNotFound(PanelError):
    """The client, or the inbound it should live in, is not on the panel."""
