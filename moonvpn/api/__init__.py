"""Shared pieces of the staff REST API: errors, permissions, filters, the schema,
idempotent actions and the base viewsets.

Each lives in its own module; this package names them all, so ``from moonvpn.api
import X`` (and the settings' dotted paths) keep working.
"""

from moonvpn.api.errors import Conflict, ErrorSerializer, exception_handler, not_found
from moonvpn.api.fields import (
    NO_NUL_PATTERN,
    NOT_BLANK_PATTERN,
    StaffModelSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictIntegerField,
    StrictManyRelatedField,
    StrictPrimaryKeyRelatedField,
    StrictTextMixin,
    StrictURLField,
)
from moonvpn.api.filters import (
    QueryParamFilter,
    StaffPagination,
    StaffSearchFilter,
    integer_range,
    no_input,
    refuse_nul,
)
from moonvpn.api.idempotency import (
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_RE,
    IDEMPOTENCY_PARAMETER,
    idempotent,
)
from moonvpn.api.permissions import StaffModelPermissions
from moonvpn.api.schema import (
    ERROR_DESCRIPTIONS,
    EXTRA_COMPONENT_SCHEMA,
    StaffAutoSchema,
    no_nul_in_text,
)
from moonvpn.api.viewsets import StaffModelViewSet, StaffReadOnlyViewSet, StaffViewSetMixin

__all__ = [
    "ERROR_DESCRIPTIONS",
    "EXTRA_COMPONENT_SCHEMA",
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_KEY_RE",
    "IDEMPOTENCY_PARAMETER",
    "NOT_BLANK_PATTERN",
    "NO_NUL_PATTERN",
    "Conflict",
    "ErrorSerializer",
    "QueryParamFilter",
    "StaffAutoSchema",
    "StaffModelPermissions",
    "StaffModelSerializer",
    "StaffModelViewSet",
    "StaffPagination",
    "StaffReadOnlyViewSet",
    "StaffSearchFilter",
    "StaffViewSetMixin",
    "StrictBooleanField",
    "StrictCharField",
    "StrictChoiceField",
    "StrictDateTimeField",
    "StrictIntegerField",
    "StrictManyRelatedField",
    "StrictPrimaryKeyRelatedField",
    "StrictTextMixin",
    "StrictURLField",
    "exception_handler",
    "idempotent",
    "integer_range",
    "no_input",
    "no_nul_in_text",
    "not_found",
    "refuse_nul",
]
