"""Shared insurance vocabulary: insurance type, person type, hospital level, filing category.

Every layer (policy files, the engine, storage, the API) imports these enums from here,
so a code such as ``"310"`` or ``"retiree_resettled"`` means the same thing everywhere.
"""

from __future__ import annotations

import enum


class InsuranceType(enum.StrEnum):
    """险种: the basic insurance scheme a person belongs to (national ``insutype``)."""

    EMPLOYEE = "310"  # 职工基本医疗保险
    RESIDENT = "390"  # 城乡居民基本医疗保险

    @property
    def policy_folder(self) -> str:
        """The folder name used under ``policies/<region>/``."""
        return "employee" if self is InsuranceType.EMPLOYEE else "resident"

    @property
    def label_zh(self) -> str:
        return "职工医保" if self is InsuranceType.EMPLOYEE else "城乡居民医保"

    @property
    def annex_code(self) -> str:
        """The code printed on the Henan notice's forms (附件1/附件2): 1 职工医保, 2 城乡居民医保."""
        return "1" if self is InsuranceType.EMPLOYEE else "2"

    @classmethod
    def from_annex_code(cls, code: str) -> InsuranceType:
        return {"1": cls.EMPLOYEE, "2": cls.RESIDENT}[code.strip()]

    @classmethod
    def parse(cls, text: str) -> InsuranceType:
        """Accept the national code (``310``) or the folder name (``employee``)."""
        for member in cls:
            if text in (member.value, member.policy_folder, member.name.lower()):
                return member
        raise ValueError(f"unknown insurance type {text!r}")


class PersonType(enum.StrEnum):
    """人员类别 as far as benefit rules distinguish people."""

    EMPLOYEE_ACTIVE = "employee_active"  # 在职职工
    EMPLOYEE_RETIRED = "employee_retired"  # 退休人员
    RESIDENT_ADULT = "resident_adult"  # 成年居民
    RESIDENT_CHILD = "resident_child"  # 未成年居民（少年儿童）
    RESIDENT_STUDENT = "resident_student"  # 在校学生
    RESIDENT_ELDERLY = "resident_elderly"  # 老年居民（60周岁以上）

    @property
    def label_zh(self) -> str:
        return _PERSON_TYPE_ZH[self]

    @property
    def insurance_type(self) -> InsuranceType:
        if self in (PersonType.EMPLOYEE_ACTIVE, PersonType.EMPLOYEE_RETIRED):
            return InsuranceType.EMPLOYEE
        return InsuranceType.RESIDENT


_PERSON_TYPE_ZH = {
    PersonType.EMPLOYEE_ACTIVE: "在职职工",
    PersonType.EMPLOYEE_RETIRED: "退休人员",
    PersonType.RESIDENT_ADULT: "成年居民",
    PersonType.RESIDENT_CHILD: "少年儿童",
    PersonType.RESIDENT_STUDENT: "在校学生",
    PersonType.RESIDENT_ELDERLY: "老年居民",
}


class HospitalLevel(enum.IntEnum):
    """医疗机构级别: 一级 / 二级 / 三级."""

    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3

    @property
    def key(self) -> str:
        """The key used in policy files: ``level_3``."""
        return f"level_{self.value}"

    @property
    def label_zh(self) -> str:
        return {1: "一级医院", 2: "二级医院", 3: "三级医院"}[self.value]


class FilingCategory(enum.StrEnum):
    """人员类别 of a cross-region filing (备案). ``None`` on a claim means unfiled care."""

    RETIREE_RESETTLED = "retiree_resettled"  # 异地安置退休人员
    LONG_TERM_RESIDENT = "long_term_resident"  # 异地长期居住人员
    POSTED_WORKER = "posted_worker"  # 常驻异地工作人员
    REFERRAL = "referral"  # 异地转诊人员
    EMERGENCY = "emergency"  # 异地急诊人员（2022：异地急诊抢救人员）
    OTHER_TEMPORARY = "other_temporary"  # 其他临时外出就医人员（2022 模式起）

    @property
    def label_zh(self) -> str:
        return _FILING_ZH[self]

    @property
    def annex_code(self) -> str:
        """附件1/附件2 人员类别 code (the notice numbers 1-4; emergency 5, 2022 其他临时外出 6)."""
        return _FILING_ANNEX_CODE[self]

    @classmethod
    def from_annex_code(cls, code: str) -> FilingCategory:
        for member, annex in _FILING_ANNEX_CODE.items():
            if annex == code.strip():
                return member
        raise KeyError(code)

    @property
    def is_residence_based(self) -> bool:
        """异地居住人员 in the Henan notice's sense (附件2 lists these; 附件3/4 count them as 异地备案)."""
        return self in (
            FilingCategory.RETIREE_RESETTLED,
            FilingCategory.LONG_TERM_RESIDENT,
            FilingCategory.POSTED_WORKER,
        )


_FILING_ZH = {
    FilingCategory.RETIREE_RESETTLED: "异地安置退休人员",
    FilingCategory.LONG_TERM_RESIDENT: "异地长期居住人员",
    FilingCategory.POSTED_WORKER: "常驻异地工作人员",
    FilingCategory.REFERRAL: "异地转诊人员",
    FilingCategory.EMERGENCY: "异地急诊人员",
    FilingCategory.OTHER_TEMPORARY: "其他临时外出就医人员",
}

_FILING_ANNEX_CODE = {
    FilingCategory.RETIREE_RESETTLED: "1",
    FilingCategory.LONG_TERM_RESIDENT: "2",
    FilingCategory.POSTED_WORKER: "3",
    FilingCategory.REFERRAL: "4",
    FilingCategory.EMERGENCY: "5",
    # Not a 2017 category: the Henan layout has no code for it, so it gets the next number.
    FilingCategory.OTHER_TEMPORARY: "6",
}

#: Policy files name unfiled care with this key beside the filing categories.
UNFILED_KEY = "unfiled"


class EncounterType(enum.StrEnum):
    """就诊类型, mapped to the national ``med_type``."""

    INPATIENT = "21"  # 普通住院
    INJURY_INPATIENT = "22"  # 外伤住院（意外伤害）
    EMERGENCY_TO_INPATIENT = "24"  # 急诊转住院
    OUTPATIENT = "11"  # 普通门诊
    CHRONIC_OUTPATIENT = "14"  # 门诊慢特病
    PHARMACY = "41"  # 定点药店购药

    @property
    def label_zh(self) -> str:
        return {
            "21": "普通住院",
            "22": "外伤住院",
            "24": "急诊转住院",
            "11": "普通门诊",
            "14": "门诊慢特病",
            "41": "定点药店购药",
        }[self.value]

    @property
    def policy_key(self) -> str:
        return self.name.lower()


class AssistanceGroup(enum.StrEnum):
    """医疗救助对象: low-income groups listed for medical assistance."""

    EXTREME_POVERTY = "extreme_poverty"  # 特困供养人员
    SUBSISTENCE_ALLOWANCE = "subsistence_allowance"  # 低保对象
    REGISTERED_POOR = "registered_poor"  # 建档立卡贫困人员
    LOW_INCOME_MARGINAL = "low_income_marginal"  # 低保边缘家庭成员

    @property
    def label_zh(self) -> str:
        return {
            "extreme_poverty": "特困供养人员",
            "subsistence_allowance": "低保对象",
            "registered_poor": "建档立卡贫困人员",
            "low_income_marginal": "低保边缘家庭成员",
        }[self.value]


class SettlementMode(enum.StrEnum):
    """直接结算 at the hospital, or 手工报销 back at the insured region."""

    DIRECT = "direct"
    MANUAL = "manual"
