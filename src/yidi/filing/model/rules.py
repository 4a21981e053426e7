"""Per-category filing rules (备案人员类别规则) as data.

One :class:`FilingRule` per :class:`~yidi.kernel.insurance.FilingCategory`:
who may file, which evidence must be handed in (and who must have issued it),
how long an approved filing is valid by default, whether a hospital must be
one of the institutions named on the form, and the submission deadline. Each
rule quotes the seed sentence it comes from. The numbers come from the national
rule data (``data/national/filing_rules.yaml``, era 2017): the emergency deadline
and, where the seeds state none, the validity periods (``local_validity``, local
illustrative choices quoted in ``validity_note``). An agency configures them in
that data, or passes its own table (``rules=``) to the lifecycle functions
instead of :data:`DEFAULT_FILING_RULES`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from yidi.filing.model.evidence import EvidenceKind
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.policy.national import FilingModel, LocalValidity, national_era


class IssuerPlace(enum.Enum):
    """Where the issuer of a document must sit."""

    ANYWHERE = "anywhere"
    DESTINATION = "destination"  # 就医地/安置地/居住地
    INSURED_PLACE = "insured_place"  # 参保地


class ValidityStart(enum.Enum):
    """What day an approved filing starts to count from."""

    APPROVAL = "approval"  # 经办日期
    ADMISSION = "admission"  # 入院日期（急诊：备案追溯至入院当日）


@dataclass(frozen=True, slots=True)
class EvidenceRequirement:
    """One document requirement: any one of ``kinds`` satisfies it."""

    kinds: tuple[EvidenceKind, ...]
    issuer_place: IssuerPlace = IssuerPlace.ANYWHERE
    # A hospital issuer must be of one of these levels, unless it is the top
    # specialist hospital of its place and ``top_specialist_allowed`` is set.
    issuer_levels: tuple[HospitalLevel, ...] = ()
    top_specialist_allowed: bool = False

    @property
    def label_zh(self) -> str:
        names = "或".join(kind.label_zh for kind in self.kinds)
        place = {
            IssuerPlace.ANYWHERE: "",
            IssuerPlace.DESTINATION: "（须由就医地（安置地、居住地）出具）",
            IssuerPlace.INSURED_PLACE: "（须由参保地出具）",
        }[self.issuer_place]
        issuer = ""
        if self.issuer_levels:
            levels = "、".join(level.label_zh for level in self.issuer_levels)
            issuer = f"（出具医院须为{levels}协议医疗机构"
            issuer += "或最高级别专科医院）" if self.top_specialist_allowed else "）"
        return names + place + issuer


@dataclass(frozen=True, slots=True)
class FilingRule:
    category: FilingCategory
    who_may_file_zh: str
    evidence: tuple[EvidenceRequirement, ...]
    insurance_types: frozenset[InsuranceType]
    # None: any person type may file under this category.
    person_types: frozenset[PersonType] | None
    # Hospitals: must admission happen at one of the institutions named on the form?
    restricted_to_named_institutions: bool
    validity_start: ValidityStart
    # None: open-ended (valid until changed or cancelled).
    validity_days: int | None
    validity_note: str
    # Working days after admission to hand in the materials (None: no deadline).
    submission_working_days: int | None
    requires_admission_date: bool
    source: str


_HENGYANG = "衡阳日报《衡阳人跨省异地就医可直接结算》（2017）"
_HENAN = "豫人社办函〔2017〕63号"

_BOTH_INSURANCE_TYPES: Final = frozenset(InsuranceType)


def filing_rules(model: FilingModel) -> Mapping[FilingCategory, FilingRule]:
    """The per-category table with the deadlines and local validities of ``model``'s data.

    The emergency deadline is the era's (异地急诊人员应在三个工作日内提交材料, 2017:
    ``emergency.filing_deadline_working_days``); the validity days are the era's
    ``local_validity`` (local, illustrative choices: the 2017 documents fix none).
    """
    local = {category: _local_validity(model, category) for category in model.types}
    return MappingProxyType(
        {
            FilingCategory.RETIREE_RESETTLED: FilingRule(
                category=FilingCategory.RETIREE_RESETTLED,
                who_may_file_zh="在异地定居且户籍迁入定居地的退休人员",
                evidence=(
                    EvidenceRequirement(
                        (EvidenceKind.HOUSEHOLD_REGISTRATION,), issuer_place=IssuerPlace.DESTINATION
                    ),
                ),
                insurance_types=_BOTH_INSURANCE_TYPES,
                person_types=frozenset({PersonType.EMPLOYEE_RETIRED}),
                restricted_to_named_institutions=False,
                validity_start=ValidityStart.APPROVAL,
                validity_days=local[FilingCategory.RETIREE_RESETTLED].days,
                validity_note=local[FilingCategory.RETIREE_RESETTLED].note,
                submission_working_days=None,
                requires_admission_date=False,
                source=(
                    f"{_HENGYANG}：异地安置人员：指在异地定居且户籍迁入定居地的退休人员；"
                    "在异地定居并且户籍迁入定居地的退休人员需提供安置地户口，填报《异地就医备案表》"
                    "（含个人信息及定点医疗机构）。"
                    f"{_HENAN}：以异地安置退休人员为重点。"
                ),
            ),
            FilingCategory.LONG_TERM_RESIDENT: FilingRule(
                category=FilingCategory.LONG_TERM_RESIDENT,
                who_may_file_zh="在异地长期居住生活且符合参保地规定的人员",
                evidence=(
                    EvidenceRequirement(
                        (EvidenceKind.RESIDENCE_PERMIT,), issuer_place=IssuerPlace.DESTINATION
                    ),
                ),
                insurance_types=_BOTH_INSURANCE_TYPES,
                person_types=None,
                restricted_to_named_institutions=False,
                validity_start=ValidityStart.APPROVAL,
                validity_days=local[FilingCategory.LONG_TERM_RESIDENT].days,
                validity_note=local[FilingCategory.LONG_TERM_RESIDENT].note,
                submission_working_days=None,
                requires_admission_date=False,
                source=(
                    f"{_HENGYANG}：在异地长期居住生活的参保人员需提供居住地公安机关办理的《居住证》，"
                    "填报《异地就医备案表》（含个人信息及定点医疗机构）。"
                ),
            ),
            FilingCategory.POSTED_WORKER: FilingRule(
                category=FilingCategory.POSTED_WORKER,
                who_may_file_zh="用人单位派驻异地工作且符合参保地规定的职工医保参保人员",
                evidence=(EvidenceRequirement((EvidenceKind.POSTING_CERTIFICATE,)),),
                # Only employers post people, so only employee insurance has them.
                insurance_types=frozenset({InsuranceType.EMPLOYEE}),
                person_types=frozenset({PersonType.EMPLOYEE_ACTIVE}),
                restricted_to_named_institutions=False,
                validity_start=ValidityStart.APPROVAL,
                validity_days=local[FilingCategory.POSTED_WORKER].days,
                validity_note=local[FilingCategory.POSTED_WORKER].note,
                submission_working_days=None,
                requires_admission_date=False,
                source=(
                    f"{_HENGYANG}：用人单位派驻异地工作的参保人员需提供《单位派驻证明》。"
                    f"{_HENAN}：常驻异地工作人员。"
                ),
            ),
            FilingCategory.REFERRAL: FilingRule(
                category=FilingCategory.REFERRAL,
                who_may_file_zh="因参保地医疗技术或设备条件所限，需转外地住院治疗的人员",
                evidence=(
                    EvidenceRequirement(
                        (EvidenceKind.REFERRAL_APPROVAL,),
                        issuer_place=IssuerPlace.INSURED_PLACE,
                        issuer_levels=(HospitalLevel.LEVEL_3,),
                        top_specialist_allowed=True,
                    ),
                ),
                insurance_types=_BOTH_INSURANCE_TYPES,
                person_types=None,
                # The referral names the receiving hospital: the filing covers that one.
                restricted_to_named_institutions=True,
                validity_start=ValidityStart.APPROVAL,
                validity_days=local[FilingCategory.REFERRAL].days,
                validity_note=local[FilingCategory.REFERRAL].note,
                submission_working_days=None,
                requires_admission_date=False,
                source=(
                    f"{_HENGYANG}：异地转诊人员：须持我市三级协议医疗机构或最高级别专科医院开具的"
                    "《转诊转院审批表》，由参保地经办机构办理备案。"
                ),
            ),
            FilingCategory.EMERGENCY: FilingRule(
                category=FilingCategory.EMERGENCY,
                who_may_file_zh="在统筹区外务工、出差、探亲、旅游等，因急诊抢救需住院治疗的参保人员",
                evidence=(
                    EvidenceRequirement(
                        (EvidenceKind.EMERGENCY_RECORD, EvidenceKind.ADMISSION_NOTICE),
                        issuer_place=IssuerPlace.DESTINATION,
                    ),
                ),
                insurance_types=_BOTH_INSURANCE_TYPES,
                person_types=None,
                # The filing is for the stay at the receiving hospital.
                restricted_to_named_institutions=True,
                validity_start=ValidityStart.ADMISSION,
                validity_days=local[FilingCategory.EMERGENCY].days,
                validity_note=local[FilingCategory.EMERGENCY].note,
                submission_working_days=model.emergency_filing_deadline_working_days,
                requires_admission_date=True,
                source=(
                    f"{_HENGYANG}：异地急诊人员应在三个工作日内，向参保地经办机构提交收治医院出具的"
                    "病情介绍资料，包括门（急）诊病历、入院证明等，经参保地经办机构确认后，"
                    "方可办理异地就医登记备案手续。"
                ),
            ),
            FilingCategory.OTHER_TEMPORARY: FilingRule(
                category=FilingCategory.OTHER_TEMPORARY,
                who_may_file_zh="除转诊、急诊抢救以外的跨省临时外出就医人员（2022年模式起）",
                # 2022 list of materials: the credential only, no proof document.
                evidence=(),
                insurance_types=_BOTH_INSURANCE_TYPES,
                person_types=None,
                restricted_to_named_institutions=False,
                validity_start=ValidityStart.APPROVAL,
                validity_days=None,
                validity_note=(
                    "有效期按全国规则数据（data/national/filing_rules.yaml）：不少于6个月，"
                    "有效期内可多次就诊；参保地可延长"
                ),
                submission_working_days=None,
                requires_admission_date=False,
                source=(
                    "其他临时外出就医人员：仅需有效身份凭证（清单2023版） "
                    "https://xixinews.com/m/view.php?aid=50320"
                ),
            ),
        }
    )


def _local_validity(model: FilingModel, category: FilingCategory) -> LocalValidity:
    validity = model.type_rule(category).local_validity
    if validity is None:
        raise InvalidInput(
            "NATIONAL_RULE_INVALID",
            f"{model.label_zh}未给出“{category.label_zh}”的本地有效期（local_validity）",
            f"the {model.era} rules give no local validity for {category.value}",
            field=f"types.{category.value}.local_validity",
        )
    return validity


#: The table on the 2017 era's data: the filings at the agency keep that emergency deadline
#: on every date (the 2022 model lets the hospital's 急诊 flag count as filed).
DEFAULT_FILING_RULES: Final[Mapping[FilingCategory, FilingRule]] = filing_rules(
    national_era("2017")
)


def rule_for(
    category: FilingCategory, rules: Mapping[FilingCategory, FilingRule] | None = None
) -> FilingRule:
    return (rules or DEFAULT_FILING_RULES)[category]
