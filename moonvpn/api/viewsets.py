"""The base viewsets every staff API viewset builds on."""

import re

from django.db.models import ProtectedError
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, viewsets

from moonvpn.api.errors import Conflict
from moonvpn.api.filters import QueryParamFilter, StaffPagination
from moonvpn.api.permissions import StaffModelPermissions


class StaffViewSetMixin:
    """What every staff API viewset shares: the schema, filters, 409 on a protected row."""

    filter_backends = [QueryParamFilter]
    filter_params: dict = {}
    pagination_class = StaffPagination
    # Set per action through @action(response_serializer_class=..., binary_response=...).
    response_serializer_class = None
    binary_response = None
    # A read that calls a panel answers 409 when the panel cannot: @action(reads_a_panel=True).
    reads_a_panel = False
    # An edit the row's state may refuse answers 409 (documented on PUT and PATCH).
    update_conflicts = False
    # Set per custom action: @action(..., required_perms=["app.codename"]).
    required_perms = None
    permission_classes = [StaffModelPermissions]
    # Ids are numbers: anything else in the URL is no row (404), never a database error.
    lookup_value_regex = "[^/.]+"

    def get_object(self):
        raw = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if not re.fullmatch(r"[0-9]{1,19}", str(raw)) or int(raw) > 2**63 - 1:
            raise exceptions.NotFound()
        return super().get_object()

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as exc:
            names = sorted(
                {force_str(obj._meta.verbose_name_plural) for obj in exc.protected_objects}
            )
            raise Conflict(
                _("%(object)s cannot be deleted while %(related)s refer to it.")
                % {"object": instance, "related": ", ".join(names)}
            ) from exc


class StaffModelViewSet(StaffViewSetMixin, viewsets.ModelViewSet):
    pass


class StaffReadOnlyViewSet(StaffViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
