"""Building a reply model from a use case's result, field by field of the same name."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from yidi.kernel.money import Money

M = TypeVar("M", bound=BaseModel)


def _reply_value(value: object) -> object:
    """An amount is answered in yuan, as every amount of this API."""
    return value.yuan if isinstance(value, Money) else value


def from_attributes(model: type[M], source: object, **values: object) -> M:
    """``model`` filled from the attributes of ``source`` named like its fields.

    ``values`` give the fields that are computed, renamed or taken from elsewhere; they are
    not read from ``source``. Every other field must be an attribute of ``source`` (a missing
    one raises ``AttributeError``, it is never defaulted); a ``Money`` attribute is given in
    yuan.
    """
    copied = {
        name: _reply_value(getattr(source, name))
        for name in model.model_fields
        if name not in values
    }
    return model.model_validate({**copied, **values})
