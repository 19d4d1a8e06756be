"""The console's forms for panels and inbounds.

A panel's secrets are write-only: the form never renders a stored password or API
token, leaving the field empty keeps the stored value, and a new URL needs them typed
again (Panel.save clears what is not). An inbound is only made sellable when its links
can be built.
"""

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from panels.models import Inbound, Panel


def _label(name):
    return capfirst(Panel._meta.get_field(name).verbose_name)


def _https_urls(db_field, **kwargs):
    # Operators paste host names without a scheme; panels are served over https.
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class PanelAdminForm(forms.ModelForm):
    SECRETS = {"password": "clear_password", "api_token": "clear_api_token"}

    username = forms.CharField(
        label=_label("username"),
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_label("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_password = forms.BooleanField(label=_("Clear the stored password"), required=False)
    api_token = forms.CharField(
        label=_label("api_token"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=Panel._meta.get_field("api_token").help_text,
    )
    clear_api_token = forms.BooleanField(label=_("Clear the stored API token"), required=False)

    class Meta:
        model = Panel
        fields = (
            "name",
            "location_name",
            "location_flag",
            "is_active",
            "sort_order",
            "capacity",
            "base_url",
            "username",
            "password",
            "api_token",
            "verify_tls",
            "public_host",
            "sub_base_url",
        )
        formfield_callback = _https_urls

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.SECRETS:
            # Never hand the stored secret to the widget, not even as an initial value,
            # and an untouched field does not count as a change.
            self.initial[name] = ""
            if self.instance.pk and name in self.fields:
                stored = getattr(self.instance, name)
                self.fields[name].help_text = (
                    _("A value is stored. Leave empty to keep it.")
                    if stored
                    else _("Nothing is stored.")
                )

    def clean(self):
        cleaned = super().clean()
        for name, clear in self.SECRETS.items():
            if name not in self.fields:
                continue
            if cleaned.get(clear):
                if cleaned.get(name):
                    self.add_error(clear, _("Either type a new value or clear it, not both."))
                cleaned[name] = ""
            elif not cleaned.get(name) and self.instance.pk:
                # Left empty: keep what is stored (the form never showed it).
                cleaned.pop(name, None)
        if self.instance.pk and "base_url" in self.changed_data:
            self._secrets_for_new_url(cleaned)
        return cleaned

    def _secrets_for_new_url(self, cleaned):
        # The stored password is never sent to a URL it was not entered for
        # (Panel.save clears what is not entered again); say so here, before saving.
        typed = [name for name in self.SECRETS if name in cleaned]
        if not typed:
            self.add_error(
                "password",
                _(
                    "The panel URL changed: type the password (or the API token) again. "
                    "Stored credentials are never sent to a new URL."
                ),
            )
        # The username is shown and submitted with the form: it counts as entered.
        self.instance.secrets_entered = {"username", *typed}


class InboundAdminForm(forms.ModelForm):
    class Meta:
        model = Inbound
        fields = ("is_sellable", "display_name")

    def clean(self):
        cleaned = super().clean()
        # An inbound whose links cannot be built is never sold; say so at the toggle.
        if cleaned.get("is_sellable") and self.instance.link_problem:
            self.add_error(
                "is_sellable",
                _("This inbound cannot be sold: %(problem)s")
                % {"problem": self.instance.link_problem},
            )
        return cleaned
