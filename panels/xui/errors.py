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

What the remote server said (a body snippet, a ``msg``) is kept apart in ``remote``:
``str(exc)`` has it, for logs; ``exc.summary`` never does, and is what is stored and
shown (``Panel.last_error``, ``Order.last_error``, console messages, the API). A panel
URL pointed at some other server must not turn MoonVPN into a way to read it.
"""

from __future__ import annotations

SUMMARY_LIMIT = 300


class PanelError(Exception):
    """Anything that went wrong while talking to a panel.

    ``message`` is in our own words (the route, the HTTP status, the kind of failure);
    ``remote`` is whatever the other side sent, for logs only.
    """

    def __init__(self, message: str = "", *, remote: str = "") -> None:
        self.message = message
        self.remote = remote
        super().__init__(f"{message}: {remote}" if remote else message)

    @property
    def summary(self) -> str:
        """The error's class and our own description, short: safe to store and show."""
        return f"{type(self).__name__}: {self.message or 'panel error'}"[:SUMMARY_LIMIT]


def error_summary(exc: BaseException) -> str:
    """What may be stored or shown of any error met while talking to a panel."""
    if isinstance(exc, PanelError):
        return exc.summary
    return str(exc)[:SUMMARY_LIMIT]


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
        text = "the panel refused the request"
        super().__init__(f"{action}: {text}" if action else text, remote=self.panel_message)


class DuplicateEmail(PanelRejected):
    """The email is already used on this panel (checked case-insensitively)."""


class LastClientError(PanelRejected):
    """v2.1.2+ panels refuse to delete the last client of an inbound.

    Callers should disable the client instead (``enable: false``).
    """


class ClientNotFound(PanelError):
    """The client, or the inbound it should live in, is not on the panel."""
