"""The console's discount codes and free trials."""

import pytest
from django.urls import reverse

from billing.models import DiscountCode, Order, Plan, TrialClaim

pytestmark = pytest.mark.django_db


def _form(**extra):
    data = {
        "code": "spring",
        "is_active": "on",
        "percent_off": "",
        "amount_off": "",
        "max_uses": "100",
        "max_uses_per_user": "1",
        "for_new": "on",
        "for_renewal": "on",
        "use_rows-TOTAL_FORMS": "0",
        "use_rows-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_operator_adds_a_code_which_is_stored_upper_case(admin_client):
    url = reverse("admin:billing_discountcode_add")
    response = admin_client.post(url, _form(percent_off="15"))
    assert response.status_code == 302, response.content[:2000]
    code = DiscountCode.objects.get()
    assert (code.code, code.percent_off, code.for_addon) == ("SPRING", 15, False)
    # A second code that differs only in case is refused.
    response = admin_client.post(url, _form(code="SPRING", amount_off="1000"))
    assert response.status_code == 200 and DiscountCode.objects.count() == 1


def test_a_code_needs_exactly_one_of_percent_or_amount(admin_client):
    url = reverse("admin:billing_discountcode_add")
    said = "یا درصد تخفیف بدهید یا مبلغ تخفیف."  # the console is in Persian
    response = admin_client.post(url, _form())
    assert said in response.content.decode()
    response = admin_client.post(url, _form(percent_off="10", amount_off="5000"))
    assert said in response.content.decode()
    assert not DiscountCode.objects.exists()


def test_free_trials_are_listed_in_the_console(admin_client, django_user_model):
    plan = Plan.objects.create(name="Trial", duration_days=1, traffic_gb=1, price=0, is_trial=True)
    user = django_user_model.objects.create(username="tg_1", telegram_id=1, first_name="Sara")
    order = Order.objects.create(user=user, plan=plan, amount=0, status="fulfilled")
    TrialClaim.objects.create(user=user, order=order)
    response = admin_client.get(reverse("admin:billing_trialclaim_changelist"))
    assert response.status_code == 200
    assert "Sara" in response.content.decode()
