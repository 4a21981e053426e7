""" "Can I settle directly?" (能否直接结算): the insured person's guided check.

A pure function of four answers — who the person is (人员类别), the kind of care
(住院 / 普通门诊 / 急诊 / 急诊72小时内转住院), whether the admission is for an
accidental injury (意外伤害) and whether the person has filed (已备案) — to a
verdict that explains itself with the rules it applied.

Every rule is a row of :data:`RULES`, quoting the Hengyang seed
(衡阳日报·人社周刊 2017, "衡阳人跨省异地就医可直接结算"), so the page can show
the person the sentence their answer rests on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import FilingCategory
from yidi.policy.national import FilingModel, national_model

HENGYANG_SEED = "衡阳日报·人社周刊 2017《衡阳人跨省异地就医可直接结算》"


class CareType(enum.Enum):
    """The kind of care the person is asking about."""

    INPATIENT = "inpatient"  # 住院
    OUTPATIENT = "outpatient"  # 普通门诊
    EMERGENCY = "emergency"  # 急诊（未转住院）
    EMERGENCY_ADMITTED_72H = "emergency_admitted_72h"  # 急诊抢救72小时内转住院

    @property
    def label_zh(self) -> str:
        return {
            "inpatient": "住院",
            "outpatient": "普通门诊",
            "emergency": "急诊（未住院）",
            "emergency_admitted_72h": "急诊抢救后72小时内转住院",
        }[self.value]

    @property
    def label_en(self) -> str:
        return {
            "inpatient": "Inpatient stay",
            "outpatient": "Ordinary outpatient visit",
            "emergency": "Emergency visit (not admitted)",
            "emergency_admitted_72h": "Emergency treatment, admitted within 72 hours",
        }[self.value]

    @property
    def is_admission(self) -> bool:
        return self in (CareType.INPATIENT, CareType.EMERGENCY_ADMITTED_72H)


class Verdict(enum.Enum):
    DIRECT = "direct"  # 可以直接结算
    DIRECT_IF_FILED_IN_TIME = "direct_if_filed_in_time"  # 三个工作日内补办备案后可以直接结算
    NOT_DIRECT = "not_direct"  # 不能直接结算：全额垫付，回参保地报销


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the seed, with the sentence it comes from."""

    code: str
    summary_zh: str
    summary_en: str
    quote: str  # the seed's own words
    source: str = HENGYANG_SEED


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "FOUR_GROUPS",
            "只有四类人群（异地安置、异地长期居住（含单位派驻）、异地转诊、异地急诊）可以申请办理异地就医直接结算。",
            "Only four groups may file for direct settlement: resettled retirees, long-term "
            "residents (including posted workers), referred patients and emergency patients.",
            "异地安置人员、异地长期居住人员、异地转诊人员、异地急诊人员四类人群持社会保障卡可申请办理“异地就医”直接结算。",
        ),
        Rule(
            "FILING_REQUIRED",
            "未办理登记备案、在异地住院的，不能直接结算，医疗费用回参保地报销。",
            "Without a filing, an admission elsewhere cannot be settled directly; "
            "the costs are reimbursed back home.",
            "未办理登记备案手续、在异地住院的参保人员，不得享受异地就医直接结算服务，其在异地住院的医疗费用回参保地报销，待遇政策按参保地相关规定执行。",
        ),
        Rule(
            "OUTPATIENT_EXCLUDED",
            "普通门（急）诊费用不纳入直接结算；因突发疾病门急诊急救或抢救后72小时内转住院的除外。",
            "Ordinary outpatient and emergency-room costs are not settled directly, unless the "
            "emergency led to an admission within 72 hours.",
            "以下两种情形不纳入“异地就医”直接结算：1、普通门（急）诊医疗费用（因突发疾病进行门急诊急救或抢救72小时内转住院的医疗费用除外）。",
        ),
        Rule(
            "EMERGENCY_72H_ADMISSION",
            "急诊抢救后72小时内转住院的费用，按住院纳入直接结算。",
            "Emergency treatment followed by an admission within 72 hours is settled "
            "directly as an inpatient stay.",
            "普通门（急）诊医疗费用（因突发疾病进行门急诊急救或抢救72小时内转住院的医疗费用除外）",
        ),
        Rule(
            "ACCIDENT_EXCLUDED",
            "意外伤害住院的医疗费用不纳入直接结算。",
            "Admissions for an accidental injury are not settled directly.",
            "2、意外伤害住院的医疗费用。",
        ),
        Rule(
            "EMERGENCY_DEFINITION",
            "在统筹区外务工、出差、探亲、旅游等，因急诊抢救需住院治疗的，属于异地急诊人员。",
            "Someone working, travelling or visiting family outside their pooling region who is "
            "admitted after emergency treatment counts as an emergency patient.",
            "异地急诊人员：指在统筹区外务工、出差、探亲、旅游等，因急诊抢救需住院治疗的参保人员。",
        ),
        Rule(
            "EMERGENCY_FILING_3_WORKING_DAYS",
            "异地急诊人员应在三个工作日内，向参保地经办机构提交收治医院出具的病情介绍资料，经确认后办理备案。",
            "Emergency patients must send the treating hospital's case papers to their home "
            "agency within three working days; once confirmed, the filing is made.",
            "异地急诊人员应在三个工作日内，向参保地经办机构提交收治医院出具的病情介绍资料，包括门（急）诊病历、入院证明等，经参保地经办机构确认后，方可办理异地就医登记备案手续。",
        ),
        Rule(
            "CONNECTED_HOSPITAL",
            "就医的医院必须是已开通跨省异地就医直接结算的定点医院，入院时出示社会保障卡。",
            "The hospital must be one connected for cross-region direct settlement; "
            "show your social security card at admission.",
            "参保人员异地就医的医院，必须是人社部门官方网站公布的异地就医直接结算的定点医院……参保人员持社会保障卡办理入院手续时，由就医地医疗机构对其进行身份识别",
        ),
        Rule(
            "ADVANCE_AND_REIMBURSE",
            "不能直接结算的住院费用由本人全额垫付：入院后拨打参保地经办机构备案电话，出院后带齐材料回参保地经办机构办理报销。",
            "Costs that cannot be settled directly are paid in full by the patient: call the home "
            "agency's filing line after admission, and claim back home with the papers after discharge.",
            "不纳入直接结算的参保人员住院医疗费用由参保人员全额垫付，参保人入院后拨打参保地医疗保险经办机构备案电话（附后），出院后带住院相关材料（包括住院收据原件、出院记录或住院病案首页、疾病诊断证明书、住院医疗费用总清单）回参保地经办机构按政策办理医保支付结算。",
        ),
    )
}

