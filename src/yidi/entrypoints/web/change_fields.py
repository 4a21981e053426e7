"""How a compared 附件1 field of a change request (变更申请) is labelled on the pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

from yidi.entrypoints.web.i18n import Lang, translate
from yidi.filing.model.change_requests import FieldChange

# The English label of each compared 附件1 field is the filing form's or filing page's own
# catalogue entry; the Chinese page keeps the 附件1 wording the domain gives.
FIELD_LABEL_KEYS: Final[Mapping[str, str]] = {
    "name": "filings.name",
    "gender": "detail.gender",
    "insurance_type": "detail.insurance",
    "person_type": "newfiling.person_type",
    "category": "filings.category",
    "social_security_card_number": "detail.card",
    "has_second_generation_card": "newfiling.second_card",
    "home_address": "detail.home_address",
    "contact_address": "detail.contact_address",
    "phone": "newfiling.phone",
    "mobile": "newfiling.mobile",
    "destination_province_code": "newfiling.dest_province",
    "destination_prefecture_code": "newfiling.dest_prefecture",
    "destination_county_code": "newfiling.dest_county",
    "designated_institutions": "detail.institutions",
    "admitted_on": "newfiling.admitted_on",
    "signed_by": "newfiling.signed_by",
    "delegate": "detail.delegate",
    "filled_on": "detail.filled_on",
}


def field_labeller(lang: Lang) -> Callable[[FieldChange], str]:
    """The label a compared field is shown with in the page's language."""

    def label(change: FieldChange) -> str:
        if lang == "zh":
            return change.label_zh
        return translate(lang, FIELD_LABEL_KEYS[change.field])

    return label


def changed_labeller(lang: Lang) -> Callable[[Iterable[FieldChange]], str]:
    """The labels of a request's changed fields as one line of a list."""
    label = field_labeller(lang)
    separator = "、" if lang == "zh" else ", "
    return lambda changes: separator.join(label(change) for change in changes)
