"""The floor: what any Telegram bot must do per webhook update, and nothing more.

Checks the secret, parses the JSON, reads the user with one query, makes one Bot API
call (edits the pressed button's message, as a menu step does) and answers the button
in the JSON reply. Served by the same gunicorn and Django (same settings, middleware,
database) as MoonVPN's webhook, under its own URLconf: `bench.floor_settings`, which
production never loads. bench/bot_bench.py measures both in one run.
"""

import hmac
import json

import requests
from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User

_session = requests.Session()
_session.trust_env = False


@csrf_exempt
def webhook(request):
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), settings.TELEGRAM_WEBHOOK_SECRET.encode()):
        return HttpResponseForbidden("bad secret token")
    update = json.loads(request.body)
    query = update.get("callback_query")
    sender = query["from"] if query else update["message"]["from"]
    user = User.objects.filter(telegram_id=sender["id"]).first()
    text = f"{user.first_name if user else ''}: {query['data'] if query else 'hello'}"
    if query is None:  # a text message: one sendMessage, nothing to answer
        _call("sendMessage", chat_id=sender["id"], text=text)
        return HttpResponse("ok")
    message = query["message"]
    _call(
        "editMessageText",
        chat_id=message["chat"]["id"],
        message_id=message["message_id"],
        text=text,
        reply_markup=KEYBOARD,
    )
    return JsonResponse({"method": "answerCallbackQuery", "callback_query_id": query["id"]})


KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Menu", "callback_data": "m"}],
        [{"text": "Buy", "callback_data": "b"}],
    ]
}


def _call(method: str, **params) -> None:
    url = f"{settings.TELEGRAM_API_URL}/bot{settings.TELEGRAM_BOT_TOKEN}/{method}"
    _session.post(url, json=params, timeout=10)


urlpatterns = [path("telegram/webhook/", webhook)]
