"""The webhook: Telegram POSTs each update here when the bot runs in webhook mode."""

import hmac
import json
import logging

from django.conf import settings
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    JsonResponse,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from botapp.updates import process_update

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request):
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    # Without a configured secret anyone could post fake updates (free top-ups, forged
    # approvals), so the view then refuses everything.
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return HttpResponseForbidden("bad secret token")
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):
        # RecursionError: JSON nested deeper than the parser goes; no update is.
        return HttpResponseBadRequest("not JSON")
    if not isinstance(data, dict) or "update_id" not in data:
        return HttpResponseBadRequest("not an update")
    # Handlers never raise (they apologise to the customer instead); a 200 stops
    # Telegram from delivering the same update again and again.
    reply = process_update(data, allow_reply=True)
    if reply is not None:
        return JsonResponse(reply)
    return HttpResponse("ok")
