"""Updates an attacker could forge (with the webhook secret, or an old bot's button)."""

import json

import pytest

from billing import services as billing
from billing.models import Order, WalletTransaction
from botapp.tests.conftest import JOHN, SARA, SECRET

pytestmark = pytest.mark.django_db


def _fund(user, amount=1_000_000):
    billing.wallet_credit(
        user_id=user.pk,
        amount=amount,
        kind=WalletTransaction.Kind.TOPUP,
        idempotency_key=f"fund:{user.pk}",
    )


def test_a_forged_wallet_payment_of_a_topup_order_charges_nothing(bot, tg, card, django_user_model):
    bot.send(JOHN, "/start")
    john = django_user_model.objects.get(telegram_id=JOHN)
    _fund(john, 500_000)
    topup = billing.order_create_topup(user=john, amount=200_000)

    bot.press_data(JOHN, f"pw:{topup.pk}")

    john.refresh_from_db()
    topup.refresh_from_db()
    assert john.balance == 500_000
    assert WalletTransaction.objects.filter(user=john, kind="purchase").count() == 0
    assert topup.status == Order.Status.AWAITING_RECEIPT
    assert tg.callback_answers[-1]["show_alert"]
    assert "cannot be paid from the wallet" in tg.callback_answers[-1]["text"]


def test_the_payment_service_refuses_a_topup_whoever_calls_it(django_user_model):
    user = django_user_model.objects.create_user(username="u", telegram_id=5)
    _fund(user, 500_000)
    topup = billing.order_create_topup(user=user, amount=200_000)
    with pytest.raises(billing.OrderNotPayable):
        billing.order_pay_from_wallet(order_id=topup.pk, user_id=user.pk)
    user.refresh_from_db()
    assert user.balance == 500_000


def _post_raw(client, body: bytes):
    return client.post(
        "/telegram/webhook/",
        data=body,
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )


def test_deeply_nested_json_is_refused_without_a_traceback(client, tg, caplog):
    body = b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = _post_raw(client, body)
    assert response.status_code == 400
    assert "Traceback" not in caplog.text
    assert "RecursionError" not in caplog.text


def test_a_button_answer_goes_to_the_presser_not_the_chat_named_in_the_message(bot, tg):
    bot.send(SARA, "/start")
    bot.send(JOHN, "/start")
    sara_before = len(tg.chat_history(SARA))
    john_before = len(tg.chat_history(JOHN))
    update = tg.callback_update(JOHN, "h", first_name="John", language_code="en")
    # The forged part: the message the button sits on claims to be in Sara's chat.
    sara_message = tg.chat_history(SARA)[-1]
    update["callback_query"]["message"] = json.loads(json.dumps(sara_message))
    bot.post(update)

    history = tg.chat_history(SARA)
    assert len(history) == sara_before
    assert history[-1] == sara_message  # not edited either
    assert len(tg.chat_history(JOHN)) == john_before + 1  # the help, sent to John
