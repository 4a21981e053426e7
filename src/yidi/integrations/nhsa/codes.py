"""Code tables of the national interface (国家医保信息平台字典), with Chinese labels.

Values are the national codes exactly as they travel in the JSON. Sources are the
short names of /work/shared/NHSA-INTERFACE.md §5 (HN = Hunan edition V1.1.27, OH =
openhis adapter). Regions extend several tables (for example HN's med_type 2101), so
input models keep codes as plain strings; use :func:`label_zh` to describe any code and
:func:`parse_code` when a service needs the enum member and can refuse unknown codes.
"""

from __future__ import annotations

import enum
from typing import TypeVar


class CodeTable(enum.StrEnum):
    """Base of every code table: the member value is the national code."""

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[type(self).__name__][self.value]


class MdtrtCertType(CodeTable):
    """就诊凭证类型 mdtrt_cert_type (HN table 408; OH; SZ)."""

    E_CREDENTIAL = "01"
    ID_CARD = "02"
    SOCIAL_SECURITY_CARD = "03"


class PsnCertType(CodeTable):
    """人员证件类型 psn_cert_type (HN table 386, one source for the full list)."""

    RESIDENT_ID = "01"
    MILITARY_OFFICER = "02"
    ARMED_POLICE_OFFICER = "03"
    HK_MACAO_PERMIT = "04"
    HK_MACAO_PERMIT_2 = "05"
    TAIWAN_COMPATRIOT = "06"
    FOREIGN_PERMANENT_RESIDENT = "07"
    FOREIGN_PASSPORT = "08"
    DISABILITY_CERTIFICATE = "09"
    SOCIAL_SECURITY_CARD = "90"
    OTHER = "99"


class Insutype(CodeTable):
    """险种类型 insutype (HN table 403; OH Enumxzlx)."""

    EMPLOYEE_BASIC = "310"
    CIVIL_SERVANT_SUBSIDY = "320"
    LARGE_EXPENSE_SUBSIDY = "330"
    RETIRED_CADRE = "340"
    DISABLED_SERVICEMEN = "350"
    RED_ARMY_VETERAN = "360"
    ENTERPRISE_SUPPLEMENT = "370"
    NEW_RURAL_COOPERATIVE = "380"
    RESIDENT_BASIC = "390"
    URBAN_RESIDENT = "391"
    RESIDENT_CRITICAL_ILLNESS = "392"
    OTHER_SPECIAL = "399"
    LONG_TERM_CARE = "410"
    MATERNITY = "510"


class MedType(CodeTable):
    """医疗类别 med_type, national core codes (OH Enumyllb; ENUM; HN). Regions add more."""

    GENERAL_OUTPATIENT = "11"
    OUTPATIENT_REGISTRATION = "12"
    EMERGENCY = "13"
    OUTPATIENT_CHRONIC_SPECIAL = "14"
    GENERAL_INPATIENT = "21"
    INJURY_INPATIENT = "22"
    REFERRED_OUT_INPATIENT = "23"
    EMERGENCY_TO_INPATIENT = "24"
    DAY_SURGERY = "28"
    PHARMACY_PURCHASE = "41"
    MATERNITY_OUTPATIENT = "51"
    MATERNITY_INPATIENT = "52"
    BIRTH_CONTROL_SURGERY = "53"


class PsnSetlway(CodeTable):
    """个人结算方式 psn_setlway (HN table 568; ENUM)."""

    BY_ITEM = "01"
    FIXED_QUOTA = "02"


class AcctUsedFlag(CodeTable):
    """个人账户使用标志 acct_used_flag (HN table 574; 2 is one source)."""

    NOT_USED = "0"
    OWN_ACCOUNT = "1"
    FAMILY_ACCOUNT = "2"


class OpterType(CodeTable):
    """经办人类别 opter_type (HN envelope table; OH; SZ)."""

    CLERK = "1"
    SELF_SERVICE_KIOSK = "2"
    MOBILE_TERMINAL = "3"


class DiagType(CodeTable):
    """诊断类别 diag_type (HN table 427; OH Enumzdlx)."""

    WESTERN = "1"
    TCM_DISEASE = "2"
    TCM_SYNDROME = "3"


class DscgWay(CodeTable):
    """离院方式 dscg_way (HN table 382)."""

    ORDERED_DISCHARGE = "1"
    ORDERED_TRANSFER = "2"
    ORDERED_TO_COMMUNITY = "3"
    AGAINST_ADVICE = "4"
    DEATH = "5"
    OTHER = "9"


