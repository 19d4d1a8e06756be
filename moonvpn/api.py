"""Shared pieces of the staff REST API: errors, permissions, filters, the schema,
idempotent actions and the base viewsets.
"""

import functools
import hashlib
import json
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import ProtectedError
from django.http import JsonResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from django.views.defaults import page_not_found
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, pagination, permissions, serializers, viewsets
from rest_framework.filters import BaseFilterBackend, SearchFilter
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import IdempotencyKey

# Text in a query string or a body never holds a NUL (MariaDB and SQLite disagree about
# it and no operator types one): refused with 400, and said so in the schema. Required
# text has a character that is not a space (DRF trims it before checking it is not blank).
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"

# Component name -> JSON Schema keywords merged into it, for what a serializer's
# validate() checks across fields (e.g. "days or gigabytes").
EXTRA_COMPONENT_SCHEMA: dict[str, dict] = {}


def exception_handler(exc, context):
    # Every error is JSON with a "message" the operator's script can show as is.
    response = drf_exception_handler(exc, context)
    if response is not None:
        data = response.data
        if isinstance(data, dict) and "detail" in data:
            message = str(data["detail"])
        else:
            message = "invalid request"
        response.data = {"message": message, "errors": data}
    return response


def not_found(request, exception=None):
    """Django's 404 for a URL no route matches: JSON under /api/, as every API answer."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": str(_("Not found.")), "errors": {"detail": str(_("Not found."))}},
            status=404,
        )
    return page_not_found(request, exception)


class Conflict(exceptions.APIException):
    """The request is well formed but the row's state refuses it (already reviewed...)."""

    status_code = 409
    default_detail = _("The request conflicts with the current state of the object.")
    default_code = "conflict"


class ErrorSerializer(serializers.Serializer):
    """What every error answers."""

    message = serializers.CharField(help_text=_("One line for a person to read."))
    errors = serializers.JSONField(
        help_text=_("Per field, a list of problems; or {'detail': message}.")
    )


# --- strict input types -------------------------------------------------------------
# DRF takes "5" or 5.0 for an integer, 0 or "yes" for a boolean and 5 for a string; the
# schema says integer, boolean and string, and so do these fields (JSON's own types).


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictTextMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail(
                "invalid" if "invalid" in self.error_messages else "invalid_choice", input=data
            )
        return super().to_internal_value(data)


class StrictCharField(StrictTextMixin, serializers.CharField):
    pass


class StrictURLField(StrictTextMixin, serializers.URLField):
    pass


class StrictChoiceField(StrictTextMixin, serializers.ChoiceField):
    pass


class StrictManyRelatedField(serializers.ManyRelatedField):
    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    @classmethod
    def many_init(cls, *args, **kwargs):
        # DRF's many_init, building the strict list field.
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= 2**63 - 1:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class StaffModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose writable fields take JSON's types only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.URLField: StrictURLField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
    serializer_choice_field = StrictChoiceField


# --- permissions -----------------------------------------------------------------


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff, and the Django model permission of what the request does.

    Reading takes ``view_<model>`` (DRF's class lets any authenticated user read).
    A custom action (approve, refund, adjust-wallet...) takes the permissions named
    in its ``@action(required_perms=[...])``; a custom action that names none is
    refused, so a new action cannot slip out with the default ``add_<model>``.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }
    STANDARD_ACTIONS = {
        "list",
        "retrieve",
        "create",
        "update",
        "partial_update",
        "destroy",
        "metadata",
        None,
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        action = getattr(view, "action", None)
        if action in self.STANDARD_ACTIONS:
            return super().has_permission(request, view)
        required = getattr(view, "required_perms", None)
        if required is None:
            return False
        return user.has_perms(required)


# --- filtering -------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def refuse_nul(param: str, value: str) -> None:
    if "\x00" in value:
        raise exceptions.ValidationError({param: [_("Null characters are not allowed.")]})


def no_input(request) -> None:
    """An action that reads nothing still refuses a body that is not a JSON object."""
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": [_("Send a JSON object (or nothing).")]}
        )


def integer_range(field) -> tuple[int, int]:
    """The values the database column can hold (a bigger id can match no row)."""
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    # SQLite reports no range; its integers are 64-bit.
    return (-(2**63) if low is None else low, 2**63 - 1 if high is None else high)


