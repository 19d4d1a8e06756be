"""Strict input types: DRF's fields taking JSON's own types only, and the base serializer."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

# Text in a query string or a body never holds a NUL (MariaDB and SQLite disagree about
# it and no operator types one): refused with 400, and said so in the schema. Required
# text has a character that is not a space (DRF trims it before checking it is not blank).
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"

# DRF takes "5" or 5.0 for an integer, 0 or "yes" for a boolean and 5 for a string; the
# schema says integer, boolean and string, and so do these fields (JSON's own types).


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictTextMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail(
                "invalid" if "invalid" in self.error_messages else "invalid_choice", input=data
            )
        return super().to_internal_value(data)


class StrictCharField(StrictTextMixin, serializers.CharField):
    pass


class StrictURLField(StrictTextMixin, serializers.URLField):
    pass


class StrictChoiceField(StrictTextMixin, serializers.ChoiceField):
    pass


class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time from the year 2000 to 9000.

    Outside that, a time zone's offset may be historical (Tehran's +03:25:44 before
    1946, which is not a valid RFC 3339 date-time) or run past the year 9999.
    """

    YEARS = (2000, 9000)

    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        low, high = self.YEARS
        if not low <= result.year <= high:
            raise serializers.ValidationError(
                _("Use a date from the year %(low)s to %(high)s.") % {"low": low, "high": high}
            )
        return result


class StrictManyRelatedField(serializers.ManyRelatedField):
    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    @classmethod
    def many_init(cls, *args, **kwargs):
        # DRF's many_init, building the strict list field.
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= 2**63 - 1:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class StaffModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose writable fields take JSON's types only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.URLField: StrictURLField,
        models.DateTimeField: StrictDateTimeField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
    serializer_choice_field = StrictChoiceField
