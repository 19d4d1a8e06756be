"""The OpenAPI schema: drf-spectacular taught what our views do, and its postprocessing hook."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from moonvpn.api.errors import ErrorSerializer
from moonvpn.api.fields import NO_NUL_PATTERN, NOT_BLANK_PATTERN
from moonvpn.api.idempotency import IDEMPOTENCY_PARAMETER

# Component name -> JSON Schema keywords merged into it, for what a serializer's
# validate() checks across fields (e.g. "days or gigabytes").
EXTRA_COMPONENT_SCHEMA: dict[str, dict] = {}

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
        if self._is_idempotent() or getattr(self.view, "reads_a_panel", False):
            codes.append("409")
        if self.method in ("PUT", "PATCH") and getattr(self.view, "update_conflicts", False):
            codes.append("409")  # the row's state may refuse an edit
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
