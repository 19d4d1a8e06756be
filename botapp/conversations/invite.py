"""Invite friends: the customer's invite link, how many came, what they earned."""

from django.conf import settings
from django.db.models import Sum

from accounts.services import referral_code
from billing.models import WalletTransaction
from botapp import keyboards, texts
from botapp import telegram as tg
from botapp.context import Ctx


def show_invite(ctx: Ctx) -> None:
    link = f"https://t.me/{tg.bot_username()}?start=ref-{referral_code(ctx.user)}"
    invited = ctx.user.referrals.count()
    earned = (
        WalletTransaction.objects.filter(
            user=ctx.user, kind=WalletTransaction.Kind.REFERRAL
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    ctx.show(
        texts.invite(link, invited, earned, settings.REFERRAL_PERCENT), keyboards.back_to_menu()
    )