class QueryParamFilter(BaseFilterBackend):
    """Exact-match filters from the query string, declared on the view.

    ``filter_params = {"panel": "panel", "status": "status"}`` maps a query parameter
    to a model field. Values are checked against the field (an id must be a number in
    the column's range, a status one of its choices), so a typo answers 400 instead of
    an empty list (or a database error), and the OpenAPI schema documents each
    parameter with its type and bounds.
    """

    def _fields(self, view):
        model = view.queryset.model
        for param, name in getattr(view, "filter_params", {}).items():
            yield param, model._meta.get_field(name)

    def filter_queryset(self, request, queryset, view):
        for param, field in self._fields(view):
            raw = request.query_params.get(param)
            if raw is None or raw == "":
                continue
            queryset = queryset.filter(**{field.attname: self._parse(param, field, raw)})
        return queryset

    def _parse(self, param, field, raw):
        refuse_nul(param, raw)
        target = field.target_field if field.is_relation else field
        if isinstance(target, models.BooleanField):
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise exceptions.ValidationError({param: [_("Use true or false.")]})
        if isinstance(target, models.IntegerField | models.AutoField):
            if not re.fullmatch(r"-?[0-9]{1,20}", raw.strip()):
                raise exceptions.ValidationError({param: [_("A whole number is required.")]})
            value = int(raw)
            low, high = integer_range(target)
            if not low <= value <= high:
                raise exceptions.ValidationError(
                    {param: [_("Out of range (%(low)s to %(high)s).") % {"low": low, "high": high}]}
                )
            return value
        try:
            value = target.to_python(raw)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({param: exc.messages}) from exc
        if field.choices and value not in {choice for choice, _label in field.flatchoices}:
            raise exceptions.ValidationError(
                {param: [_("Not one of: %s.") % ", ".join(str(c) for c, _l in field.flatchoices)]}
            )
        return value

    def get_schema_operation_parameters(self, view):
        parameters = []
        for param, field in self._fields(view):
            target = field.target_field if field.is_relation else field
            if isinstance(target, models.BooleanField):
                schema = {"type": "boolean"}
            elif isinstance(target, models.IntegerField | models.AutoField):
                low, high = integer_range(target)
                schema = {"type": "integer", "minimum": low, "maximum": high}
            else:
                schema = {"type": "string", "pattern": NO_NUL_PATTERN}
            if field.choices:
                schema = {"type": "string", "enum": [c for c, _label in field.flatchoices]}
            description = force_str(field.verbose_name)
            if field.is_relation:
                description = f"{description} (id)"
            parameters.append(
                {
                    "name": param,
                    "required": False,
                    "in": "query",
                    "description": description,
                    "schema": schema,
                }
            )
        return parameters


class StaffSearchFilter(SearchFilter):
    """DRF's search (case-insensitive, every word must match one of search_fields)."""

    max_length = 200

    def get_search_terms(self, request):
        text = request.query_params.get(self.search_param, "")
        refuse_nul(self.search_param, text)
        if len(text) > self.max_length:
            raise exceptions.ValidationError(
                {self.search_param: [_("At most %(n)s characters.") % {"n": self.max_length}]}
            )
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view):
        fields = ", ".join(field.lstrip("^=@$") for field in getattr(view, "search_fields", []))
        return [
            {
                "name": self.search_param,
                "required": False,
                "in": "query",
                "description": f"Words to find in: {fields}.",
                "schema": {
                    "type": "string",
                    "pattern": NO_NUL_PATTERN,
                    "maxLength": self.max_length,
                },
            }
        ]


class StaffPagination(pagination.PageNumberPagination):
    """Pages of PAGE_SIZE rows; every list has a stable order (the row id breaks ties)."""

    max_page = 10**9

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number (from 1); past the last page answers 404.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page},
            }
        ]

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            if not re.fullmatch(r"[0-9]{1,10}", raw) or not 1 <= int(raw) <= self.max_page:
                raise exceptions.ValidationError(
                    {self.page_query_param: [_("A page number from 1 is required.")]}
                )
        return super().paginate_queryset(queryset, request, view)


# --- idempotent actions ----------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[A-Za-z0-9._:-]{1,64}$",
    description=(
        "A name for this request (e.g. a UUID). Sent again with the same body, the "
        "request does nothing more and answers what it answered the first time (with "
        "the header Idempotent-Replayed: true). The same key with another request "
        "answers 409, and so does a retry while the first is still running."
    ),
)


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except TypeError:
        body = repr(request.data)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotent(action_method):
    """A POST that moves money or changes a panel acts once per Idempotency-Key.

    Keys are per staff user. The row is claimed before the action runs (the unique
    constraint settles a race) and keeps the answer of a successful action; a failed
    one frees its key, so a retry may act.
    """

    @functools.wraps(action_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return action_method(view, request, *args, **kwargs)
        if not IDEMPOTENCY_KEY_RE.fullmatch(key):
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: [_("Use 1 to 64 letters, digits and . _ : -")]}
            )
        fingerprint = _fingerprint(request)
        claim = replay = None
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    claim = IdempotencyKey.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint
                    )
                break
            except OperationalError:
                # MariaDB may pick this insert as a deadlock victim when the same key
                # arrives twice at once: try again.
                continue
            except IntegrityError:
                # Taken: by this request before (replay), another request (refused), or
                # one running now. A failed one frees its key, so look again if gone.
                replay = IdempotencyKey.objects.filter(user=request.user, key=key).first()
                if replay is not None:
                    break
        if claim is None:
            if replay is None or replay.status_code is None:
                raise Conflict(_("The request with this Idempotency-Key is still running."))
            if replay.fingerprint != fingerprint:
                raise Conflict(_("This Idempotency-Key was used for another request."))
            response = Response(replay.response, status=replay.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = action_method(view, request, *args, **kwargs)
        except BaseException:
            claim.delete()
            raise
        if 200 <= response.status_code < 300:
            IdempotencyKey.objects.filter(pk=claim.pk).update(
                status_code=response.status_code,
                response=json.loads(json.dumps(response.data, default=str)),
            )
        else:
            claim.delete()
        return response

    wrapper.idempotent = True
    return wrapper


# --- schema ----------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    "400": "The input is invalid; `errors` names each field's problem.",
    "401": "No token, or a wrong one.",
    "403": "Not staff, or without the permission this endpoint takes.",
    "404": "No such row (or page).",
    "409": "The row's state refuses the action (e.g. a receipt already reviewed).",
    "429": "Too many requests; see Retry-After.",
}


