"""The pages' words in Chinese (the default) and English: one catalogue, one lookup.

Domain objects carry their own Chinese ``label_zh`` (and some a ``label_en``); the
English of the others is :data:`ENUM_EN`, so every option, history verb and document
name a page shows has both languages. The catalogue holds what belongs to the pages
themselves (titles, buttons, hints). In a template ``t(key)`` reads the catalogue and
``t.label(member)`` names a domain value in the page's language.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Final, Literal

from yidi.filing.model.record import FIELD_LABELS
from yidi.filing.model.rules import EvidenceRequirement, IssuerPlace

Lang = Literal["zh", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")
DEFAULT_LANG: Final[Lang] = "zh"
LANG_COOKIE: Final = "yidi_lang"

CATALOGUE: Final[dict[str, tuple[str, str]]] = {
    # layout
    "site.name": ("异地就医备案与直接结算", "Cross-region medical insurance"),
    "site.skip": ("跳到正文", "Skip to content"),
    "nav.label": ("主导航", "Main navigation"),
    "nav.menu": ("菜单", "Menu"),
    "nav.home": ("工作台", "My desk"),
    "nav.check": ("能否直接结算？", "Can I settle directly?"),
    "nav.hospitals": ("联网医院", "Connected hospitals"),
    "nav.agencies": ("经办机构电话", "Agency phone numbers"),
    "nav.signin": ("登录", "Sign in"),
    "nav.signout": ("退出登录", "Sign out"),
    "lang.switch": ("English", "中文"),
    "lang.switch_label": ("Switch to English", "切换到中文"),
    "footer.text": (
        "政策依据：衡阳日报·人社周刊 2017《衡阳人跨省异地就医可直接结算》；豫人社办函〔2017〕63号。",
        "Rules from: Hengyang Daily, 2017, 'Hengyang insured persons can settle cross-province "
        "care directly'; Henan notice 豫人社办函〔2017〕63号.",
    ),
    "signed_in_as": ("当前用户", "Signed in as"),
    # sign-in
    "signin.title": ("登录", "Sign in"),
    "signin.intro": (
        "经办机构、省社保局、定点医院收费员和管理员请使用本单位账户登录。",
        "Agency staff, province officers, hospital cashiers and administrators sign in with their account.",
    ),
    "signin.username": ("用户名", "Username"),
    "signin.password": ("密码", "Password"),
    "signin.submit": ("登录", "Sign in"),
    "signin.username_required": ("请输入用户名", "Enter your username"),
    "signin.password_required": ("请输入密码", "Enter your password"),
    "signin.form_expired": (
        "页面已过期，请重新输入后提交",
        "The form expired; please enter your details again",
    ),
    "signin.demo_accounts": ("演示账户", "Demo accounts"),
    "signin.demo_role": ("角色", "Role"),
    "signin.public_hint": (
        "参保人员无需登录即可查询能否直接结算、联网医院和经办机构电话。",
        "Insured persons can use the check, the hospital list and the phone directory without signing in.",
    ),
    # home
    "home.title": ("工作台", "My desk"),
    "home.region": ("所属统筹区", "Region"),
    "home.hospital": ("所属医院", "Hospital"),
    "home.role": ("角色", "Role"),
    "home.features": ("可用功能", "What you can do here"),
    "home.public": ("公共服务", "Public services"),
    # public: hospitals
    "hospitals.title": (
        "跨省异地就医直接结算联网医院",
        "Hospitals connected for direct settlement",
    ),
    "hospitals.intro": (
        "以下医院已接入国家跨省异地就医结算平台。已备案的参保人员持社会保障卡在这些医院住院可直接结算。",
        "These hospitals are connected to the national cross-province settlement platform. "
        "Filed insured persons who are admitted with their social security card settle directly.",
    ),
    "hospitals.region": ("地区", "Region"),
    "hospitals.level": ("医院级别", "Hospital level"),
    "hospitals.all_regions": ("全部地区", "All regions"),
    "hospitals.all_levels": ("全部级别", "All levels"),
    "hospitals.filter": ("筛选", "Filter"),
    "hospitals.name": ("医院名称", "Hospital"),
    "hospitals.code": ("定点医药机构编号", "Designated institution code"),
    "hospitals.count": ("共 {count} 家", "{count} hospitals"),
    "hospitals.none": ("没有符合条件的医院。", "No hospital matches."),
    "hospitals.by_level": ("按级别统计", "By level"),
    "hospitals.level_n": ("{level}医院", "Level {level}"),
    "hospitals.invalid_region": ("请选择列表中的地区", "Choose a region from the list"),
    "hospitals.invalid_level": ("请选择列表中的级别", "Choose a level from the list"),
    # public: agencies
    "agencies.title": ("医疗保险经办机构异地就医备案电话", "Agency filing phone numbers"),
    "agencies.intro": (
        "办理异地就医备案、确认备案信息或不能直接结算时，请拨打参保地经办机构的备案电话。",
        "Call your home agency's filing line to file, to confirm a filing, or when a stay cannot be settled directly.",
    ),
    "agencies.name": ("经办机构", "Agency"),
    "agencies.region": ("统筹区", "Region"),
    "agencies.insurance": ("险种", "Insurance"),
    "agencies.phone": ("备案电话", "Filing phone"),
    "agencies.both": ("职工医保、城乡居民医保", "Employee and resident"),
    "agencies.no_phone": ("未公布", "not published"),
    # public: guided check
    "check.title": ("能否直接结算？", "Can I settle directly?"),
    "check.intro": (
        "回答四个问题，了解在外地住院能否在医院直接结算，以及不能直接结算时该怎么办。",
        "Answer four questions to learn whether a stay away from home can be settled at the "
        "hospital, and what to do if not.",
    ),
    "check.category": ("您属于哪类人员？", "Which group are you in?"),
    "check.category_none": ("以上都不是 / 未备案", "None of these / not filed"),
    "check.care": ("就医类型", "Kind of care"),
    "check.accident": ("是否因意外伤害住院？", "Is the admission for an accidental injury?"),
    "check.filed": ("是否已在参保地办理异地就医备案？", "Have you filed with your home agency?"),
    "check.yes": ("是", "Yes"),
    "check.no": ("否", "No"),
    "check.submit": ("查看结果", "Show the answer"),
    "check.required": ("请选择一项", "Choose one"),
    "check.errors": ("请补全标出的问题。", "Please answer the marked questions."),
    "check.answer": ("结果", "Answer"),
    "check.why": ("依据", "Why"),
    "check.what_next": ("接下来怎么办", "What to do"),
    "check.materials": ("回参保地报销需带的材料", "Papers to bring when claiming back home"),
    "check.treated_as": (
        "按您的情况，您属于“{category}”。",
        "From your answers, you count as: {category}.",
    ),
    "check.source": ("出处", "Source"),
    "check.again": ("重新查询", "Start again"),
    "check.file_online": ("在线办理备案", "File online"),
    "check.file_online_hint": (
        "备案后在就医地联网医院持社会保障卡住院即可直接结算。在线办理需先登录；也可拨打参保地经办机构电话办理。",
        "Once filed, you settle directly at a connected hospital with your social security card. "
        "Filing online needs you to sign in; you can also call your home agency.",
    ),
    "check.file_online_emergency": (
        "急诊住院须在入院后三个工作日内补办备案。",
        "After an emergency admission, file within three working days.",
    ),
    "verdict.direct": ("可以直接结算", "Yes, settled directly at the hospital"),
    "verdict.direct_if_filed_in_time": (
        "三个工作日内补办备案后，可以直接结算",
        "Yes, if you file within three working days",
    ),
    "verdict.not_direct": (
        "不能直接结算：需本人全额垫付，回参保地报销",
        "No: pay in full and claim back home",
    ),
    # errors
    "error.back_home": ("返回首页", "Back to the home page"),
    "error.404.title": ("页面不存在", "Page not found"),
    "error.404.text": (
        "您要找的页面不存在或已被移除。",
        "The page you asked for does not exist or was removed.",
    ),
    "error.403.title": ("无权访问", "Not allowed"),
    "error.403.text": (
        "您的账户无权打开此页面。如需办理，请联系本单位管理员。",
        "Your account may not open this page. Ask your administrator if you need it.",
    ),
    "error.500.title": ("系统暂时无法处理", "Something went wrong"),
    "error.500.text": (
        "请稍后重试，或联系经办机构。",
        "Please try again later, or call your agency.",
    ),
    "error.generic.title": ("请求无法处理", "The request could not be handled"),
    # domain vocabulary (Chinese labels live on the enums; these add the English)
    "category.retiree_resettled": ("异地安置退休人员", "Retiree resettled elsewhere"),
    "category.long_term_resident": ("异地长期居住人员", "Long-term resident elsewhere"),
    "category.posted_worker": ("常驻异地工作人员", "Posted to work elsewhere"),
    "category.referral": ("异地转诊人员", "Referred to a hospital elsewhere"),
    "category.emergency": ("异地急诊人员", "Emergency while away"),
    "category.other_temporary": ("其他临时外出就医人员", "Other temporary travel"),
    "role.insured_person": ("参保人员", "Insured person"),
    "role.agency_handler": ("经办机构经办人", "Agency handler"),
    "role.province_officer": ("省社保局", "Province officer"),
    "role.hospital_cashier": ("医院收费员", "Hospital cashier"),
    "role.clearing_officer": ("清算中心", "Clearing officer"),
    "role.administrator": ("系统管理员", "Administrator"),
    "role.anonymous": ("未登录", "Not signed in"),
    "level.1": ("一级医院", "Level 1"),
    "level.2": ("二级医院", "Level 2"),
    "level.3": ("三级医院", "Level 3"),
    "insurance.310": ("职工医保", "Employee insurance"),
    "insurance.390": ("城乡居民医保", "Resident insurance"),
    # money side: shared
    "nav.prepayment": ("附件3/附件4 预付金测算", "Prepayment estimate (annex 3/4)"),
    "nav.clearing": ("清算单", "Clearing statements"),
    "nav.statistics": ("异地就医统计", "Statistics"),
    "funds.region": ("地区", "Region"),
    "funds.total": ("合计", "Total"),
    "funds.choose_one": ("请选择列表中的一项", "Choose one from the list"),
    "funds.invalid_region": ("请选择本单位可查看的地区", "Choose a region you may look at"),
    "fund.pooled": ("统筹基金", "Pooled fund"),
    "fund.serious_illness": ("大病保险", "Serious illness insurance"),
    "fund.large_expense": ("大额医疗补助", "Large expense subsidy"),
    "fund.medical_assistance": ("医疗救助", "Medical assistance"),
    "method.average": ("前三年平均", "Three-year average"),
    "method.trend": ("线性趋势", "Linear trend"),
    # 附件3 / 附件4
    "prepayment.title": (
        "异地就医费用支出测算（附件3/附件4）",
        "Cross-region spending estimate (annex 3/4)",
    ),
    "prepayment.intro": (
        "根据前三年异地居住备案人员和转诊转院人员的人次和费用，测算下一年度的异地就医基金支出和预付金（豫人社办函〔2017〕63号）。",
        "Estimates next year's cross-region fund spending and prepayment from the previous "
        "three years' filed and referred patients (Henan notice 豫人社办函〔2017〕63号).",
    ),
    "prepayment.year": ("测算年度", "Target year"),
    "prepayment.annex": ("测算表", "Table"),
    "prepayment.annex3": ("附件3 省内异地就医", "Annex 3: within the province"),
    "prepayment.annex4": ("附件4 省外异地就医", "Annex 4: outside the province"),
    "prepayment.annex_n": ("附件{n}", "Annex {n}"),
    "prepayment.method": ("测算方法", "Method"),
    "prepayment.months": ("预付月数", "Months of prepayment"),
    "prepayment.submit": ("测算", "Estimate"),
    "prepayment.invalid_year": (
        "请输入{low}至{high}之间的年度",
        "Enter a year from {low} to {high}",
    ),
    "prepayment.invalid_months": ("预付月数应在1至12之间", "Enter 1 to 12 months"),
    "prepayment.region_line": ("市(县、市)：", "Region: "),
    "prepayment.download": ("下载XLSX", "Download XLSX"),
    "prepayment.area": ("地区", "Region"),
    "prepayment.g_total": ("合计", "All"),
    "prepayment.g_employee": ("职工医疗", "Employee insurance"),
    "prepayment.g_resident": ("城乡居民医疗", "Resident insurance"),
    "prepayment.s_total": ("合计", "Total"),
    "prepayment.s_subtotal": ("小计", "Subtotal"),
    "prepayment.s_filed": ("异地备案", "Filed"),
    "prepayment.s_referral": ("转诊转院等", "Referral and other"),
    "prepayment.persons": ("人数", "Persons"),
    "prepayment.amount": ("金额", "Amount"),
    "prepayment.amount_yuan": ("金额（元）", "Amount (yuan)"),
    "prepayment.units": (
        "人数单位为人次，金额单位为元；第1栏=第3栏+第5栏，第3栏=第9栏+第15栏，以此类推。",
        "Persons are person-times, amounts are yuan; column 1 = 3 + 5, column 3 = 9 + 15, and so on.",
    ),
    "prepayment.by_year": (
        "基金支出：前三年实际与测算",
        "Fund spending: three past years and the estimate",
    ),
    "prepayment.fund_spend": ("基金支出（元）", "Fund spending (yuan)"),
    "prepayment.estimate_year": ("{year}年测算", "{year} estimate"),
    "prepayment.history": ("测算依据", "Basis of the estimate"),
    "prepayment.proposal": (
        "预付金建议（{months}个月，元）",
        "Proposed prepayment ({months} months, yuan)",
    ),
    "prepayment.no_history": (
        "前三年暂无结算数据，测算结果为零。",
        "No settlements in the three years before; the estimate is zero.",
    ),
    "prepayment.method_note": (
        "三年平均 = 前三年之和除以3；线性趋势 = 前三年最小二乘直线外推一年（不小于0）。预付金建议 = 测算金额 ÷ 12 × 预付月数。仅列出有历史数据的地区，下载的表格列出全部地区。",
        "Average = the three years' sum divided by 3; trend = the least-squares line one year "
        "on (never below 0). Prepayment = the estimate ÷ 12 × the months. Only regions with "
        "history are listed here; the workbook lists every region.",
    ),
    # clearing
    "clearing.title": ("异地就医直接结算清算单", "Clearing statements"),
    "clearing.intro": (
        "按月汇总参保地应付就医地的基金金额，冲抵预付金后得出应付差额。未关闭的月份可以重算，关闭后不再改变。",
        "Each month, what every insured region owes every treatment region, by fund, less the "
        "prepayment held. An open month can be run again; a closed month never changes.",
    ),
    "clearing.month": ("清算月份", "Month"),
    "clearing.level": ("清算层级", "Level"),
    "clearing.level_province": ("省级", "Between provinces"),
    "clearing.level_prefecture": ("市级", "Between prefectures"),
    "clearing.view": ("查看", "Show"),
    "clearing.close": (
        "同时关闭本月清算（关闭后不再重算）",
        "Also close the month (it cannot be rerun)",
    ),
    "clearing.run": ("运行{month}清算", "Run clearing for {month}"),
    "clearing.ran": ("清算已完成。", "Clearing finished."),
    "clearing.reopen": ("重新开账：{month}", "Reopen {month}"),
    "clearing.reopen_reason": (
        "重新开账原因（记入审计日志）",
        "Why the month is reopened (kept in the audit log)",
    ),
    "clearing.reopened": (
        "已重新开账，可重新运行清算。",
        "The month is open again and can be rerun.",
    ),
    "clearing.invalid_month": ("请按“年-月”填写，例如 2017-09", "Enter year-month, e.g. 2017-09"),
    "clearing.statement_title": ("{month} {level}清算单", "{month} statement ({level})"),
    "clearing.not_run": ("本月尚未清算。", "This month has not been cleared yet."),
    "clearing.status": ("状态", "Status"),
    "clearing.status_open": ("未关闭（可重算）", "Open (can be rerun)"),
    "clearing.status_closed": ("已关闭", "Closed"),
    "clearing.due_total": ("应付合计", "Due"),
    "clearing.applied": ("预付金冲抵", "Prepayment applied"),
    "clearing.balance": ("应付差额", "Balance to pay"),
    "clearing.insured": ("参保地", "Insured region"),
    "clearing.treatment": ("就医地", "Treatment region"),
    "clearing.download_xlsx": ("下载XLSX", "Download XLSX"),
    "clearing.download_json": ("下载JSON", "Download JSON"),
    "clearing.hash": ("内容校验（sha256）：", "Content hash (sha256):"),
    # statistics
    "statistics.title": ("异地就医直接结算统计", "Direct settlement statistics"),
    "statistics.intro": (
        "按月份和地区统计直接结算的人次和医保基金支出。",
        "Person-times and fund spending of direct settlements, by month and by region.",
    ),
    "statistics.direction": ("统计口径", "Direction"),
    "direction.outbound": ("本地参保人员异地就医", "Our insured treated elsewhere"),
    "direction.inbound": ("外地参保人员在本地就医", "Others' insured treated here"),
    "statistics.from": ("结算日期自", "Settled from"),
    "statistics.to": ("结算日期至", "Settled to"),
    "statistics.show": ("统计", "Show"),
    "statistics.invalid_date": ("请输入有效日期", "Enter a valid date"),
    "statistics.end_before_start": ("结束日期不能早于开始日期", "The end is before the start"),
    "statistics.empty": ("暂无结算数据", "No settlements yet"),
    "statistics.empty_hint": (
        "定点医院完成直接结算后，这里会显示人次和基金支出。",
        "Once hospitals settle directly, person-times and fund spending appear here.",
    ),
    "statistics.by_month": ("按月份", "By month"),
    "statistics.by_region_outbound": ("按就医省份", "By province of treatment"),
    "statistics.by_region_inbound": ("按参保省份", "By province of insurance"),
    "statistics.month": ("月份", "Month"),
    "statistics.person_times": ("人次", "Person-times"),
    "statistics.total_charges": ("医疗费总额（元）", "Total charges (yuan)"),
    "statistics.fund_spend": ("医保基金支出（元）", "Fund spending (yuan)"),
    "statistics.person_times_by_month": ("每月人次", "Person-times by month"),
    "statistics.fund_spend_by_month": ("每月医保基金支出", "Fund spending by month"),
    "statistics.person_times_by_region": ("各地区人次", "Person-times by region"),
    "statistics.fund_spend_by_region": ("各地区医保基金支出", "Fund spending by region"),
    "statistics.download_xlsx": ("下载XLSX", "Download XLSX"),
    "statistics.download_csv": ("下载CSV", "Download CSV"),
    # filings
    "nav.filings": ("备案审核与查询", "Filings"),
    "nav.filings_emergency": ("急诊备案期限", "Emergency deadlines"),
    "nav.filings_incomplete": ("待补充的历史备案", "Incomplete legacy filings"),
    "nav.filings_annex2": ("附件2 导出", "Annex 2 export"),
    "nav.filings_import": ("报盘导入", "Batch import"),
    "nav.estimate": ("住院费用估算", "Cost estimate"),
    "estimate.title": ("住院费用估算", "Estimate of an admission's cost"),
    "estimate.intro": (
        "按您的参保地政策、就医地目录和本年度累计，估算一次计划住院的基金支付与个人负担。结果仅为估算，不是结算。",
        "An estimate under your insured region's policy, the treatment region's catalogue "
        "and this year's totals. It is an estimate, not a settlement.",
    ),
    "estimate.treatment_region": ("就医地区划代码（6 位）", "Treatment region code (6 digits)"),
    "estimate.hospital_level": ("医院级别", "Hospital level"),
    "estimate.planned_total": ("预计医疗费总额（元）", "Planned total (yuan)"),
    "estimate.class_b": ("其中乙类金额（元）", "Of which class B (yuan)"),
    "estimate.class_c": ("其中丙类/全自费金额（元）", "Of which class C, self-paid (yuan)"),
    "estimate.submit": ("估算", "Estimate"),
    "estimate.result": ("估算结果（非结算）", "Estimate (not a settlement)"),
    "estimate.patient_share": ("个人负担（估算）", "Your share (estimate)"),
    "estimate.fund_share": ("基金支付（估算）", "Fund pays (estimate)"),
    "estimate.total": ("医疗费总额", "Total charges"),
    "estimate.direct": (
        "有效备案：可在就医地直接结算。",
        "Valid filing: settled directly at the hospital.",
    ),
    "estimate.manual": (
        "未查询到有效的异地就医备案：不能直接结算，须全额垫付后回参保地报销，以下按参保地对未备案就医的规定估算。",
        "No valid filing: not settled directly; pay in full and claim back at the insured "
        "region. Estimated under the rules for unfiled care.",
    ),
    "estimate.steps": ("计算步骤", "How it is calculated"),
    "estimate.bad_amount": ("请填写金额，如 12000.00", "Enter an amount such as 12000.00"),
    "estimate.bad_level": ("请选择医院级别", "Choose a hospital level"),
    "nav.my_filings": ("我的备案", "My filings"),
    "state.draft": ("草稿", "Draft"),
    "state.submitted": ("已提交", "Submitted"),
    "state.approved": ("已备案", "Approved"),
    "state.rejected": ("已退回", "Rejected"),
    "state.superseded": ("已变更", "Superseded"),
    "state.cancelled": ("已撤销", "Cancelled"),
    "state.expired": ("已过期", "Expired"),
    "filings.title": ("异地就医备案审核与查询", "Filings: review and search"),
    "filings.intro": (
        "待审核的备案默认列在下方。列表中的身份证号和电话均已脱敏；打开备案可查看完整信息（访问将被记录）。",
        "Filings waiting for review are listed below. IDs and phones are masked in lists; "
        "opening a filing shows it in full (and is recorded).",
    ),
    "filings.search": ("身份证号、姓名或备案编号", "ID number, name or filing number"),
    "filings.search_button": ("查询", "Search"),
    "filings.search_hint": (
        "以 BA 开头按备案编号（或编号开头）查询，数字按身份证号（完整号码或末尾至少4位）查询，其余按姓名（或姓名开头）查询。",
        "Text starting with BA searches filing numbers (or their beginning), digits search ID numbers "
        "(whole, or at least the last four), anything else names (or their beginning).",
    ),
    "filings.query_too_long": ("查询内容过长", "The search text is too long"),
    "filings.all_states": ("全部状态", "All states"),
    "filings.results": ("共 {count} 条", "{count} filings"),
    "pager.label": ("翻页", "Pages"),
    "pager.status": (
        "第 {first}–{last} 条，共 {total} 条（第 {page}/{pages} 页）",
        "Rows {first}–{last} of {total} (page {page} of {pages})",
    ),
    "pager.previous": ("上一页", "Previous page"),
    "pager.next": ("下一页", "Next page"),
    "pager.size": ("每页条数", "Rows per page"),
    "filings.none": ("没有符合条件的备案。", "No filing matches."),
    "filings.number": ("备案编号", "Filing number"),
    "filings.no_number": ("（未分配）", "(not yet)"),
    "filings.name": ("姓名", "Name"),
    "filings.id_number": ("身份证号", "ID number"),
    "filings.category": ("人员类别", "Category"),
    "filings.insured_region": ("参保地", "Insured region"),
    "filings.destination": ("就医地", "Destination"),
    "filings.state": ("状态", "State"),
    "filings.phone": ("联系电话", "Phone"),
    "filings.reason_required": ("请填写原因", "Give a reason"),
    "detail.title": ("备案详情", "Filing"),
    "detail.back": ("返回列表", "Back to the list"),
    "detail.reason": ("原因", "Reason"),
    "detail.version": ("版本", "Version"),
    "detail.version_n": ("第{n}版", "Version {n}"),
    "detail.gender": ("性别", "Gender"),
    "detail.insurance": ("险种", "Insurance"),
    "detail.institutions": ("定点医疗机构", "Designated hospitals"),
    "detail.card": ("社会保障卡号", "Card number"),
    "detail.home_address": ("参保地家庭住址", "Home address"),
    "detail.contact_address": ("异地联系地址", "Address at the destination"),
    "detail.filled_on": ("填表日期", "Filled on"),
    "detail.delegate": ("被委托人", "Delegate"),
    "detail.validity": ("备案有效期", "Valid"),
    "detail.open_ended": ("长期有效", "until changed or cancelled"),
    "detail.agency": ("经办", "Handled by"),
    "detail.annex1": ("打印附件1（PDF）", "Print annex 1 (PDF)"),
    "detail.warnings": ("需要跟进", "To follow up"),
    "detail.evidence": ("证明材料", "Supporting documents"),
    "detail.missing": ("尚缺材料", "Still missing"),
    "detail.evidence_kind": ("材料", "Document"),
    "detail.evidence_number": ("编号", "Number"),
    "detail.evidence_issuer": ("出具单位", "Issued by"),
    "detail.evidence_date": ("出具日期", "Issued on"),
    "detail.evidence_file": ("扫描件", "Scan"),
    "detail.no_evidence": ("尚未提交证明材料。", "No documents yet."),
    "detail.actions": ("办理", "Actions"),
    "detail.approve": ("审核通过（备案）", "Approve"),
    "detail.reject": ("退回", "Reject"),
    "detail.reject_reason": ("退回原因", "Reason for rejecting"),
    "detail.submit": ("提交审核", "Submit for review"),
    "detail.cancel": ("撤销备案", "Cancel the filing"),
    "detail.cancel_reason": ("撤销原因", "Reason for cancelling"),
    "detail.history": ("办理记录", "History"),
    "detail.done_approve": (
        "已审核通过，备案编号已分配。",
        "Approved; the filing number is assigned.",
    ),
    "detail.done_reject": ("已退回。", "Rejected."),
    "detail.done_cancel": ("已撤销。", "Cancelled."),
    "detail.done_submit": ("已提交，等待经办机构审核。", "Submitted; the agency will review it."),
    "emergency.title": ("异地急诊备案期限", "Emergency filings and their deadlines"),
    "emergency.intro": (
        "急诊入院后须在3个工作日内补办备案。以下为尚未提交的急诊备案，按截止日期排列。",
        "Emergency admissions must be filed within three working days. Open emergency filings, soonest deadline first.",
    ),
    "emergency.admitted_on": ("入院日期", "Admitted on"),
    "emergency.deadline": ("补办截止日期", "Deadline"),
    "emergency.days_left": ("剩余工作日", "Working days left"),
    "emergency.n_days": ("{n}个工作日", "{n} working days"),
    "emergency.late": ("已逾期", "Late"),
    "emergency.unknown": ("日期超出节假日日历范围", "date outside the holiday calendar"),
    "emergency.provisional": (
        "按法定节假日推算，国务院公布当年放假安排后以公布为准",
        "Counted on the statutory holidays; the State Council's holiday arrangement for the year prevails once published",
    ),
    "emergency.none": ("没有待补办的急诊备案。", "No open emergency filing."),
    "incomplete.title": ("待补充信息的备案", "Filings with missing information"),
    "incomplete.intro": (
        "先期已办理的备案须按附件1重新整理登记，必填信息缺失的请联系本人补充（豫人社办函〔2017〕63号）。",
        "Earlier filings must be brought up to annex 1; contact these persons to complete the missing fields (Henan notice 63).",
    ),
    "incomplete.missing": ("缺少的必填项", "Missing fields"),
    "incomplete.none": ("没有缺少必填信息的备案。", "No filing lacks a mandatory field."),
    "annex2.title": ("附件2 备案信息汇总表导出", "Annex 2 export"),
    "annex2.intro": (
        "导出本地区在所选期间审核通过的异地居住人员备案（基本医疗保险异地居住人员备案信息汇总表）。",
        "Exports the approved residence-based filings of your region in the period (annex 2 summary table).",
    ),
    "annex2.from": ("备案日期自", "Filed from"),
    "annex2.to": ("备案日期至", "Filed to"),
    "annex2.download": ("下载附件2（XLSX）", "Download annex 2 (XLSX)"),
    "annex2.masked_hint": (
        "经办机构导出的表格默认脱敏；省社保局导出完整信息。每次导出都会记录。",
        "Agency exports are masked; province exports are complete. Every export is recorded.",
    ),
    "import.title": ("报盘导入（附件2格式）", "Batch import (annex 2 layout)"),
    "import.intro": (
        "上传附件2格式的CSV或XLSX文件。同一文件重复上传不会重复导入，逐行报告导入结果。",
        "Upload a CSV or XLSX file in the annex 2 layout. Uploading the same file again imports nothing twice; every row is reported.",
    ),
    "import.file": ("报盘文件（CSV或XLSX）", "File (CSV or XLSX)"),
    "import.submit": ("上传并导入", "Upload and import"),
    "import.file_required": ("请选择要上传的文件", "Choose a file to upload"),
    "import.too_large": ("文件不能超过{mb}MB", "The file must be at most {mb} MB"),
    "import.report": ("导入结果", "Import report"),
    "import.job": ("导入任务", "Import job"),
    "import.job_queued": ("排队中，页面会自动刷新", "Queued; this page refreshes itself"),
    "import.job_running": ("正在导入，页面会自动刷新", "Importing; this page refreshes itself"),
    "import.job_done": ("已完成", "Finished"),
    "import.job_failed": ("失败", "Failed"),
    "import.job_rows": ("已处理 {rows} 行", "{rows} rows processed"),
    "import.replayed": (
        "该文件此前已导入，以下为当时的结果，本次未重复导入。",
        "This file was imported before; this is that report, nothing was imported again.",
    ),
    "import.total": ("总行数", "Rows"),
    "import.imported": ("已导入", "Imported"),
    "import.duplicates": ("重复（已存在）", "Already present"),
    "import.rejected": ("退回", "Rejected"),
    "import.errors": ("退回的行", "Rejected rows"),
    "import.line": ("行", "Row"),
    "import.column": ("栏目", "Column"),
    "import.problem": ("问题", "Problem"),
    "import.conflicts": (
        "在多个地区备案的人员（{count}）",
        "Persons filed in several regions ({count})",
    ),
    "my.title": ("我的异地就医备案", "My filings"),
    "my.intro": (
        "这里列出您本人的备案及办理状态。草稿或被退回的备案可以补充后再提交；已备案的可以申请撤销。",
        "Your own filings and their state. A draft or a rejected filing can be completed and submitted again; an approved one can be cancelled.",
    ),
    "my.none": ("您还没有备案。", "You have no filing yet."),
    "my.change_hint": (
        "已备案的备案可在备案详情页在线申请变更（如更换定点医院、联系地址），由参保地经办机构审核；也可到经办机构窗口办理。",
        "An approved filing can be changed online from its page (another hospital, a new address); your home agency reviews the request. The agency counter can also change it.",
    ),
    # hospital cashier
    "nav.cashier_check": ("入院登记（身份与备案校验）", "Admission (identity and filing check)"),
    "nav.encounters": ("本院就诊与结算", "Encounters and settlement"),
    "cashier.check_title": ("入院身份与备案校验", "Admission check"),
    "cashier.check_intro": (
        "刷社会保障卡或输入卡号，查询参保人及其在本院的有效异地就医备案；无有效备案的不能直接结算。",
        "Enter the social security card number: the person and their valid filing for this hospital. Without a valid filing there is no direct settlement.",
    ),
    "cashier.card": ("社会保障卡号", "Social security card number"),
    "cashier.card_required": ("请输入社会保障卡号", "Enter the card number"),
    "cashier.check_submit": ("查询", "Check"),
    "cashier.direct": ("可以直接结算", "Direct settlement available"),
    "cashier.not_direct": ("不能直接结算", "No direct settlement"),
    "cashier.psn_no": ("人员编号", "Person number"),
    "cashier.local_insured": ("本地参保，无需备案", "Insured locally; no filing needed"),
    "cashier.admit_title": ("办理入院", "Admit"),
    "cashier.department_code": ("科室编码", "Department code"),
    "cashier.department_name": ("科室名称", "Department"),
    "cashier.inpatient_number": ("住院号", "Inpatient number"),
    "cashier.admitted_at": ("入院时间", "Admitted at"),
    "cashier.discharged_at": ("出院时间", "Discharged at"),
    "cashier.diagnosis_codes": ("诊断编码（ICD-10）", "Diagnosis codes (ICD-10)"),
    "cashier.diagnosis_hint": (
        "主诊断在前，多个编码用逗号分隔，如 K80.100, I10",
        "Main diagnosis first; separate codes with commas, e.g. K80.100, I10",
    ),
    "cashier.med_type": ("医疗类别", "Care type (med_type)"),
    "cashier.emergency_started_at": (
        "急诊抢救开始时间（急诊转住院必填）",
        "Emergency care started at (needed for emergency admissions)",
    ),
    "cashier.accidental_injury": ("意外伤害住院", "Accidental injury"),
    "cashier.admit_submit": ("办理入院", "Admit"),
    "cashier.required": ("此项必填", "Required"),
    "cashier.invalid_time": (
        "时间格式不正确，应为 2026-11-21 09:00",
        "Enter a time such as 2026-11-21 09:00",
    ),
    "cashier.invalid_amount": ("金额格式不正确，如 11811.24", "Enter an amount such as 11811.24"),
    "cashier.encounters_title": ("本院就诊", "Encounters"),
    "cashier.encounter_title": ("就诊详情", "Encounter"),
    "cashier.encounter_id": ("就诊ID", "Encounter id"),
    "cashier.state": ("状态", "State"),
    "cashier.all_states": ("全部", "All"),
    "cashier.filter": ("筛选", "Filter"),
    "cashier.no_encounters": ("暂无就诊记录。", "No encounters yet."),
    "cashier.total": ("费用合计（元）", "Total charges (yuan)"),
    "cashier.fees_title": ("费用明细", "Fee lines"),
    "cashier.no_fees": ("尚未上传费用明细。", "No fee lines uploaded yet."),
    "cashier.serial": ("流水号", "Serial"),
    "cashier.item": ("项目", "Item"),
    "cashier.quantity": ("数量", "Quantity"),
    "cashier.amount": ("金额", "Amount"),
    "cashier.class": ("类别", "Class"),
    "cashier.cancelled_line": ("已撤销", "cancelled"),
    "cashier.fee_text": ("费用明细（CSV）", "Fee lines (CSV)"),
    "cashier.fee_text_hint": (
        "每行一条：流水号,目录编码,名称,数量,单价,金额,发生时间（如 1,XJ01DDA110B002010104371,注射用头孢曲松钠,20,35.60,712.00,2026-11-21 09:00）；也可选择 CSV 文件上传。",
        "One line each: serial, catalogue code, name, quantity, unit price, amount, time (e.g. 1,XJ01DDA110B002010104371,Ceftriaxone,20,35.60,712.00,2026-11-21 09:00); or choose a CSV file.",
    ),
    "cashier.fee_file": ("或选择 CSV 文件", "Or choose a CSV file"),
    "cashier.upload": ("上传费用明细", "Upload fee lines"),
    "cashier.fees_required": ("请填写或选择费用明细", "Enter or choose the fee lines"),
    "cashier.fees_invalid": (
        "费用明细有误，请按下列提示更正后重新上传",
        "Some fee lines are wrong; correct them and upload again",
    ),
    "cashier.unknown_codes": (
        "以下目录编码不在就医地医保目录中，本批次未上传：",
        "These codes are not in the treatment region's catalogue; nothing was uploaded:",
    ),
    "cashier.uploaded": ("已上传 {count} 条费用明细", "{count} fee lines uploaded"),
    "cashier.settle_title": ("出院与结算", "Discharge and settlement"),
    "cashier.pre_settle": ("预结算（不提交）", "Pre-settle (nothing is saved)"),
    "cashier.discharge": ("办理出院", "Discharge"),
    "cashier.total_charges": (
        "医疗费总额（元，须与明细合计一致）",
        "Total charges (yuan, must match the lines)",
    ),
    "cashier.settle": ("确认结算", "Settle"),
    "cashier.preview_title": ("预结算结果", "Pre-settlement result"),
    "cashier.preview_hint": (
        "预结算只计算，不保存；出院后确认结算才生效。",
        "A pre-settlement only computes; nothing is saved until you settle after discharge.",
    ),
    "cashier.settlement_title": ("结算结果", "Settlement"),
    "cashier.settlement_id": ("结算ID", "Settlement id"),
    "cashier.lines_explained": ("逐条说明", "Line by line"),
    "cashier.reason": ("说明", "Explanation"),
    "cashier.steps": ("计算过程", "How it was computed"),
    "cashier.versions": ("计算依据", "Computed with"),
    "cashier.policy_version": ("政策版本", "Policy version"),
    "cashier.catalog_version": ("目录版本", "Catalogue version"),
    "cashier.statement": ("打印结算说明（患者留存）", "Print the statement for the patient"),
    "cashier.statement_heading": (
        "异地就医住院结算说明",
        "Cross-region inpatient settlement statement",
    ),
    "cashier.patient_signature": ("参保人签字", "Patient's signature"),
    "cashier.cashier_signature": ("收费员", "Cashier"),
    "cashier.not_settled": ("该就诊尚未结算。", "This encounter is not settled yet."),
    "cashier.reverse_confirm": (
        "确认撤销这笔结算（基金支付和年度累计将全部冲回，就诊回到已出院状态）",
        "Yes, reverse this settlement (fund payments and yearly totals are restored; the encounter returns to discharged)",
    ),
    "cashier.confirm_required": ("请勾选确认后再撤销", "Tick the confirmation to reverse"),
    "cashier.reverse": ("撤销结算", "Reverse the settlement"),
    "cashier.history": ("结算记录", "Settlement records"),
    "cashier.kind": ("类型", "Kind"),
    "cashier.time": ("时间", "Time"),
    "cashier.done_admit": ("已办理入院", "Admitted"),
    "cashier.done_discharge": ("已办理出院", "Discharged"),
    "cashier.done_settle": ("结算成功", "Settled"),
    "cashier.done_reverse": ("结算已撤销", "Settlement reversed"),
    "cashier.choose": ("选择", "Select"),
    "cashier.choose_line": ("选择流水号 {serial}", "Select serial {serial}"),
    "cashier.fee_cancel_hint": (
        "勾选要撤销的费用明细（未结算的才能撤销），或撤销全部有效明细；撤销后的明细保留在列表中，不参与结算，可重新上传更正后的明细。",
        "Tick the fee lines to cancel (only unsettled ones), or cancel every active line; cancelled lines stay listed, are left out of settlement, and corrected lines can be uploaded again.",
    ),
    "cashier.fee_cancel_confirm": (
        "我已核对，确认撤销这些费用明细",
        "I have checked; cancel these fee lines",
    ),
    "cashier.cancel_selected": ("撤销勾选的明细", "Cancel the ticked lines"),
    "cashier.cancel_all": ("撤销全部有效明细（{count} 条）", "Cancel all active lines ({count})"),
    "cashier.choose_lines": (
        "请先勾选要撤销的费用明细",
        "Tick the fee lines to cancel first",
    ),
    "cashier.cancel_confirm_required": (
        "请勾选确认后再撤销",
        "Tick the confirmation to cancel",
    ),
    "cashier.cancel_discharge_confirm": (
        "确认撤销出院（患者回到在院状态，可继续上传或撤销费用明细）",
        "Yes, undo the discharge (the patient is in hospital again; fee lines can be changed)",
    ),
    "cashier.cancel_discharge": ("撤销出院", "Undo the discharge"),
    "cashier.cancel_admission_title": ("撤销入院登记", "Cancel the admission"),
    "cashier.cancel_admission_hint": (
        "只能撤销尚未结算、没有有效费用明细的入院登记；已上传明细的请先撤销全部明细。",
        "Only an admission with nothing settled and no active fee lines can be cancelled; cancel every fee line first.",
    ),
    "cashier.cancel_reason": ("撤销原因", "Reason for cancelling"),
    "cashier.cancel_admission_confirm": (
        "确认撤销本次入院登记（撤销后不能恢复，须重新办理入院）",
        "Yes, cancel this admission (it cannot be restored; admit again if needed)",
    ),
    "cashier.cancel_admission": ("撤销入院登记", "Cancel the admission"),
    "cashier.form_reused": (
        "该表单已提交过，请刷新页面后重新操作",
        "This form was already sent; reload the page and try again",
    ),
    "cashier.done_fee_cancel": ("已撤销所选费用明细", "Fee lines cancelled"),
    "cashier.done_cancel_admission": ("已撤销入院登记", "Admission cancelled"),
    "cashier.done_cancel_discharge": (
        "已撤销出院，患者在院",
        "Discharge undone; the patient is admitted",
    ),
    "encounter.registered": ("已挂号", "Registered (outpatient)"),
    "encounter.admitted": ("在院", "Admitted"),
    "encounter.discharged": ("已出院", "Discharged"),
    "encounter.settled": ("已结算", "Settled"),
    "encounter.cancelled": ("已撤销入院", "Admission cancelled"),
    "med_type.11": ("普通门诊", "General outpatient"),
    "med_type.21": ("普通住院", "Inpatient"),
    "med_type.22": ("外伤住院（不直接结算）", "Injury admission (not settled directly)"),
    "med_type.24": ("急诊转住院", "Emergency to inpatient"),
    "item_class.01": ("甲类", "Class A"),
    "item_class.02": ("乙类", "Class B"),
    "item_class.03": ("丙类（自费）", "Class C (self-paid)"),
    "settlement_kind.settle": ("结算", "Settlement"),
    "settlement_kind.reversal": ("撤销", "Reversal"),
    "settlement_kind.pre_settle": ("预结算", "Pre-settlement"),
    "settlement_kind.reversed": ("已撤销", "reversed"),
    "amount.total_charges": ("医疗费总额", "Total charges"),
    "amount.fully_self_paid": ("全自费", "Fully self-paid"),
    "amount.over_limit_self_paid": ("超限价自付", "Over the price limit"),
    "amount.upfront_self_paid": ("先行自付", "Upfront self-paid"),
    "amount.eligible_amount": ("符合政策范围", "Eligible"),
    "amount.deductible_applied": ("起付线", "Deductible"),
    "amount.pooled_fund_paid": ("统筹基金支付", "Pooled fund"),
    "amount.serious_illness_paid": ("大病保险支付", "Serious illness insurance"),
    "amount.large_expense_paid": ("大额医疗补助", "Large-expense subsidy"),
    "amount.medical_assistance_paid": ("医疗救助", "Medical assistance"),
    "amount.fund_paid_total": ("基金支付合计", "Funds paid in total"),
    "amount.patient_share": ("个人负担", "Patient's share"),
    "amount.personal_account_paid": ("个人账户支付", "Personal account"),
    "amount.cash_paid": ("个人现金支付", "Cash"),
    # the online filing form
    "nav.new_filing": ("新建备案", "New filing"),
    "nav.my_new_filing": ("在线办理备案", "File online"),
    "detail.done_draft": (
        "草稿已保存。补齐材料后请提交。",
        "Draft saved. Add what is missing, then submit.",
    ),
    "detail.done_evidence": ("证明材料已添加。", "Document added."),
    "newfiling.title": ("异地就医登记备案表（附件1）", "Cross-region care filing form (annex 1)"),
    "newfiling.intro": (
        "按《异地就医登记备案表》逐项填写，上传所需证明材料；提交后由参保地经办机构审核。带“提交备案”的会先检查每一项，有误的不会保存。",
        "Fill in every field of the form and upload the documents needed; the home agency reviews it. Submitting checks every field first and saves nothing when something is wrong.",
    ),
    "newfiling.has_errors": (
        "有 {count} 处需要更正，见各项下方的提示",
        "{count} fields need correcting; see the messages below them",
    ),
    "newfiling.choose": ("请选择", "Choose"),
    "newfiling.unknown": ("不确定", "Not sure"),
    "newfiling.person": ("参保人员信息", "The insured person"),
    "newfiling.ssn": ("社会保障号码（身份证号）", "Social security number (ID number)"),
    "newfiling.insured_region": (
        "参保地（经办机构所在统筹区）",
        "Insured region (home pooling region)",
    ),
    "newfiling.person_type": ("人员身份", "Person type"),
    "newfiling.evidence_needs": ("各类人员需提供的证明材料", "Documents each category needs"),
    "newfiling.second_card": ("是否持二代社会保障卡", "Holds a second-generation card"),
    "newfiling.contact": ("住址与联系电话", "Addresses and phones"),
    "newfiling.phone": ("联系电话", "Phone"),
    "newfiling.mobile": ("手机", "Mobile"),
    "newfiling.destination": ("转往地区及定点医疗机构", "Destination and designated hospitals"),
    "newfiling.destination_hint": (
        "先选择省份，点击“更新地区选项”后再选择地区（市、州）和县（区）。",
        "Choose the province, press 'Update the region lists', then the prefecture and county.",
    ),
    "newfiling.dest_province": ("转往省（市、区）", "Destination province"),
    "newfiling.dest_prefecture": ("地区（市、州）", "Prefecture"),
    "newfiling.dest_county": ("县（区）", "County"),
    "newfiling.choose_province_first": ("请先选择省份并更新选项", "Choose a province first"),
    "newfiling.choose_prefecture_first": ("请先选择地区并更新选项", "Choose a prefecture first"),
    "newfiling.whole_prefecture": ("不限县（区）", "Any county"),
    "newfiling.refresh": ("更新地区选项", "Update the region lists"),
    "newfiling.institution": ("定点医疗机构{n}名称", "Designated hospital {n}"),
    "newfiling.institution_level": ("定点医疗机构{n}级别", "Level of hospital {n}"),
    "newfiling.admitted_on": (
        "急诊入院日期（异地急诊人员填写）",
        "Emergency admission day (emergencies only)",
    ),
    "newfiling.evidence": ("证明材料", "Supporting document"),
    "newfiling.evidence_hint": (
        "扫描件支持 PDF、JPEG、PNG，不超过 {mb}MB；出具单位所在地填写6位行政区划代码（如安置地户口由安置地出具）。",
        "Scans as PDF, JPEG or PNG, at most {mb} MB; the issuer's place is a 6-digit division code.",
    ),
    "newfiling.evidence_region": (
        "出具单位所在地（行政区划代码）",
        "Issuer's place (division code)",
    ),
    "newfiling.evidence_file": ("扫描件", "Scan"),
    "newfiling.invalid_region": ("行政区划代码应为6位数字", "A division code has 6 digits"),
    "newfiling.kind_required": ("请选择材料种类", "Choose the kind of document"),
    "newfiling.add_evidence": ("添加证明材料", "Add a document"),
    "newfiling.signature": ("签名与日期", "Signature and date"),
    "newfiling.signed_by": ("签名人", "Signed by"),
    "newfiling.signed_person": ("本人", "The insured person"),
    "newfiling.signed_delegate": ("被委托人", "A delegate"),
    "newfiling.delegate_name": ("被委托人姓名", "Delegate's name"),
    "newfiling.delegate_relation": ("与本人关系", "Relation"),
    "newfiling.delegate_id": ("被委托人身份证号", "Delegate's ID number"),
    "newfiling.submit": ("提交备案", "Submit"),
    "newfiling.save_draft": ("保存草稿", "Save as draft"),
    # manual reimbursement
    "nav.claims": ("手工报销受理", "Manual reimbursement"),
    "claims.new_title": ("受理手工报销（回参保地报销）", "New manual reimbursement claim"),
    "claims.intro": (
        "未备案或不纳入直接结算的住院费用，由参保人全额垫付后带以下材料回参保地报销：",
        "Care not settled directly is paid by the patient, who claims at home with these papers:",
    ),
    "claims.treatment_region": ("就医地行政区划代码", "Treatment region (division code)"),
    "claims.hospital_name": ("就医医院", "Hospital"),
    "claims.hospital_level": ("医院级别", "Hospital level"),
    "claims.filing_category": ("备案类别", "Filing category"),
    "claims.not_filed": ("未备案", "Not filed"),
    "claims.admitted_on": ("入院日期", "Admitted on"),
    "claims.discharged_on": ("出院日期", "Discharged on"),
    "claims.reason": ("未直接结算的原因", "Why it was not settled directly"),
    "claims.create": ("受理", "Open the claim"),
    "claims.title": ("手工报销申请", "Manual reimbursement claim"),
    "claims.id": ("申请编号", "Claim id"),
    "claims.blocked": ("审核通过前还需：", "Before approval:"),
    "claims.blocked_materials": ("补齐材料：", "Missing papers: "),
    "claims.blocked_lines": ("录入住院医疗费用总清单", "Enter the itemised fee list"),
    "claims.blocked_compute": ("按参保地政策试算", "Compute under the home region's policy"),
    "claims.materials": ("材料清单", "Materials checklist"),
    "claims.received": ("已收到的材料", "Papers received"),
    "claims.have": ("已收", "received"),
    "claims.missing": ("缺", "missing"),
    "claims.record_materials": ("登记收到的材料", "Record the papers received"),
    "claims.fee_lines": ("费用明细（{count} 条）", "Fee lines ({count})"),
    "claims.save_lines": ("保存费用明细", "Save the fee lines"),
    "claims.result": ("试算与审核", "Computation and approval"),
    "claims.compute": ("按参保地政策试算", "Compute"),
    "claims.approve": ("审核通过", "Approve"),
    "claims.reference": ("支付凭证号", "Payment reference"),
    "claims.pay": ("登记支付", "Record the payment"),
    "claims.done_materials": ("材料已登记。", "Papers recorded."),
    "claims.done_lines": ("费用明细已保存。", "Fee lines saved."),
    "claims.done_compute": ("已试算。", "Computed."),
    "claims.done_approve": ("已审核通过。", "Approved."),
    "claims.done_payment": ("已登记支付。", "Payment recorded."),
    "nav.claims_list": ("手工报销申请列表", "Manual reimbursement claims"),
    "claims.list_title": ("本统筹区手工报销申请", "Manual reimbursement claims of my region"),
    "claims.list_intro": (
        "本经办机构受理的回参保地报销申请，最新受理的在前；身份证号已脱敏，打开申请可查看详情。",
        "Claims taken in by this agency, newest first; ID numbers are masked. Open a claim for its details.",
    ),
    "claims.search": ("申请编号、姓名或完整身份证号", "Claim id, name or whole ID number"),
    "claims.search_hint": (
        "按身份证号查询须输入完整号码；受理日期按北京时间，起止日期均包含在内。",
        "An ID number search needs the whole number; intake dates are Beijing dates, both ends included.",
    ),
    "claims.received_from": ("受理日期起", "Taken in from"),
    "claims.received_to": ("受理日期止", "Taken in until"),
    "claims.received_on": ("受理日期", "Taken in on"),
    "claims.results": ("共 {count} 件", "{count} claims"),
    "claims.none": ("没有符合条件的报销申请。", "No claims match."),
    "claims.materials_complete": ("齐全", "Complete"),
    "claims.materials_missing": ("已收 {have}/{total}", "{have} of {total} received"),
    "claims.amounts_hint": (
        "金额在审核通过后显示（元）。",
        "Amounts (yuan) appear once a claim is approved.",
    ),
    "claims.pages": ("分页", "Pages"),
    "claims.page": ("第 {page}/{pages} 页", "Page {page} of {pages}"),
    "claims.previous": ("上一页", "Previous page"),
    "claims.next": ("下一页", "Next page"),
    "claim_state.draft": ("受理中", "Open"),
    "claim_state.computed": ("已试算", "Computed"),
    "claim_state.approved": ("已审核", "Approved"),
    "claim_state.paid": ("已支付", "Paid"),
    # quarterly new/changed list
    "nav.filings_quarterly": ("季度新增（变更）备案人员", "Quarterly new and changed filings"),
    "quarterly.title": (
        "每季度末新增（变更）备案人员信息",
        "New and changed filings of the quarter",
    ),
    "quarterly.intro": (
        "按地市列出本季度新增和变更的备案人员（附件2格式，另加登记类别），可下载 XLSX 报送。",
        "The quarter's new and changed filings per prefecture (annex 2 layout plus the registration type), downloadable as XLSX.",
    ),
    "quarterly.year": ("年份", "Year"),
    "quarterly.quarter": ("季度", "Quarter"),
    "quarterly.show": ("查看", "Show"),
    "quarterly.download": ("下载 XLSX", "Download XLSX"),
    "quarterly.period": ("统计期间", "Period"),
    "quarterly.none": (
        "本季度没有新增或变更的备案人员。",
        "No new or changed filings this quarter.",
    ),
    "quarterly.rows": ("{count} 人", "{count} persons"),
    "quarterly.region_fixed": ("本单位只能查看本地区。", "You see your own region only."),
    # 地市报送情况 and the 报盘 batches
    "nav.province_submissions": ("地市报送情况", "Prefecture submissions"),
    "nav.import_batches": ("报盘批次与导入报告", "Import batches and reports"),
    "submissions.title": ("各地市备案报送情况", "Filings submitted by prefecture"),
    "submissions.intro": (
        "按地市统计所选期间的备案：按状态、按来源（窗口或报盘）、新增与变更人数，最近一次提交和导入时间，以及临近或已超过期限的急诊备案。",
        "Filings of the chosen period per prefecture: by state, by source (counter or batch import), new and changed, the last submission and import, and emergency filings near or past their deadline.",
    ),
    "submissions.period": ("统计期间", "Period"),
    "submissions.quarter_n": ("第{n}季度", "Quarter {n}"),
    "submissions.whole_year": ("全年", "Whole year"),
    "submissions.table": ("报送情况", "Submissions"),
    "submissions.code": ("代码", "Code"),
    "submissions.region": ("地市", "Prefecture"),
    "submissions.total": ("合计", "Total"),
    "submissions.counter": ("窗口办理", "At the counter"),
    "submissions.imported": ("报盘导入", "Batch import"),
    "submissions.new": ("新增", "New"),
    "submissions.changed": ("变更", "Changed"),
    "submissions.last_submitted": ("最近提交时间", "Last submitted"),
    "submissions.last_imported": ("最近导入时间", "Last imported"),
    "submissions.emergency_near": ("急诊临近期限", "Emergency: deadline near"),
    "submissions.emergency_late": ("急诊已逾期", "Emergency: past deadline"),
    "submissions.sum": ("合计", "Total"),
    "submissions.province_level": ("省直", "Province level"),
    "submissions.download_csv": ("下载 CSV", "Download CSV"),
    "submissions.download_xlsx": ("下载 XLSX", "Download XLSX"),
    "submissions.file_title": (
        "{region}各地市备案报送情况（{first}至{last}）",
        "Filings submitted by prefecture, {region}, {first} to {last}",
    ),
    "submissions.notes": (
        "说明：按状态和来源的人数为期间内新建的备案版本（不含草稿），按当前状态计；新增、变更为期间内已备案（审核通过或导入）的版本，含全部备案类别（季度新增变更名单只列异地居住类别）；最近时间截至期末；急诊备案按{day}的状态统计（临近：剩余不超过1个工作日）。",
        "Notes: the state and source columns count the filing versions created in the period (drafts left out) by their state now; new and changed count the versions filed (approved or imported) in the period, every category (the quarterly list shows residence categories only); the last times are up to the end of the period; emergency filings are as of {day} (near: one working day or less left).",
    ),
    "imports.title": ("报盘批次", "Import batches"),
    "imports.batch_title": ("报盘导入报告", "Import report"),
    "imports.intro": (
        "历次报盘导入的文件及其导入报告；批次归属于报盘所属地区（报送文件的地市或经办机构，命令行导入的批次也在内）。",
        "Every imported batch file and its report; a batch belongs to the region it was submitted"
        " for (the submitting prefecture or agency, command-line imports included).",
    ),
    "imports.all_regions": ("全部地区", "All regions"),
    "imports.province_accounts": (
        "{region}（省本级报盘）",
        "{region} (the province's own batches)",
    ),
    "imports.from": ("导入日期自", "Imported from"),
    "imports.to": ("导入日期至", "Imported to"),
    "imports.results": ("共 {count} 个批次", "{count} batches"),
    "imports.none": ("没有符合条件的报盘批次。", "No batches match."),
    "imports.imported_at": ("导入时间", "Imported at"),
    "imports.file": ("文件", "File"),
    "imports.by": ("导入人", "Imported by"),
    "imports.pages": ("分页", "Pages"),
    "imports.previous": ("上一页", "Previous"),
    "imports.next": ("下一页", "Next"),
    "imports.page_of": ("第 {number} / {pages} 页", "Page {number} of {pages}"),
    "imports.invalid_page": ("页码无效", "Invalid page number"),
    "imports.no_errors": ("本批次没有退回的行。", "No rows of this batch were rejected."),
    # change requests (变更申请)
    "nav.change_requests": ("变更申请审核", "Change requests to review"),
    "change.section": ("变更申请", "Change requests"),
    "change.ask": ("申请变更", "Ask for a change"),
    "change.ask_hint": (
        "修改需要变更的内容并说明原因，提交后由参保地经办机构审核；审核通过前备案保持不变。",
        "Edit what should change and say why; your home agency reviews the request. The filing stays as it is until then.",
    ),
    "change.form_title": ("变更申请（异地就医登记备案表）", "Change request (filing form)"),
    "change.form_intro": (
        "表中已填入当前备案内容。社会保障号码和参保地不能变更；变更人员类别或就医地时请补充相应证明材料。",
        "The form holds the current filing. The social security number and the insured region cannot change; a new category or destination needs its documents.",
    ),
    "change.reason_legend": ("变更原因", "Why the change"),
    "change.reason": ("变更原因", "Reason for the change"),
    "change.reason_required": ("请填写变更原因", "Give a reason for the change"),
    "change.submit": ("提交变更申请", "Send the change request"),
    "change.queue_title": ("变更申请审核", "Change requests to review"),
    "change.queue_intro": (
        "本统筹区参保人员在线提交、等待审核的备案变更申请，按提交时间排列（身份证号已脱敏）。",
        "Change requests of your region's insured persons waiting for review, oldest first (ID numbers masked).",
    ),
    "change.queue_total": ("待审核 {count} 件", "{count} waiting"),
    "change.queue_none": ("目前没有待审核的变更申请。", "No change request is waiting."),
    "change.pending_count": ("待审核", "waiting"),
    "change.changed_fields": ("变更项目", "What changes"),
    "change.evidence_only": ("补充证明材料", "Documents only"),
    "change.requested_at": ("申请时间", "Asked on"),
    "change.title": ("变更申请", "Change request"),
    "change.to_filing": ("查看备案", "Open the filing"),
    "change.done_requested": (
        "变更申请已提交，等待参保地经办机构审核。",
        "Change request sent; your home agency will review it.",
    ),
    "change.done_approve": (
        "已同意，备案已变更为新版本（备案编号不变）。",
        "Approved: the filing now has a new version (same filing number).",
    ),
    "change.done_evidence": (
        "已添加证明材料，经办机构审核时可见。",
        "Document added; the agency sees it when reviewing.",
    ),
    "change.done_reject": ("已退回变更申请。", "Change request rejected."),
    "change.done_withdraw": ("已撤回变更申请。", "Change request withdrawn."),
    "change.outdated": (
        "申请提交后备案已在经办机构窗口变更，本申请不能再同意，请退回。",
        "The filing was changed at the counter after this request; it can no longer be approved, reject it.",
    ),
    "change.base_version": ("版本", "Version"),
    "change.decided": ("处理", "Decided by"),
    "change.decision_reason": ("退回原因", "Reason given"),
    "change.compare": ("逐项对照", "Field by field"),
    "change.compare_hint": (
        "共 {count} 项变更，已标出。",
        "{count} fields change; they are marked.",
    ),
    "change.field": ("项目", "Field"),
    "change.old": ("现备案内容", "Now"),
    "change.new": ("申请变更为", "Asked for"),
    "change.changed_mark": ("（变更）", "(changed)"),
    "change.new_evidence": ("新增证明材料", "New documents"),
    "change.no_new_evidence": ("未提交新的证明材料。", "No new documents."),
    "change.kept_evidence": ("沿用的证明材料", "Documents kept"),
    "change.approve": ("同意变更", "Approve the change"),
    "change.reject": ("退回申请", "Reject the request"),
    "change.reject_reason": ("退回原因", "Reason for rejecting"),
    "change.withdraw": ("撤回申请", "Withdraw the request"),
    "change_state.pending": ("待审核", "Waiting for review"),
    "change_state.approved": ("已同意", "Approved"),
    "change_state.rejected": ("已退回", "Rejected"),
    "change_state.withdrawn": ("已撤回", "Withdrawn"),
    # accounts: one's own password, reset links, user administration
    "nav.users": ("用户管理", "User administration"),
    "nav.password": ("修改密码", "Change password"),
    "account.password_title": ("修改密码", "Change password"),
    "account.forced": (
        "首次登录或密码重置后，请先设置新密码，之后才能使用其他功能。",
        "Choose a new password first: it is required at first sign-in and after a reset.",
    ),
    "account.current": ("当前密码", "Current password"),
    "account.new": ("新密码", "New password"),
    "account.confirm": ("再次输入新密码", "New password again"),
    "account.submit": ("保存新密码", "Save the new password"),
    "reset.title": ("设置新密码", "Set a new password"),
    "reset.intro": (
        "为账户 {username} 设置新密码。此链接只能使用一次。",
        "Set a new password for {username}. This link works once.",
    ),
    "reset.submit": ("设置新密码", "Set the password"),
    "reset.done": (
        "账户 {username} 的新密码已设置，请登录。",
        "The new password of {username} is set; sign in.",
    ),
    "users.title": ("用户管理", "User administration"),
    "users.role": ("角色", "Role"),
    "users.display_name": ("名称", "Name"),
    "users.scope": ("范围（区划/医院）", "Scope (region / hospital)"),
    "users.region_code": (
        "统筹区区划代码（经办机构、省社保局、清算中心）",
        "Region code (agencies, provinces, clearing)",
    ),
    "users.hospital_code": ("定点医疗机构编码（收费员）", "Hospital code (cashiers)"),
    "users.id_number": ("身份证号码（参保人员）", "ID number (insured persons)"),
    "users.state": ("状态", "State"),
    "users.active": ("正常", "Active"),
    "users.disabled": ("已停用", "Disabled"),
    "users.must_change": ("待修改密码", "Must change password"),
    "users.held_back": ("暂缓登录的地址", "Addresses held back"),
    "users.sessions": ("有效会话", "Live sessions"),
    "users.create": ("新建用户", "New user"),
    "users.create_hint": (
        "新用户首次登录时须修改初始密码。请通过安全渠道把初始密码交给本人。",
        "A new user must change the initial password at first sign-in. Hand it over securely.",
    ),
    "users.initial_password": ("初始密码", "Initial password"),
    "users.create_submit": ("新建", "Create"),
    "users.back": ("← 用户列表", "← All users"),
    "users.acts": ("操作", "Actions"),
    "users.disable": ("停用账户", "Disable"),
    "users.enable": ("启用账户", "Enable"),
    "users.reset": ("发放密码重置链接", "Issue a reset link"),
    "users.unlock": ("解除登录暂缓", "Clear failed sign-ins"),
    "users.reset_link": ("一次性重置链接", "One-time reset link"),
    "users.reset_link_hint": (
        "只显示这一次。请交给本人；链接使用一次后或到期后失效，旧密码已停用。",
        "Shown this once. Give it to the user; it works once and expires; the old password no longer works.",
    ),
    "users.assign": ("角色与范围", "Role and scope"),
    "users.assign_hint": (
        "更改后该用户的所有登录会话立即结束。",
        "Saving ends every session of this user at once.",
    ),
    "users.assign_submit": ("保存角色", "Save role"),
    "users.done.created": (
        "用户已建立，首次登录须修改密码。",
        "User created; the first sign-in must change the password.",
    ),
    "users.done.disable": ("账户已停用，其会话已全部结束。", "Disabled; every session has ended."),
    "users.done.enable": ("账户已启用。", "Enabled."),
    "users.done.unlock": (
        "已清除该账户的登录失败记录。",
        "The account's failed sign-ins are cleared.",
    ),
    "users.done.role": ("角色已保存，其会话已全部结束。", "Role saved; every session has ended."),
}

# 政策调整测算 (what-if) pages keep their words beside them.
from yidi.entrypoints.web.whatif_words import WHATIF_WORDS  # noqa: E402

CATALOGUE.update(WHATIF_WORDS)


# English names of the domain's enumerations, by class name then member value. The
# Chinese is the member's own ``label_zh`` (or ``verb_zh``); a test checks that every member
# of these classes has its English here.
ENUM_EN: Final[Mapping[str, Mapping[str, str]]] = {
    "Gender": {"1": "Male", "2": "Female"},
    "PersonType": {
        "employee_active": "Working employee",
        "employee_retired": "Retired employee",
        "resident_adult": "Adult resident",
        "resident_child": "Child",
        "resident_student": "Student",
        "resident_elderly": "Elderly resident",
    },
    "HospitalLevel": {"1": "Level 1 hospital", "2": "Level 2 hospital", "3": "Level 3 hospital"},
    "EncounterType": {
        "21": "Ordinary inpatient stay",
        "22": "Inpatient stay for an injury",
        "24": "Emergency, then admitted",
        "11": "Ordinary outpatient visit",
        "14": "Outpatient chronic or special disease",
        "41": "Medicine from a designated pharmacy",
    },
    "EvidenceKind": {
        "household_registration": "Household registration at the resettlement place",
        "residence_permit": "Residence permit",
        "posting_certificate": "Employer's posting certificate",
        "referral_approval": "Referral approval form",
        "emergency_record": "Outpatient or emergency record",
        "admission_notice": "Admission notice",
        "delegation_letter": "Letter of authorisation",
    },
    "RegistrationType": {"1": "New", "2": "Change"},
    "FilingAction": {
        "create": "Created",
        "revise": "Revised",
        "submit": "Submitted",
        "approve": "Reviewed",
        "reject": "Reviewed",
        "change": "Changed",
        "cancel": "Cancelled",
        "expire": "Set to expired",
        "supply": "Documents supplied",
        "promise_lapse": "Treated as other temporary travel",
        "false_promise": "False promise found",
    },
    "Material": {
        "inpatient_receipt": "Original inpatient receipt",
        "discharge_record": "Discharge record or front page of the medical record",
        "diagnosis_certificate": "Diagnosis certificate",
        "itemised_fee_list": "Itemised list of inpatient fees",
    },
    "ChangeRequestState": {
        "pending": "Pending review",
        "approved": "Approved",
        "rejected": "Returned",
        "withdrawn": "Withdrawn",
    },
    "InsuranceType": {"310": "Employee insurance", "390": "Resident insurance"},
}

# English of the 附件1 field names (the Chinese is the domain's FIELD_LABELS), by field.
FIELD_EN: Final[Mapping[str, str]] = {
    "insured_region_code": "Insured region",
    "name": "Name",
    "gender": "Gender",
    "insurance_type": "Insurance",
    "category": "Category",
    "person_type": "Person type",
    "registration_type": "Registration type",
    "social_security_number": "Social security number",
    "social_security_card_number": "Social security card number",
    "home_address": "Home address (insured place)",
    "contact_address": "Contact address (where you live now)",
    "phone": "Phone",
    "mobile": "Mobile",
    "contact_phone": "Phone or mobile",
    "destination_province_code": "Destination province",
    "destination_prefecture_code": "Destination prefecture",
    "destination_county_code": "Destination county",
    "designated_institutions": "Hospitals",
    "signed_by": "Signature (you or your delegate)",
    "delegate": "Delegate",
    "filled_on": "Date filled in",
    "admitted_on": "Admission date",
    "valid_until": "Valid until",
}
# English of the 附件2 column headings (the Chinese is the notice's own, ANNEX2_COLUMNS, and
# the quarterly list's 登记类别).
ANNEX2_COLUMN_EN: Final[Mapping[str, str]] = {
    "序号": "No.",
    "参保地行政区划代码": "Insured region code",
    "参保地行政区划名称": "Insured region",
    "姓名": "Name",
    "性别": "Gender",
    "身份证号": "ID number",
    "险种类型": "Insurance",
    "社会保障号码": "Social security number",
    "社会保障卡号": "Social security card number",
    "现住址": "Current address",
    "联系电话": "Phone",
    "手机": "Mobile",
    "人员类别": "Category",
    "登记类别": "Registration type",  # the quarterly list's extra column
}
_FIELD_BY_ZH: Final[Mapping[str, str]] = {zh: field for field, zh in FIELD_LABELS.items()}

_ISSUER_PLACE_EN: Final[Mapping[IssuerPlace, str]] = {
    IssuerPlace.ANYWHERE: "",
    IssuerPlace.DESTINATION: " (issued at the place of care: resettlement or residence place)",
    IssuerPlace.INSURED_PLACE: " (issued at the insured place)",
}


def label(lang: Lang, member: object) -> str:
    """A domain value's name in ``lang``: an enum member, or a document requirement."""
    if isinstance(member, EvidenceRequirement):
        return requirement_label(lang, member)
    zh = getattr(member, "label_zh", None) or getattr(member, "verb_zh", None)
    if lang == "zh" and zh:
        return str(zh)
    if isinstance(member, enum.Enum):
        english = ENUM_EN.get(type(member).__name__, {}).get(str(member.value))
        if english is None:
            english = getattr(member, "label_en", None)
        if english:
            return str(english)
    return str(zh) if zh else str(member)


