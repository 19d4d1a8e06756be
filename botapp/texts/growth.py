"""Growth: the free trial, invite links and rewards, the required channel."""

from html import escape

from django.utils.translation import gettext as _

from botapp.texts.common import lines, money, num

# --- the free trial -----------------------------------------------------------------------


def trial_started() -> str:
    return _("🎁 Your free trial is being set up…")


def trial_used() -> str:
    return _("You have already used your free trial. Choose a plan to buy instead:")


def no_trial() -> str:
    return _("No free trial is offered right now.")


# --- invites ----------------------------------------------------------------------------


def invite(link: str, invited: int, earned: int, percent: int) -> str:
    return lines(
        _("👥 <b>Invite friends</b>"),
        _("Share your link. When a friend you invited pays for a service, you get "
          "%(percent)s%% of it in your wallet.") % {"percent": num(percent)},
        "",
        f"<code>{escape(link)}</code>",
        "",
        _("Friends invited: %(n)s") % {"n": num(invited)},
        _("Rewards earned: %(amount)s") % {"amount": money(earned)},
    )  # fmt: skip


def referral_rewarded(amount: int, balance: int) -> str:
    return _(
        "🎉 A friend you invited paid for a service: %(amount)s was added to your wallet. "
        "Your balance is now %(balance)s."
    ) % {"amount": money(amount), "balance": money(balance)}


# --- the required channel -------------------------------------------------------------------


def join_channel(channel: str) -> str:
    return _("📢 Please join our channel %(channel)s first, then press “I joined”.") % {
        "channel": escape(channel)
    }


def not_joined_yet() -> str:
    return _("You have not joined the channel yet.")