# 回参保地报销 materials, in the seed's order.
REIMBURSEMENT_MATERIALS: tuple[tuple[str, str], ...] = (
    ("住院收据原件", "original inpatient receipts"),
    ("出院记录或住院病案首页", "discharge record or the front page of the inpatient case file"),
    ("疾病诊断证明书", "certificate of diagnosis"),
    ("住院医疗费用总清单", "itemised list of all inpatient costs"),
)

# What each group files with (the seed's "登记备案" steps 1-4).
FILING_EVIDENCE: dict[FilingCategory, tuple[str, str]] = {
    FilingCategory.RETIREE_RESETTLED: (
        "安置地户口，填报《异地就医备案表》（含个人信息及定点医疗机构）",
        "household registration at the place of resettlement, and the filing form",
    ),
    FilingCategory.LONG_TERM_RESIDENT: (
        "居住地公安机关办理的《居住证》，填报《异地就医备案表》",
        "residence permit issued by the police where you live, and the filing form",
    ),
    FilingCategory.POSTED_WORKER: (
        "《单位派驻证明》，填报《异地就医备案表》",
        "your employer's posting certificate, and the filing form",
    ),
    FilingCategory.REFERRAL: (
        "本市三级协议医疗机构或最高级别专科医院开具的《转诊转院审批表》",
        "referral approval form from a level-3 contracted hospital or the top specialist hospital at home",
    ),
    FilingCategory.EMERGENCY: (
        "收治医院出具的门（急）诊病历、入院通知书等病情介绍资料",
        "the treating hospital's emergency record, admission notice and other case papers",
    ),
    FilingCategory.OTHER_TEMPORARY: (
        "有效身份凭证（医保电子凭证、身份证或社会保障卡），无需证明材料（2022年模式起）",
        "a valid credential (NHSA e-credential, ID card or social security card); no proof (2022 model)",
    ),
}