def requirement_label(lang: Lang, requirement: EvidenceRequirement) -> str:
    """One evidence requirement of a filing rule: the documents, where they come from, who issues."""
    if lang == "zh":
        return requirement.label_zh
    names = " or ".join(label(lang, kind) for kind in requirement.kinds)
    issuer = ""
    if requirement.issuer_levels:
        levels = ", ".join(label(lang, level) for level in requirement.issuer_levels)
        issuer = f" (from a designated {levels}"
        issuer += " or the top specialist hospital)" if requirement.top_specialist_allowed else ")"
    return names + _ISSUER_PLACE_EN[requirement.issuer_place] + issuer


def field_label(lang: Lang, zh: str) -> str:
    """A 附件1 field named by its Chinese label (as the domain reports it), in ``lang``."""
    if lang == "zh":
        return zh
    field = _FIELD_BY_ZH.get(zh)
    return FIELD_EN.get(field, zh) if field else zh


def translate(lang: Lang, key: str, **values: object) -> str:
    zh, en = CATALOGUE[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


class Translator:
    """The templates' ``t``: ``t(key, **values)`` from the catalogue, ``t.label(member)``."""

    __slots__ = ("lang",)

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang

    def __call__(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)

    def label(self, member: object) -> str:
        return label(self.lang, member)

    def field(self, zh: str) -> str:
        return field_label(self.lang, zh)

    def heading(self, zh: str) -> str:
        """A 附件2 column heading in the page's language."""
        return zh if self.lang == "zh" else ANNEX2_COLUMN_EN.get(zh, zh)

    def fields(self, zh_labels: Iterable[str]) -> str:
        """Several 附件1 fields as one line: 、 in Chinese, a comma in English."""
        separator = "、" if self.lang == "zh" else ", "
        return separator.join(field_label(self.lang, zh) for zh in zh_labels)


def translator(lang: Lang) -> Translator:
    return Translator(lang)


def parse_lang(value: str | None) -> Lang | None:
    if value == "en":
        return "en"
    if value == "zh":
        return "zh"
    return None
