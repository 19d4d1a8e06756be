"""Staff REST API for panels, their inbounds and customers' client accounts.

One module per resource; this package names their viewsets and serializers.
"""

from panels.api.accounts import (
    AccountExtendSerializer,
    AccountNoteSerializer,
    ClientAccountSerializer,
    ClientAccountViewSet,
)
from panels.api.inbounds import InboundSerializer, InboundViewSet, LiveClientsSerializer
from panels.api.panels import (
    PanelSerializer,
    PanelSyncResultSerializer,
    PanelTestResultSerializer,
    PanelViewSet,
    active_accounts_subquery,
)

__all__ = [
    "AccountExtendSerializer",
    "AccountNoteSerializer",
    "ClientAccountSerializer",
    "ClientAccountViewSet",
    "InboundSerializer",
    "InboundViewSet",
    "LiveClientsSerializer",
    "PanelSerializer",
    "PanelSyncResultSerializer",
    "PanelTestResultSerializer",
    "PanelViewSet",
    "active_accounts_subquery",
]
