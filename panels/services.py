"""Where the panel services used to live; they now have homes named for what they do.

- ``panels.sessions``: one 3x-ui client per panel (``panel_client``, ``panel_config``);
- ``panels.health``: what calls found (``panel_record_failure``/``_success``,
  ``panel_test_connection``), probes and the transitions to announce;
- ``panels.sync``: ``panel_fetch``, ``panel_apply``, ``panel_sync``, ``SyncResult``;
- ``panels.live``: ``inbound_live_clients`` (an inbound's clients as the panel has them).

Import from those. These names stay for the REST API modules, which another change
is splitting at the same time; delete this module once nothing imports it.
"""

from panels.health import panel_test_connection
from panels.live import inbound_live_clients
from panels.sync import panel_sync

__all__ = ["inbound_live_clients", "panel_sync", "panel_test_connection"]