@dataclass(frozen=True, slots=True)
class EligibilityQuestion:
    """The four answers of the guided check. ``category`` None: none of the four groups.

    ``at_insured_place``: the care is at home (参保地), not at the filing's destination; the
    answer then follows the 双向享受 rule of the national rules on ``on_date``.
    """

    category: FilingCategory | None
    care_type: CareType
    accidental_injury: bool
    filed: bool
    at_insured_place: bool = False
    on_date: date | None = None
    promise_outstanding: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """Something the person should do next."""

    text_zh: str
    text_en: str


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    verdict: Verdict
    rules: tuple[Rule, ...]  # the rules that decided, most important first
    steps: tuple[Step, ...]
    show_reimbursement_materials: bool
    treated_as_category: FilingCategory | None  # differs from the question's when reinterpreted


def _rules(*codes: str) -> tuple[Rule, ...]:
    return tuple(RULES[code] for code in codes)


_CALL_AGENCY = Step(
    "入院后拨打参保地医疗保险经办机构的备案电话（见“经办机构电话”）。",
    "After admission, call your home agency's filing line (see the agency directory).",
)
_REIMBURSE = Step(
    "本人全额垫付费用，出院后带齐下列材料回参保地经办机构办理报销。",
    "Pay the bill in full yourself; after discharge take the papers below to your home agency to claim.",
)
_CARD = Step(
    "选择已开通直接结算的定点医院（见“联网医院”），入院时出示社会保障卡。",
    "Choose a connected hospital (see the hospital list) and show your social security card at admission.",
)


def _file_first(category: FilingCategory) -> Step:
    evidence_zh, evidence_en = FILING_EVIDENCE[category]
    return Step(
        f"下次异地就医前，先到参保地经办机构办理备案，需提供：{evidence_zh}。",
        f"Before your next stay, file with your home agency; bring: {evidence_en}.",
    )


def _national_rule(code: str, model: FilingModel, zh: str, en: str) -> Rule:
    return Rule(
        code,
        zh,
        en,
        model.both_ways_source,
        source=f"全国异地就医备案规则（{model.label_zh}，data/national/filing_rules.yaml）",
    )


def _at_insured_place(question: EligibilityQuestion) -> EligibilityAnswer:
    """Care at the insured place of a (possibly) filed person: 双向享受 of the day's rules."""
    if question.on_date is None:
        raise InvalidInput(
            "ELIGIBILITY_DATE_REQUIRED",
            "在参保地就医的判断须提供就医日期",
            "care at the insured place needs the date of the care",
            field="on_date",
        )
    model = national_model(question.on_date)
    category = question.category
    if not question.filed or category is None or category not in model.types:
        return EligibilityAnswer(
            Verdict.DIRECT,
            (),
            (Step("在参保地就医，按参保地本地规定结算。", "At home, the local rules apply."),),
            show_reimbursement_materials=False,
            treated_as_category=category,
        )
    if model.both_ways_for(category, question.promise_outstanding):
        rule = _national_rule(
            "BOTH_WAYS",
            model,
            "跨省异地长期居住人员备案有效期内，可在备案地和参保地双向享受待遇。",
            "Long-term residents may settle both at the destination and at home while filed.",
        )
        return EligibilityAnswer(
            Verdict.DIRECT,
            (rule,),
            (
                Step(
                    "在参保地定点医院就医时出示医保凭证，按规定直接结算。",
                    "Show your credential at a home hospital; it settles directly.",
                ),
            ),
            show_reimbursement_materials=False,
            treated_as_category=category,
        )
    outstanding = question.promise_outstanding and model.both_ways
    rule = _national_rule(
        "BOTH_WAYS_CLOSED",
        model,
        "承诺补齐的证明材料提交前，不享受双向待遇。"
        if outstanding
        else f"{model.label_zh}不实行双向享受：长期居住类备案有效期内在参保地就医不按本地待遇结算。",
        "No both-way settlement while promised documents are outstanding."
        if outstanding
        else f"The {model.era} model has no both-way settlement for long-term filings.",
    )
    step = (
        Step(
            "先向参保地经办机构补齐承诺的证明材料。",
            "First hand in the promised documents at home.",
        )
        if outstanding
        else Step(
            "先到参保地经办机构变更或撤销备案。", "First change or cancel the filing at home."
        )
    )
    return EligibilityAnswer(
        Verdict.NOT_DIRECT,
        (rule,),
        (step,),
        show_reimbursement_materials=False,
        treated_as_category=category,
    )


