"""Shared vocabulary of the insurance world: insurance types, filing categories, levels."""

from __future__ import annotations

import enum


class InsuranceType(enum.Enum):
    """险种. Values are the national ``insutype`` codes."""

    EMPLOYEE = "310"  # 职工基本医疗保险
    RESIDENT = "390"  # 城乡居民基本医疗保险

    @property
    def label_zh(self) -> str:
        return {"310": "职工医保", "390": "城乡居民医保"}[self.value]

    @property
    def annex_code(self) -> str:
        """The code printed on the Henan notice's forms (附件1/附件2): 1 职工医保, 2 城乡居民医保."""
        return {"310": "1", "390": "2"}[self.value]

    @classmethod
    def from_annex_code(cls, code: str) -> InsuranceType:
        return {"1": cls.EMPLOYEE, "2": cls.RESIDENT}[code.strip()]


class PersonType(enum.Enum):
    """人员类别 for benefit rules (who the policy treats differently)."""

    EMPLOYEE_ACTIVE = "employee_active"  # 在职职工
    EMPLOYEE_RETIRED = "employee_retired"  # 退休人员
    RESIDENT_ADULT = "resident_adult"  # 城乡居民（成年）
    RESIDENT_CHILD = "resident_child"  # 少年儿童
    RESIDENT_STUDENT = "resident_student"  # 大中专学生
    RESIDENT_ELDERLY = "resident_elderly"  # 60岁以上老年居民

    @property
    def label_zh(self) -> str:
        return {
            "employee_active": "在职职工",
            "employee_retired": "退休人员",
            "resident_adult": "城乡居民",
            "resident_child": "少年儿童",
            "resident_student": "大中专学生",
            "resident_elderly": "老年居民",
        }[self.value]


class FilingCategory(enum.Enum):
    """人员类别 of a filing: the four groups of both seeds (long-term residence split in two)."""

    RETIREE_RESETTLED = "retiree_resettled"  # 异地安置退休人员
    LONG_TERM_RESIDENT = "long_term_resident"  # 异地长期居住人员
    POSTED_WORKER = "posted_worker"  # 常驻异地工作人员（单位派驻）
    REFERRAL = "referral"  # 异地转诊人员
    EMERGENCY = "emergency"  # 异地急诊人员

    @property
    def label_zh(self) -> str:
        return {
            "retiree_resettled": "异地安置退休人员",
            "long_term_resident": "异地长期居住人员",
            "posted_worker": "常驻异地工作人员",
            "referral": "异地转诊人员",
            "emergency": "异地急诊人员",
        }[self.value]

    @property
    def annex_code(self) -> str:
        """附件1/附件2 人员类别 code (the notice numbers 1-4; emergency filings get 5)."""
        return {
            "retiree_resettled": "1",
            "long_term_resident": "2",
            "posted_worker": "3",
            "referral": "4",
            "emergency": "5",
        }[self.value]

    @classmethod
    def from_annex_code(cls, code: str) -> FilingCategory:
        for member in cls:
            if member.annex_code == code.strip():
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


class HospitalLevel(enum.IntEnum):
    """医疗机构级别."""

    ONE = 1  # 一级
    TWO = 2  # 二级
    THREE = 3  # 三级

    @property
    def label_zh(self) -> str:
        return {1: "一级", 2: "二级", 3: "三级"}[int(self)]
