"""Who may do what (权限): roles, principals, and the access matrix as data.

Two questions are asked of every request: may this role perform this action at
all (the matrix below), and is this record within the principal's scope
(region for agencies, hospital for cashiers, self for insured persons).
A record outside one's scope is reported as not found, so ids cannot be probed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from yidi.kernel.errors import Forbidden, NotFound, Unauthenticated
from yidi.kernel.regions import region_prefix


class Role(enum.Enum):
    INSURED_PERSON = "insured_person"  # 参保人员
    AGENCY_HANDLER = "agency_handler"  # 参保地经办机构经办人（限本统筹区）
    PROVINCE_OFFICER = "province_officer"  # 省社保局
    HOSPITAL_CASHIER = "hospital_cashier"  # 定点医疗机构收费员（限本院）
    CLEARING_OFFICER = "clearing_officer"  # 清算中心
    ADMINISTRATOR = "administrator"  # 系统管理员
    ANONYMOUS = "anonymous"

    @property
    def label_zh(self) -> str:
        return {
            "insured_person": "参保人员",
            "agency_handler": "经办机构经办人",
            "province_officer": "省社保局",
            "hospital_cashier": "医院收费员",
            "clearing_officer": "清算中心",
            "administrator": "系统管理员",
            "anonymous": "未登录",
        }[self.value]


class Action(enum.Enum):
    FILING_CREATE = "filing.create"
    FILING_READ = "filing.read"
    FILING_LIST = "filing.list"
    FILING_REVIEW = "filing.review"  # approve / reject / confirm emergency
    FILING_CHANGE = "filing.change"
    FILING_CANCEL = "filing.cancel"
    FILING_IMPORT = "filing.import"  # 报盘
    FILING_EXPORT = "filing.export"  # 附件2, quarterly list
    ADMISSION_CHECK = "hospital.admission_check"
    ENCOUNTER_WRITE = "hospital.encounter_write"  # admit, upload fees, settle, reverse
    ENCOUNTER_READ = "hospital.encounter_read"
    MANUAL_CLAIM = "manual_claim.handle"
    CLEARING_RUN = "clearing.run"  # compute the open statement of a month (repeatable)
    CLEARING_CLOSE = "clearing.close"  # close an ended month, reopen a wrongly closed one
    CLEARING_READ = "clearing.read"
    STATISTICS_READ = "statistics.read"
    PREPAYMENT_ESTIMATE = "prepayment.estimate"
    PREPAYMENT_TOP_UP = "prepayment.top_up"  # 申请补充预付金 after a usage warning (own pair)
    PREPAYMENT_APPROVE = "prepayment.approve"  # 审批补充预付金: approve or reject a request
    POLICY_WHATIF = "policy.whatif"  # 政策调整测算: re-settle stored settlements under a candidate
    AUDIT_READ = "audit.read"
    USER_ADMIN = "user.admin"  # create, disable/enable, reset link, role and scope, unlock
    PERSONAL_ACCOUNT_READ = "personal_account.read"  # 个人账户余额与变动
    ACCOUNT_SELF = "account.self"  # change one's own password (sign-out needs no role)
    PUBLIC_DIRECTORY = "public.directory"  # hospitals, agency phones, eligibility check, estimate
    CHRONIC_RECOGNISE = "chronic.recognise"  # 门诊慢特病认定: record and end (insured-place agency)
    CHRONIC_READ = "chronic.read"  # 门诊慢特病认定: list and read within one's scope
    RECONCILIATION_DISPUTE = "reconciliation.dispute"  # 对账差异: raise, answer, resolve, read


R = Role
# The access matrix. Scope (region / hospital / self) is checked separately.
ACCESS_MATRIX: dict[Action, frozenset[Role]] = {
    Action.FILING_CREATE: frozenset({R.INSURED_PERSON, R.AGENCY_HANDLER}),
    Action.FILING_READ: frozenset({R.INSURED_PERSON, R.AGENCY_HANDLER, R.PROVINCE_OFFICER}),
    # Insured persons list only their own filings (scope: self).
    Action.FILING_LIST: frozenset({R.INSURED_PERSON, R.AGENCY_HANDLER, R.PROVINCE_OFFICER}),
    Action.FILING_REVIEW: frozenset({R.AGENCY_HANDLER}),
    Action.FILING_CHANGE: frozenset({R.INSURED_PERSON, R.AGENCY_HANDLER}),
    Action.FILING_CANCEL: frozenset({R.INSURED_PERSON, R.AGENCY_HANDLER}),
    Action.FILING_IMPORT: frozenset({R.AGENCY_HANDLER, R.PROVINCE_OFFICER}),
    Action.FILING_EXPORT: frozenset({R.AGENCY_HANDLER, R.PROVINCE_OFFICER}),
    Action.ADMISSION_CHECK: frozenset({R.HOSPITAL_CASHIER}),
    Action.ENCOUNTER_WRITE: frozenset({R.HOSPITAL_CASHIER}),
    Action.ENCOUNTER_READ: frozenset({R.HOSPITAL_CASHIER}),
    Action.MANUAL_CLAIM: frozenset({R.AGENCY_HANDLER}),
    Action.CLEARING_RUN: frozenset({R.CLEARING_OFFICER, R.PROVINCE_OFFICER}),
    # Closing the national statement of a month is the clearing centre's act alone.
    Action.CLEARING_CLOSE: frozenset({R.CLEARING_OFFICER}),
    Action.CLEARING_READ: frozenset({R.CLEARING_OFFICER, R.PROVINCE_OFFICER, R.AGENCY_HANDLER}),
    Action.STATISTICS_READ: frozenset(
        {R.PROVINCE_OFFICER, R.AGENCY_HANDLER, R.CLEARING_OFFICER, R.ADMINISTRATOR}
    ),
    Action.PREPAYMENT_ESTIMATE: frozenset({R.PROVINCE_OFFICER, R.AGENCY_HANDLER}),
    # Scope: one end of the pair lies within the caller's region.
    Action.PREPAYMENT_TOP_UP: frozenset({R.PROVINCE_OFFICER, R.AGENCY_HANDLER}),
    # The national agency runs the prepayment scheme (经办规程 Art. 4, NATIONAL-RULES.md
    # "clearing"): the clearing centre decides a top-up; those who ask never decide.
    Action.PREPAYMENT_APPROVE: frozenset({R.CLEARING_OFFICER}),
    Action.POLICY_WHATIF: frozenset({R.PROVINCE_OFFICER, R.AGENCY_HANDLER}),
    Action.AUDIT_READ: frozenset({R.ADMINISTRATOR}),
    Action.USER_ADMIN: frozenset({R.ADMINISTRATOR}),
    # Scope: agencies their region's persons, a person only their own account.
    Action.PERSONAL_ACCOUNT_READ: frozenset({R.INSURED_PERSON, R.AGENCY_HANDLER}),
    Action.ACCOUNT_SELF: frozenset(Role) - {R.ANONYMOUS},
    Action.PUBLIC_DIRECTORY: frozenset(Role),
    Action.CHRONIC_RECOGNISE: frozenset({R.AGENCY_HANDLER}),
    # Scope: agencies and the province their region's persons, a person only their own.
    Action.CHRONIC_READ: frozenset({R.INSURED_PERSON, R.AGENCY_HANDLER, R.PROVINCE_OFFICER}),
    # The two parties of a reconciliation; scope: a cashier its hospital, an agency its region.
    Action.RECONCILIATION_DISPUTE: frozenset(
        {R.HOSPITAL_CASHIER, R.AGENCY_HANDLER, R.CLEARING_OFFICER}
    ),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    user_id: str
    role: Role
    region_code: str | None = (
        None  # agencies: their pooling region; province: 2-digit province prefix + 0000
    )
    hospital_code: str | None = None  # cashiers: their fixmedins_code
    id_number: str | None = None  # insured persons: themselves
    display_name: str = ""
    # Signed in, but must choose a new password before anything else (first sign-in, reset).
    password_change_required: bool = False

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(user_id="anonymous", role=Role.ANONYMOUS)

    def may(self, action: Action) -> bool:
        return self.role in ACCESS_MATRIX[action]

    def require(self, action: Action) -> None:
        if self.may(action):
            return
        if self.role is Role.ANONYMOUS:
            raise Unauthenticated("AUTH_REQUIRED", "请先登录", "sign-in required")
        raise Forbidden(
            "ACCESS_DENIED",
            f"{self.role.label_zh}无权执行此操作",
            f"role {self.role.value} may not perform {action.value}",
        )

    def covers_region(self, region_code: str) -> bool:
        """Does this principal's region include ``region_code`` (a 6-digit division code)?"""
        if self.region_code is None:
            return False
        # 430400 covers 4304xx; 410000 covers 41xxxx; a county code covers only itself.
        return region_code.startswith(region_prefix(self.region_code))


def hidden(kind_zh: str, kind_en: str) -> NotFound:
    """The one answer for 'does not exist' and 'not yours': ids cannot be probed."""
    return NotFound(f"{kind_en.upper()}_NOT_FOUND", f"未找到该{kind_zh}", f"{kind_en} not found")