def check_eligibility(question: EligibilityQuestion) -> EligibilityAnswer:
    """Decide whether the stay can be settled directly at the hospital, and say why."""
    if question.at_insured_place:
        return _at_insured_place(question)
    if question.category is None and question.filed:
        raise InvalidInput(
            "ELIGIBILITY_FILED_WITHOUT_CATEGORY",
            "已备案的人员必须属于四类人群之一，请选择您的人员类别",
            "a filed person belongs to one of the four groups; choose your category",
            field="category",
        )
    care = question.care_type
    if not care.is_admission:
        return EligibilityAnswer(
            Verdict.NOT_DIRECT,
            _rules("OUTPATIENT_EXCLUDED", "ADVANCE_AND_REIMBURSE"),
            (
                Step(
                    "门诊、急诊费用本人先支付，按参保地规定回参保地办理报销。",
                    "Pay outpatient and emergency-room costs yourself and claim them back home "
                    "under your home region's rules.",
                ),
                Step(
                    "如急诊抢救后72小时内转入住院，急诊费用随住院一并直接结算。",
                    "If the emergency leads to an admission within 72 hours, it is settled "
                    "directly together with the stay.",
                ),
            ),
            show_reimbursement_materials=False,
            treated_as_category=question.category,
        )
    if question.accidental_injury:
        return EligibilityAnswer(
            Verdict.NOT_DIRECT,
            _rules("ACCIDENT_EXCLUDED", "ADVANCE_AND_REIMBURSE"),
            (_CALL_AGENCY, _REIMBURSE),
            show_reimbursement_materials=True,
            treated_as_category=question.category,
        )

    category = question.category
    reinterpreted: tuple[Rule, ...] = ()
    if category is None and care is CareType.EMERGENCY_ADMITTED_72H:
        # Someone away from home admitted after an emergency is, by the seed's definition,
        # an emergency patient — the one group that may still file after the fact.
        category = FilingCategory.EMERGENCY
        reinterpreted = _rules("EMERGENCY_DEFINITION")
    admission_rules = (
        _rules("EMERGENCY_72H_ADMISSION") if care is CareType.EMERGENCY_ADMITTED_72H else ()
    )

    if question.filed:
        return EligibilityAnswer(
            Verdict.DIRECT,
            (*admission_rules, *_rules("CONNECTED_HOSPITAL")),
            (
                _CARD,
                Step(
                    "出院时在医院直接结算，只需支付个人自付部分。",
                    "At discharge the hospital settles directly; you pay only your own share.",
                ),
            ),
            show_reimbursement_materials=False,
            treated_as_category=category,
        )
    if category is FilingCategory.EMERGENCY:
        return EligibilityAnswer(
            Verdict.DIRECT_IF_FILED_IN_TIME,
            (
                *reinterpreted,
                *_rules("EMERGENCY_FILING_3_WORKING_DAYS"),
                *admission_rules,
                *_rules("FILING_REQUIRED", "CONNECTED_HOSPITAL"),
            ),
            (
                Step(
                    "入院后三个工作日内，把收治医院出具的门（急）诊病历、入院证明等病情介绍资料交给参保地经办机构（可先电话联系）。",
                    "Within three working days of admission, send the hospital's emergency record, "
                    "admission certificate and case papers to your home agency (call them first).",
                ),
                _CARD,
                Step(
                    "超过三个工作日未办理备案的，本人全额垫付，出院后回参保地报销。",
                    "If the filing is not made within three working days, pay in full and claim back home.",
                ),
            ),
            show_reimbursement_materials=True,
            treated_as_category=category,
        )
    if category is None:
        return EligibilityAnswer(
            Verdict.NOT_DIRECT,
            _rules("FOUR_GROUPS", "FILING_REQUIRED", "ADVANCE_AND_REIMBURSE"),
            (_CALL_AGENCY, _REIMBURSE),
            show_reimbursement_materials=True,
            treated_as_category=None,
        )
    return EligibilityAnswer(
        Verdict.NOT_DIRECT,
        (*admission_rules, *_rules("FILING_REQUIRED", "ADVANCE_AND_REIMBURSE")),
        (_CALL_AGENCY, _REIMBURSE, _file_first(category)),
        show_reimbursement_materials=True,
        treated_as_category=category,
    )
