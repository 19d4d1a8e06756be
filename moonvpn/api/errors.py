"""What every staff API error answers: JSON with a message, 404 included."""

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.defaults import page_not_found
from rest_framework import exceptions, serializers
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