class StaffAutoSchema(AutoSchema):
    """drf-spectacular's schema, taught what our views do.

    - A custom action may answer with a different serializer than the one it reads
      (``@action(..., serializer_class=In, response_serializer_class=Out)``).
    - A custom action may answer with a file (``@action(..., binary_response="image/*")``).
    - A custom POST action answers 200, not 201: it acts on a row, creates none.
    - Every operation documents the errors it can answer: 401, 403 and 429 everywhere;
      400 where it reads input; 404 on one row or a page; 409 on actions and deletes
      (and where an Idempotency-Key is accepted).
    - An idempotent action documents the Idempotency-Key header.
    """

    def _action(self):
        return getattr(self.view, "action", None)

    def _action_method(self):
        action = self._action()
        return getattr(type(self.view), action, None) if action else None

    def _is_idempotent(self) -> bool:
        return bool(getattr(self._action_method(), "idempotent", False))

    def get_response_serializers(self):
        binary = getattr(self.view, "binary_response", None)
        if binary:
            return {(200, binary): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")}
        response_class = getattr(self.view, "response_serializer_class", None)
        if response_class is not None:
            return response_class
        return super().get_response_serializers()

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_idempotent():
            parameters.append(IDEMPOTENCY_PARAMETER)
        return parameters

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is None and self.method in ("POST", "PUT", "PATCH"):
            # An action without input still documents its body: an empty object.
            schema = {"type": "object", "description": "This action takes no input."}
            return {"content": {"application/json": {"schema": schema}}, "required": False}
        return body

    def _error_codes(self) -> list[str]:
        action = self._action()
        codes = ["401", "403", "429"]
        detail = "{" in self.path
        reads_input = self.method in ("POST", "PUT", "PATCH") or (
            self.method == "GET" and not detail
        )
        if reads_input:
            codes.append("400")
        if detail or action == "list":
            codes.append("404")
        if self.method == "DELETE" or action not in (
            None,
            "list",
            "retrieve",
            "create",
            "update",
            "partial_update",
        ):
            if self.method != "GET":
                codes.append("409")
        if self._is_idempotent():
            codes.append("409")
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method == "POST" and self._action() not in (None, "create"):
            if "201" in responses:
                responses["200"] = responses.pop("201")
        for code in self._error_codes():
            if code in responses:
                continue
            responses[code] = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                code,
                direction=direction,
            )
        return responses


def _merge(target: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def no_nul_in_text(result, generator, request, public):
    """Postprocessing hook: what DRF checks on text that a schema can say.

    Every free-text string holds no NUL nor surrogate; a required one is not blank.
    Then EXTRA_COMPONENT_SCHEMA is merged in.
    """

    def visit(node):
        if isinstance(node, dict):
            types = node.get("type")
            is_string = types == "string" or (isinstance(types, list) and "string" in types)
            if (
                is_string
                and "enum" not in node
                and "pattern" not in node
                and node.get("format") not in ("binary", "date-time", "date", "uri", "uuid")
            ):
                blank_refused = node.get("minLength", 0) >= 1
                node["pattern"] = NOT_BLANK_PATTERN if blank_refused else NO_NUL_PATTERN
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    schemas = result.get("components", {}).get("schemas", {})
    visit(schemas)
    for name, extra in EXTRA_COMPONENT_SCHEMA.items():
        if name in schemas:
            _merge(schemas[name], extra)
    return result


# --- the base viewset ------------------------------------------------------------


class StaffViewSetMixin:
    """What every staff API viewset shares: the schema, filters, 409 on a protected row."""

    filter_backends = [QueryParamFilter]
    filter_params: dict = {}
    pagination_class = StaffPagination
    # Set per action through @action(response_serializer_class=..., binary_response=...).
    response_serializer_class = None
    binary_response = None
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
