"""Shared pieces of the staff REST API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import ProtectedError
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions, viewsets
from rest_framework.filters import BaseFilterBackend
from rest_framework.schemas.openapi import AutoSchema
from rest_framework.views import exception_handler as drf_exception_handler


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


class Conflict(exceptions.APIException):
    """The request is well formed but the row's state refuses it (already reviewed...)."""

    status_code = 409
    default_detail = _("The request conflicts with the current state of the object.")
    default_code = "conflict"


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


class QueryParamFilter(BaseFilterBackend):
    """Exact-match filters from the query string, declared on the view.

    ``filter_params = {"panel": "panel", "status": "status"}`` maps a query parameter
    to a model field. Values are checked against the field (an id must be a number, a
    status one of its choices), so a typo answers 400 instead of an empty list, and
    the OpenAPI schema documents each parameter with its type.
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
        target = field.target_field if field.is_relation else field
        if isinstance(target, models.BooleanField):
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise exceptions.ValidationError({param: [_("Use true or false.")]})
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
            elif isinstance(target, (models.IntegerField, models.AutoField)):
                schema = {"type": "integer"}
            else:
                schema = {"type": "string"}
            if field.choices:
                schema["enum"] = [choice for choice, _label in field.flatchoices]
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


# --- schema ----------------------------------------------------------------------


class StaffAutoSchema(AutoSchema):
    """DRF's AutoSchema, taught three things our views do.

    - A custom action may answer with a different serializer than the one it reads
      (``@action(..., serializer_class=In, response_serializer_class=Out)``).
    - A custom action may answer with a file (``@action(..., binary_response="image/*")``).
    - A custom POST action answers 200, not 201: it changes a row, creates none.
    - Operation ids are built without the optional ``inflection`` package: every
      model name here pluralises by adding "s".
    """

    def get_response_serializer(self, path, method):
        response_class = getattr(self.view, "response_serializer_class", None)
        if response_class is not None:
            return response_class(context=self.view.get_serializer_context())
        return super().get_response_serializer(path, method)

    def get_responses(self, path, method):
        binary = getattr(self.view, "binary_response", None)
        if binary:
            content = {binary: {"schema": {"type": "string", "format": "binary"}}}
            return {"200": {"content": content, "description": ""}}
        responses = super().get_responses(path, method)
        action = getattr(self.view, "action", None)
        if method == "POST" and action not in (None, "create") and "201" in responses:
            responses["200"] = responses.pop("201")
        return responses

    def get_operation_id_base(self, path, method, action):
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if model is None or self.operation_id_base is not None:
            return super().get_operation_id_base(path, method, action)
        return f"{model.__name__}s" if action == "list" else model.__name__


# --- the base viewset ------------------------------------------------------------


class StaffViewSetMixin:
    """What every staff API viewset shares: the schema, filters, 409 on a protected row."""

    schema = StaffAutoSchema()
    filter_backends = [QueryParamFilter]
    filter_params: dict = {}
    # Set per action through @action(response_serializer_class=..., binary_response=...).
    response_serializer_class = None
    binary_response = None
    # Set per custom action: @action(..., required_perms=["app.codename"]).
    required_perms = None
    permission_classes = [StaffModelPermissions]

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
