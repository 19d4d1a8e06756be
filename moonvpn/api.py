"""Shared pieces of the staff REST API."""

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
