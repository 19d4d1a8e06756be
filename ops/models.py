"""What the scheduler did: one row per job, read by /healthz and the admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    name = models.CharField(_("job"), max_length=64, unique=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, help_text=_("Empty when it worked."))

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self):
        return self.name
