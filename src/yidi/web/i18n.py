"""The pages' words in Chinese (the default) and English: one catalogue, one lookup.

Domain objects carry their own ``label_zh``/``label_en``; this catalogue holds
only what belongs to the pages themselves (titles, buttons, hints).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

Lang = Literal["zh", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")
DEFAULT_LANG: Final[Lang] = "zh"
LANG_COOKIE: Final = "yidi_lang"

CATALOGUE: Final[dict[str, tuple[str, str]]] = {
    # layout
    "site.name": ("异地就医备案与直接结算", "Cross-region medical insurance"),
    "site.skip": ("跳到正文", "Skip to content"),
    "nav.label": ("主导航", "Main navigation"),
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
        "以 BA 开头按备案编号查询，数字按身份证号查询，其余按姓名查询。",
        "Text starting with BA searches filing numbers, digits search ID numbers, anything else names.",
    ),
    "filings.query_too_long": ("查询内容过长", "The search text is too long"),
    "filings.all_states": ("全部状态", "All states"),
    "filings.results": ("共 {count} 条", "{count} filings"),
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
    "detail.gender": ("性别", "Gender"),
    "detail.insurance": ("险种", "Insurance"),
    "detail.institutions": ("定点医疗机构", "Designated hospitals"),
    "detail.card": ("社会保障卡号", "Card number"),
    "detail.home_address": ("参保地家庭住址", "Home address"),
    "detail.contact_address": ("异地联系地址", "Address at the destination"),
    "detail.filled_on": ("填表日期", "Filled on"),
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
    "emergency.unknown": ("节假日安排未公布", "holiday calendar not yet published"),
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
        "变更备案（如更换定点医院、联系地址）请联系参保地经办机构办理。",
        "To change a filing (another hospital, a new address), call your home agency.",
    ),
}


def translate(lang: Lang, key: str, **values: object) -> str:
    zh, en = CATALOGUE[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def translator(lang: Lang) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return t


def parse_lang(value: str | None) -> Lang | None:
    if value == "en":
        return "en"
    if value == "zh":
        return "zh"
    return None
