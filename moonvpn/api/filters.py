"""Filters, search and pagination of the staff API's lists, and input guards."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination
from rest_framework.filters import BaseFilterBackend, SearchFilter

from moonvpn.api.fields import NO_NUL_PATTERN

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
    the column's range, a status one of its choices), so a typo (or an empty value)
    answers 400 instead of an empty list (or a database error), and the OpenAPI schema
    documents each parameter with its type and bounds.
    """

    def _fields(self, view):
        model = view.queryset.model
        for param, name in getattr(view, "filter_params", {}).items():
            yield param, model._meta.get_field(name)

    def filter_queryset(self, request, queryset, view):
        for param, field in self._fields(view):
            raw = request.query_params.get(param)
            if raw is None:
                continue
            # An empty value is checked like any other: "?is_active=" is no boolean (400).
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