class Gend(CodeTable):
    """性别 gend (HN table 387; 0 and 9 one source)."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSPECIFIED = "9"


class PsnInsuStas(CodeTable):
    """人员参保状态 psn_insu_stas (HN table 668)."""

    NOT_INSURED = "0"
    NORMAL = "1"
    SUSPENDED = "2"
    INVALID = "3"
    TERMINATED = "4"


class ChrgitmLv(CodeTable):
    """收费项目等级 chrgitm_lv (HN table 393): 甲/乙/丙类."""

    CLASS_A = "01"
    CLASS_B = "02"
    CLASS_C = "03"


class MedChrgitmType(CodeTable):
    """医疗收费项目类别 med_chrgitm_type (HN table 415)."""

    BED = "01"
    CONSULTATION = "02"
    EXAMINATION = "03"
    LABORATORY = "04"
    TREATMENT = "05"
    SURGERY = "06"
    NURSING = "07"
    MEDICAL_MATERIAL = "08"
    WESTERN_MEDICINE = "09"
    TCM_HERBAL_PIECES = "10"
    TCM_PATENT_MEDICINE = "11"
    GENERAL_DIAGNOSIS = "12"
    REGISTRATION = "13"
    OTHER = "14"


class FundPayType(CodeTable):
    """基金支付类型 fund_pay_type, national codes (HN table 420; OH Enumjjzflx).

    Account rows (310200) and hospital-advance rows (999996) may appear in setldetail but
    are not part of fund_pay_sumamt (OH Hebei and Chongqing samples).
    """

    EMPLOYEE_POOLED = "310100"
    EMPLOYEE_PERSONAL_ACCOUNT = "310200"
    CIVIL_SERVANT_SUBSIDY = "320100"
    LARGE_EXPENSE_SUBSIDY = "330100"
    RETIRED_CADRE = "340100"
    DISABLED_SERVICEMEN = "350100"
    ENTERPRISE_SUPPLEMENT = "370100"
    RESIDENT_POOLED = "390100"
    RESIDENT_CRITICAL_ILLNESS = "390200"
    MATERNITY = "510100"
    MEDICAL_ASSISTANCE = "610100"
    HOSPITAL_ADVANCE = "999996"
    OTHER = "999997"


class ClrType(CodeTable):
    """清算类别 clr_type (HN table 396); regions add 99xxx codes."""

    OUTPATIENT = "11"
    INPATIENT = "21"
    PHARMACY = "41"


class ClrWay(CodeTable):
    """清算方式 clr_way (HN table 412)."""

    BY_ITEM = "1"
    SINGLE_DISEASE = "2"
    BY_BED_DAY = "3"
    PER_CAPITA = "4"
    DRG = "40"
    DIP = "50"
    OTHER = "9"


class StmtRslt(CodeTable):
    """对账结果 stmt_rslt of 3201/3202: ILLUSTRATIVE values, no public copy of the national
    table was found. 000000 and 000103 as one HIS client reads them (a reconciliation test of
    an open-source HIS, "表201", one source); 000101/000102 are yidi's own for the two
    one-sided cases. Replace them with the local code table before connecting a platform."""

    BALANCED = "000000"
    CENTRE_ONLY = "000101"
    INSTITUTION_ONLY = "000102"
    AMOUNT_DIFFERS = "000103"


class YesNoFlag(CodeTable):
    """0/1 flags: maindiag_flag, cvlserv_flag, mid_setl_flag, cop_flag … (HN)."""

    NO = "0"
    YES = "1"


class HospApprFlag(CodeTable):
    """医院审批标志 hosp_appr_flag (HN table 378, one source)."""

    NOT_REQUIRED = "0"
    APPROVED = "1"
    REJECTED = "2"


_LABELS_ZH: dict[str, dict[str, str]] = {
    "MdtrtCertType": {"01": "医保电子凭证", "02": "居民身份证", "03": "社会保障卡"},
    "PsnCertType": {
        "01": "居民身份证（户口簿）",
        "02": "中国人民解放军军官证",
        "03": "中国人民武装警察警官证",
        "04": "香港特区护照/港澳居民来往内地通行证",
        "05": "澳门特区护照/港澳居民来往内地通行证",
        "06": "台湾居民来往大陆通行证",
        "07": "外国人永久居留证",
        "08": "外国人护照",
        "09": "残疾人证",
        "90": "社会保障卡",
        "99": "其他身份证件",
    },
    "Insutype": {
        "310": "职工基本医疗保险",
        "320": "公务员医疗补助",
        "330": "大额医疗费用补助",
        "340": "离休人员医疗保障",
        "350": "一至六级残废军人医疗补助",
        "360": "老红军医疗保障",
        "370": "企业补充医疗保险",
        "380": "新型农村合作医疗",
        "390": "城乡居民基本医疗保险",
        "391": "城镇居民基本医疗保险",
        "392": "城乡居民大病医疗保险",
        "399": "其他特殊人员医疗保障",
        "410": "长期照护保险",
        "510": "生育保险",
    },
    "MedType": {
        "11": "普通门诊",
        "12": "门诊挂号",
        "13": "急诊",
        "14": "门诊慢特病",
        "21": "普通住院",
        "22": "外伤住院",
        "23": "转外诊治住院",
        "24": "急诊转住院",
        "28": "日间手术",
        "41": "定点药店购药",
        "51": "生育门诊",
        "52": "生育住院",
        "53": "计划生育手术费",
    },
    "PsnSetlway": {"01": "按项目结算", "02": "按定额结算"},
    "AcctUsedFlag": {"0": "不使用", "1": "使用本人个人账户", "2": "使用共济人个人账户"},
    "OpterType": {"1": "经办人", "2": "自助终端", "3": "移动终端"},
    "DiagType": {"1": "西医诊断", "2": "中医主病诊断", "3": "中医主证诊断"},
    "DscgWay": {
        "1": "医嘱离院",
        "2": "医嘱转院",
        "3": "医嘱转社区卫生服务机构/乡镇卫生院",
        "4": "非医嘱离院",
        "5": "死亡",
        "9": "其他",
    },
    "Gend": {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"},
    "PsnInsuStas": {"0": "未参保", "1": "正常参保", "2": "暂停参保", "3": "无效", "4": "终止参保"},
    "ChrgitmLv": {"01": "甲类", "02": "乙类", "03": "丙类"},
    "MedChrgitmType": {
        "01": "床位费",
        "02": "诊察费",
        "03": "检查费",
        "04": "化验费",
        "05": "治疗费",
        "06": "手术费",
        "07": "护理费",
        "08": "卫生材料费",
        "09": "西药费",
        "10": "中药饮片费",
        "11": "中成药费",
        "12": "一般诊疗费",
        "13": "挂号费",
        "14": "其他费",
    },
    "FundPayType": {
        "310100": "职工基本医疗保险统筹基金",
        "310200": "职工基本医疗保险个人账户基金",
        "320100": "公务员医疗补助基金",
        "330100": "大额医疗费用补助基金",
        "340100": "离休人员医疗保障基金",
        "350100": "一至六级残疾军人医疗补助基金",
        "370100": "企业补充医疗保险基金",
        "390100": "城乡居民基本医疗保险基金",
        "390200": "城乡居民大病医疗保险基金",
        "510100": "生育基金",
        "610100": "医疗救助基金",
        "999996": "医院垫付基金",
        "999997": "其他基金",
    },
    "ClrType": {"11": "门诊", "21": "住院", "41": "药店购药"},
    "ClrWay": {
        "1": "按项目",
        "2": "单病种",
        "3": "按床日",
        "4": "按人头",
        "40": "按疾病诊断相关分组（DRG）",
        "50": "按病种分值（DIP）",
        "9": "其他",
    },
    "StmtRslt": {
        "000000": "对账一致",
        "000101": "中心有、医药机构无",
        "000102": "医药机构有、中心无",
        "000103": "金额不一致",
    },
    "YesNoFlag": {"0": "否", "1": "是"},
    "HospApprFlag": {"0": "无须审批", "1": "审批通过", "2": "审批不通过"},
}

CodeT = TypeVar("CodeT", bound=CodeTable)


def parse_code(table: type[CodeT], code: str | None) -> CodeT | None:
    """The member for ``code``, or None when the code is blank or not in the national table."""
    if code is None:
        return None
    try:
        return table(code.strip())
    except ValueError:
        return None


def label_zh(table: type[CodeTable], code: str | None) -> str | None:
    """Chinese label of a code, or None for a regional code we do not know."""
    member = parse_code(table, code)
    return member.label_zh if member is not None else None
