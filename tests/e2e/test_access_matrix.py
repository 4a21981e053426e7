"""The access matrix as data: every route of the app × every kind of caller → allowed or denied,
with a test for every cell. The route list comes from ``app.routes``, so a new route fails
``test_every_route_of_the_app_is_classified`` until it is added here.

"Denied" means the caller learns nothing: 401 (anonymous), 403 (role), or the same 404 a
missing record gets (out of scope: another region, another hospital, another person).
"Allowed" means the request reached the business rules (2xx, or a 409/422 about the record's
state). The records are real: 谢某某's filing (衡阳县 430421, region A = 衡阳 430400) and his
encounter at 博白县人民医院 (hospital H), a manual claim of region A, the month 2026-11.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from filing_support import (
    HENGYANG,
    HUNAN,
    PDF_BYTES,
    PERSON,
    PERSON_ID,
    ZHENGZHOU,
    annex2_csv,
    record,
    record_body,
)
from hospital_support import (
    BOBAI_CASHIER,
    NANHUA_CASHIER,
    UNFILED_ID,
    XIE_CARD,
    XIE_LINES,
    ZHENGDA_CODE,
    at,
    build_world,
    fee_inputs,
    token_for,
)
from yidi.auth.commands import create_user
from yidi.auth.users import UserAdminService
from yidi.bootstrap import Container, build_container
from yidi.chronic.model import Evidence, NewRecognition
from yidi.encounter.commands import (
    AdmissionRequest,
    Credential,
    HospitalService,
    VisitRegistration,
)
from yidi.entrypoints.app import create_app
from yidi.entrypoints.http.requests import SESSION_COOKIE
from yidi.filing.change_requests import ChangeRequestService
from yidi.filing.imports import FilingImports
from yidi.filing.jobs import ANNEX2_EXPORT, ImportJobs
from yidi.filing.reports import FilingReports
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import FixedClock
from yidi.kernel.identity import Gender, make_resident_id
from yidi.platform.db import make_engine
from yidi.platform.migrate import upgrade
from yidi.policy.loader import shipped_policy_library
from yidi.reconciliation.commands import RaiseRequest
from yidi.reports.whatif_jobs import WhatIfJobs
from yidi.reports.whatif_stored import StoredSelection
from yidi.settings import Settings

SCHEMA = "access_matrix"

CALLERS: dict[str, Principal | None] = {
    "insured_person": PERSON,  # 谢某某 himself
    "agency_a": HENGYANG,  # 衡阳 430400: his insured region
    "agency_b": ZHENGZHOU,  # 郑州 410100: another region
    "province": HUNAN,  # 湖南省 430000
    "cashier_h": BOBAI_CASHIER,  # 博白县人民医院: where he is treated
    "cashier_other": NANHUA_CASHIER,  # 南华大学附属第一医院
    "clearing_officer": Principal("clearing1", Role.CLEARING_OFFICER, display_name="清算中心"),
    "administrator": Principal("admin1", Role.ADMINISTRATOR, display_name="系统管理员"),
    "anonymous": None,
}
EVERYONE = frozenset(CALLERS)
SIGNED_IN = EVERYONE - {"anonymous"}
AGENCIES = frozenset({"agency_a", "agency_b"})
CASHIERS = frozenset({"cashier_h", "cashier_other"})
DISPUTE_PARTIES = AGENCIES | CASHIERS | {"clearing_officer"}
DISPUTE_SEERS = frozenset({"agency_a", "cashier_h", "clearing_officer"})
DISPUTE_RAISERS = DISPUTE_SEERS | {"cashier_other"}

# Which callers each route allows, for the records named above. Scope (region, hospital,
# self) is part of the answer: agency_b is denied region A's filing even though its role
# may read filings.
ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/openapi.json"): EVERYONE,
    ("POST", "/api/auth/login"): EVERYONE,
    ("GET", "/api/auth/me"): EVERYONE,  # anonymous learns only that it is anonymous
    ("POST", "/api/auth/logout"): EVERYONE,  # ends the caller's own session, if any
    # one's own password (the cells send a wrong current password: 422 PASSWORD_WRONG)
    ("POST", "/api/auth/password"): SIGNED_IN,
    # a one-time reset link is the credential (the cells send an unknown one: 422)
    ("POST", "/api/auth/password-reset"): EVERYONE,
    # user administration (the acts are made on the account "matrix-target")
    ("GET", "/api/admin/users"): frozenset({"administrator"}),
    ("POST", "/api/admin/users"): frozenset({"administrator"}),
    ("GET", "/api/admin/users/{username}"): frozenset({"administrator"}),
    ("PUT", "/api/admin/users/{username}/role"): frozenset({"administrator"}),
    ("POST", "/api/admin/users/{username}/disable"): frozenset({"administrator"}),
    ("POST", "/api/admin/users/{username}/enable"): frozenset({"administrator"}),
    ("POST", "/api/admin/users/{username}/reset"): frozenset({"administrator"}),
    ("POST", "/api/admin/users/{username}/unlock"): frozenset({"administrator"}),
    ("GET", "/api/health"): EVERYONE,
    # 个人账户: the agency of his region and he himself (404 to everyone else in scope terms)
    ("GET", "/api/accounts/{psn_no}/{year}"): frozenset({"insured_person", "agency_a"}),
    # clearing, prepayment, statistics
    # Running an open month (a repeatable computation) is the clearing centre's and the
    # provinces'; closing it (close=true, test below) and reopening it the clearing centre's.
    ("POST", "/api/clearing/{month}/run"): frozenset({"clearing_officer", "province"}),
    ("POST", "/api/clearing/{month}/reopen"): frozenset({"clearing_officer"}),
    ("GET", "/api/clearing/{month}"): frozenset({"clearing_officer", "province"}) | AGENCIES,
    ("GET", "/api/clearing/{month}/statement.xlsx"): frozenset({"clearing_officer", "province"})
    | AGENCIES,
    ("GET", "/api/prepayment/annex3.xlsx"): frozenset({"province", "agency_a"}),
    ("GET", "/api/prepayment/annex4.xlsx"): frozenset({"province", "agency_a"}),
    # usage rows are scoped (an empty list out of scope); a top-up request is the pair's own
    # regions' (422 PREPAYMENT_TOP_UP_NOT_NEEDED here: nothing is drawn), 404 to another region
    ("GET", "/api/prepayment/usage"): frozenset({"clearing_officer", "province"}) | AGENCIES,
    ("POST", "/api/prepayment/top-up-requests"): frozenset({"province", "agency_a"}),
    # who asks lists its own region's requests; the clearing centre lists and decides all
    ("GET", "/api/prepayment/top-up-requests"): frozenset({"clearing_officer", "province"})
    | AGENCIES,
    ("POST", "/api/prepayment/top-up-requests/{request_id}/decision"): frozenset(
        {"clearing_officer"}
    ),
    ("GET", "/api/statistics"): frozenset(
        {"province", "agency_a", "clearing_officer", "administrator"}
    ),
    # filings
    ("POST", "/api/filings"): frozenset({"insured_person", "agency_a"}),
    ("GET", "/api/filings"): frozenset({"insured_person", "province"}) | AGENCIES,
    # Work queues: a person may list (scope: only their own filings), cashiers may not.
    ("GET", "/api/filings/follow-up/emergency"): frozenset({"insured_person", "province"})
    | AGENCIES,
    ("GET", "/api/filings/follow-up/incomplete"): frozenset({"insured_person", "province"})
    | AGENCIES,
    ("GET", "/api/filings/follow-up/no-card"): frozenset({"insured_person", "province"}) | AGENCIES,
    ("GET", "/api/filings/follow-up/duplicates"): frozenset({"insured_person", "province"})
    | AGENCIES,
    ("GET", "/api/filings/export/annex2.xlsx"): frozenset({"province", "agency_a"}),
    ("GET", "/api/filings/export/current-layout"): frozenset({"province", "agency_a"}),
    ("GET", "/api/filings/quarterly"): frozenset({"province", "agency_a"}),
    ("POST", "/api/filings/import"): frozenset({"province"}) | AGENCIES,
    # An import job is its submitter's own (agency A submitted the one in the world).
    ("GET", "/api/filings/import-jobs/{job_id}"): frozenset({"agency_a"}),
    # export jobs through the API: started for region A; a job is its starter's (agency A's)
    ("POST", "/api/filings/export-jobs/annex2"): frozenset({"province", "agency_a"}),
    ("POST", "/api/filings/export-jobs/quarterly"): frozenset({"province", "agency_a"}),
    ("GET", "/api/filings/export-jobs/{job_id}"): frozenset({"agency_a"}),
    ("GET", "/api/filings/export-jobs/{job_id}/download"): frozenset({"agency_a"}),
    ("GET", "/api/filings/{filing_id}"): frozenset({"insured_person", "agency_a", "province"}),
    ("PUT", "/api/filings/{filing_id}"): frozenset({"insured_person", "agency_a"}),
    ("POST", "/api/filings/{filing_id}/submit"): frozenset({"insured_person", "agency_a"}),
    ("POST", "/api/filings/{filing_id}/approve"): frozenset({"agency_a"}),
    ("POST", "/api/filings/{filing_id}/reject"): frozenset({"agency_a"}),
    ("POST", "/api/filings/{filing_id}/cancel"): frozenset({"insured_person", "agency_a"}),
    # A change of an approved filing is made at the agency (FILING_CHANGE_AT_AGENCY).
    ("POST", "/api/filings/{filing_id}/change"): frozenset({"agency_a"}),
    ("POST", "/api/filings/{filing_id}/evidence"): frozenset({"insured_person", "agency_a"}),
    # 承诺制: the person (online) or the agency hands in promised documents; only the agency
    # records a false promise; any agency runs the overdue-promise treatment for its region.
    ("POST", "/api/filings/{filing_id}/promise-documents"): frozenset(
        {"insured_person", "agency_a"}
    ),
    ("POST", "/api/filings/{filing_id}/false-promise"): frozenset({"agency_a"}),
    ("POST", "/api/filings/promises-due"): AGENCIES,
    # 变更申请: the insured person asks online, the insured-place agency decides.
    ("POST", "/api/filings/{filing_id}/change-requests"): frozenset({"insured_person"}),
    ("GET", "/api/change-requests"): frozenset({"insured_person", "province"}) | AGENCIES,
    ("GET", "/api/change-requests/{request_id}"): frozenset(
        {"insured_person", "agency_a", "province"}
    ),
    ("POST", "/api/change-requests/{request_id}/approve"): frozenset({"agency_a"}),
    ("POST", "/api/change-requests/{request_id}/reject"): frozenset({"agency_a"}),
    ("POST", "/api/change-requests/{request_id}/evidence"): frozenset({"insured_person"}),
    ("POST", "/api/change-requests/{request_id}/withdraw"): frozenset({"insured_person"}),
    # hospital settlement (REST)
    ("POST", "/api/hospital/admission-check"): CASHIERS,
    ("POST", "/api/hospital/encounters"): CASHIERS,
    ("GET", "/api/hospital/encounters"): CASHIERS,
    ("POST", "/api/hospital/visits"): CASHIERS,
    # Any cashier may ask; a hospital's is then told purchases belong to pharmacies (422).
    ("POST", "/api/hospital/purchases"): CASHIERS,
    ("POST", "/api/hospital/purchases/pre-settle"): CASHIERS,
    # The world's encounter is a stay: its own hospital is told 409 (not a visit), others 404.
    ("POST", "/api/hospital/visits/{mdtrt_id}/diagnoses"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/visits/{mdtrt_id}/cancel"): frozenset({"cashier_h"}),
    ("GET", "/api/hospital/encounters/{mdtrt_id}"): frozenset({"cashier_h"}),
    ("GET", "/api/hospital/encounters/{mdtrt_id}/statement"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/fees"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/fees/cancel"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/discharge"): frozenset({"cashier_h"}),
    # The encounter is settled: both answer 409 for its own hospital, 404 for any other.
    ("POST", "/api/hospital/encounters/{mdtrt_id}/discharge/cancel"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/cancel"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/pre-settle"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/settle"): frozenset({"cashier_h"}),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/settlements/{setl_id}/reversal"): frozenset(
        {"cashier_h"}
    ),
    ("GET", "/api/hospital/statistics"): frozenset(
        {"province", "clearing_officer", "administrator"}
    )
    | AGENCIES,
    # 门诊慢特病: the list is public; his region's agency records and ends a recognition; the
    # agencies and the province list (another region's list is empty), he sees his own.
    ("GET", "/api/chronic/diseases"): EVERYONE,
    ("POST", "/api/chronic/recognitions"): frozenset({"agency_a"}),
    ("GET", "/api/chronic/recognitions"): frozenset({"insured_person", "province"}) | AGENCIES,
    ("GET", "/api/chronic/recognitions/{recognition_id}"): frozenset(
        {"insured_person", "agency_a", "province"}
    ),
    ("POST", "/api/chronic/recognitions/{recognition_id}/end"): frozenset({"agency_a"}),
    # 对账差异 of hospital H (the centre raised it about 谢某某's settlement, insured in region A):
    # H's cashier, region A's agency and the clearing centre; another hospital or region raises
    # its own (or is refused: no difference) and lists only its own.
    **{
        ("POST", f"/api/reconciliation/disputes{tail}"): DISPUTE_RAISERS
        for tail in ("", "/from-statement")
    },
    ("GET", "/api/reconciliation/disputes"): DISPUTE_PARTIES,
    **{
        (method, f"/api/reconciliation/disputes/{{dispute_id}}{tail}"): DISPUTE_SEERS
        for method, tail in (
            ("GET", ""),
            ("POST", "/answer"),
            ("POST", "/resolve"),
            ("POST", "/reopen"),
        )
    },
    # manual reimbursement at the insured region
    ("POST", "/api/manual-claims"): frozenset({"agency_a"}),
    # every handler may list; another region's list is empty (scope), never region A's claims
    ("GET", "/api/manual-claims"): AGENCIES,
    ("GET", "/api/manual-claims/{claim_id}"): frozenset({"agency_a"}),
    ("POST", "/api/manual-claims/{claim_id}/materials"): frozenset({"agency_a"}),
    ("PUT", "/api/manual-claims/{claim_id}/fee-lines"): frozenset({"agency_a"}),
    ("POST", "/api/manual-claims/{claim_id}/compute"): frozenset({"agency_a"}),
    ("POST", "/api/manual-claims/{claim_id}/approve"): frozenset({"agency_a"}),
    ("POST", "/api/manual-claims/{claim_id}/payment"): frozenset({"agency_a"}),
    ("PUT", "/api/manual-claims/{claim_id}/payee"): frozenset({"agency_a"}),
    # a person of region A: region B's handler is answered as for nobody
    ("POST", "/api/manual-claims/person-lookup"): frozenset({"agency_a"}),
    # web pages (called as an API client would: JSON errors, no redirects followed)
    ("GET", "/"): EVERYONE,
    ("GET", "/signin"): EVERYONE,
    ("GET", "/home"): SIGNED_IN,
    ("GET", "/me"): frozenset({"insured_person"}),
    ("GET", "/agency"): AGENCIES,
    ("GET", "/province"): frozenset({"province"}),
    ("GET", "/hospital"): CASHIERS,
    ("GET", "/clearing"): frozenset({"clearing_officer"}),
    ("GET", "/admin"): frozenset({"administrator"}),
    ("GET", "/hospitals"): EVERYONE,
    ("GET", "/agencies"): EVERYONE,
    ("GET", "/check"): EVERYONE,
    ("GET", "/static"): EVERYONE,
    # role pages (server-rendered); the same services and scope rules as the API
    ("GET", "/me/filings"): frozenset({"insured_person"}),
    ("GET", "/me/filings/new"): frozenset({"insured_person"}),
    ("GET", "/me/filings/wizard"): frozenset({"insured_person"}),  # the step-by-step filing
    ("GET", "/me/estimate"): frozenset({"insured_person"}),
    ("GET", "/filings"): frozenset({"province"}) | AGENCIES,
    ("GET", "/filings/new"): AGENCIES,
    ("GET", "/filings/emergency"): frozenset({"province"}) | AGENCIES,
    ("GET", "/filings/incomplete"): frozenset({"province"}) | AGENCIES,
    ("GET", "/filings/annex2"): frozenset({"province"}) | AGENCIES,
    ("GET", "/filings/import"): frozenset({"province"}) | AGENCIES,
    ("GET", "/filings/import/jobs/{job_id}"): frozenset({"agency_a"}),
    ("GET", "/filings/import/jobs/{job_id}/errors.csv"): frozenset({"agency_a"}),
    ("GET", "/filings/import/template.xlsx"): frozenset({"province"}) | AGENCIES,
    ("GET", "/filings/export"): frozenset({"province"}) | AGENCIES,
    ("GET", "/filings/quarterly"): frozenset({"province"}) | AGENCIES,
    # an export job (附件2, the quarterly list) only for the one who started it (agency A)
    ("GET", "/filings/jobs/{job_id}"): frozenset({"agency_a"}),
    ("GET", "/filings/jobs/{job_id}/progress"): frozenset({"agency_a"}),
    ("GET", "/filings/jobs/{job_id}/download"): frozenset({"agency_a"}),
    ("GET", "/filings/{ref}"): frozenset({"insured_person", "agency_a", "province"}),
    ("GET", "/filings/{ref}/annex1.pdf"): frozenset({"insured_person", "agency_a", "province"}),
    ("GET", "/me/filings/{ref}/change"): frozenset({"insured_person"}),
    ("GET", "/change-requests"): frozenset({"province"}) | AGENCIES,
    # 门诊慢特病认定: offices list their region's (an insured person is sent to his own page)
    ("GET", "/chronic"): frozenset({"province"}) | AGENCIES,
    ("GET", "/chronic/new"): AGENCIES,
    ("GET", "/chronic/{recognition_id}"): frozenset({"insured_person", "agency_a", "province"}),
    ("GET", "/me/chronic"): frozenset({"insured_person"}),
    ("GET", "/reconciliation/disputes"): DISPUTE_PARTIES,
    ("GET", "/reconciliation/disputes/new"): DISPUTE_PARTIES,
    ("GET", "/reconciliation/disputes/{dispute_id}"): DISPUTE_SEERS,
    ("GET", "/change-requests/{request_id}"): frozenset({"insured_person", "agency_a", "province"}),
    ("GET", "/funds/clearing"): frozenset({"clearing_officer", "province"}) | AGENCIES,
    ("GET", "/funds/clearing/download"): frozenset({"clearing_officer", "province"}) | AGENCIES,
    ("GET", "/funds/prepayment"): frozenset({"province"}) | AGENCIES,
    ("GET", "/funds/prepayment/download"): frozenset({"province"}) | AGENCIES,
    ("GET", "/funds/prepayment/top-ups"): frozenset({"clearing_officer", "province"}) | AGENCIES,
    # 政策调整测算: the form for offices; a job only for the one who started it (agency A)
    ("GET", "/funds/whatif"): frozenset({"province"}) | AGENCIES,
    ("GET", "/funds/whatif/jobs/{job_id}"): frozenset({"agency_a"}),
    ("GET", "/funds/whatif/jobs/{job_id}/download"): frozenset({"agency_a"}),
    ("GET", "/funds/statistics"): frozenset({"province", "clearing_officer", "administrator"})
    | AGENCIES,
    ("GET", "/funds/statistics/download"): frozenset(
        {"province", "clearing_officer", "administrator"}
    )
    | AGENCIES,
    ("GET", "/hospital/check"): CASHIERS,
    ("GET", "/hospital/encounters"): CASHIERS,
    ("GET", "/hospital/encounters/{encounter_id}"): frozenset({"cashier_h"}),
    # The outpatient pages: the hospitals' cashiers (another hospital's visit is 404). The
    # pharmacy till refuses a hospital (403 INSTITUTION_NOT_PHARMACY) and the world holds no
    # pharmacy; tests/e2e/test_web_outpatient_pharmacy.py covers a pharmacy's cashier.
    ("GET", "/hospital/visits/new"): CASHIERS,
    ("GET", "/hospital/visits/{visit_id}"): frozenset({"cashier_h"}),
    ("GET", "/pharmacy/sale"): frozenset(),
    ("GET", "/pharmacy/sales/{sale_id}"): frozenset(),
    ("GET", "/hospital/encounters/{encounter_id}/statement"): frozenset({"cashier_h"}),
    # the cashier's print pages of the world's settlement (the slip says "not reversed" until it is)
    ("GET", "/hospital/encounters/{encounter_id}/settlements/{settlement_id}/receipt"): frozenset(
        {"cashier_h"}
    ),
    (
        "GET",
        "/hospital/encounters/{encounter_id}/settlements/{settlement_id}/settlement-list",
    ): frozenset({"cashier_h"}),
    (
        "GET",
        "/hospital/encounters/{encounter_id}/settlements/{settlement_id}/reversal-slip",
    ): frozenset({"cashier_h"}),
    ("GET", "/claims"): AGENCIES,  # region B's handler gets an empty list, never A's claims
    ("GET", "/claims/new"): AGENCIES,
    ("GET", "/claims/{claim_id}"): frozenset({"agency_a"}),
    # the printable notice of a computed claim of region A
    ("GET", "/claims/{claim_id}/notice"): frozenset({"agency_a"}),
    # the offices' overview: an agency sees its own region's row and batches only
    ("GET", "/province/submissions"): frozenset({"province"}) | AGENCIES,
    ("GET", "/province/imports"): frozenset({"province"}) | AGENCIES,
    ("GET", "/province/imports/{batch_id}"): frozenset({"province", "agency_a"}),
    # accounts: one's own password, the reset link's page, user administration
    ("GET", "/account/password"): SIGNED_IN,
    ("GET", "/password-reset"): EVERYONE,  # the link is the credential
    # an insured person's own account: the details and a one-time code are the credential
    ("GET", "/register"): EVERYONE,  # a signed-in caller is sent to their desk
    ("GET", "/password-forgot"): EVERYONE,
    ("GET", "/admin/users"): frozenset({"administrator"}),
    ("GET", "/admin/users/{username}"): frozenset({"administrator"}),
}
# The national gateway does not use yidi sign-in: a hospital is named by fixmedins_code in the
# envelope, signed with the HN _api_* or x-tif-* headers when YIDI_GATEWAY_AUTH=required (the
# default outside demo mode; tests/e2e/test_gateway_auth.py). This app runs in demo mode (auth
# none). Every caller gets an envelope; scope is by fixmedins_code
# (tests/e2e/test_hospital_gateway.py: another hospital's encounter answers as a missing one).
GATEWAY_PREFIX = "/fsi/api/"
# Form posts of the web UI: refused for every caller without the form's CSRF token, which
# tests/e2e/test_web.py covers with and without the token.
CSRF_FORMS = frozenset(
    {
        ("POST", "/signin"),
        ("POST", "/signout"),
        ("POST", "/me/filings/wizard"),
        ("POST", "/me/estimate"),
        ("POST", "/filings/new"),
        ("POST", "/filings/import"),
        ("POST", "/filings/{ref}/assign"),
        ("POST", "/filings/{ref}/approve"),
        ("POST", "/filings/{ref}/reject"),
        ("POST", "/filings/{ref}/cancel"),
        ("POST", "/filings/{ref}/submit"),
        ("POST", "/filings/{ref}/evidence"),
        ("POST", "/me/filings/{ref}/change"),
        ("POST", "/change-requests/{request_id}/evidence"),
        ("POST", "/change-requests/{request_id}/approve"),
        ("POST", "/change-requests/{request_id}/reject"),
        ("POST", "/change-requests/{request_id}/withdraw"),
        ("POST", "/chronic/new"),
        ("POST", "/chronic/{recognition_id}/end"),
        ("POST", "/reconciliation/disputes/new"),
        ("POST", "/reconciliation/disputes/{dispute_id}/answer"),
        ("POST", "/reconciliation/disputes/{dispute_id}/resolve"),
        ("POST", "/reconciliation/disputes/{dispute_id}/reopen"),
        ("POST", "/funds/clearing"),
        ("POST", "/funds/clearing/reopen"),
        ("POST", "/funds/prepayment/top-up"),
        ("POST", "/funds/prepayment/top-ups/{request_id}/decision"),
        ("POST", "/funds/whatif"),
        ("POST", "/hospital/check"),
        ("POST", "/hospital/encounters"),
        ("POST", "/hospital/encounters/{encounter_id}/fees"),
        ("POST", "/hospital/encounters/{encounter_id}/discharge"),
        ("POST", "/hospital/encounters/{encounter_id}/pre-settle"),
        ("POST", "/hospital/encounters/{encounter_id}/settle"),
        ("POST", "/hospital/encounters/{encounter_id}/fees/cancel"),
        ("POST", "/hospital/encounters/{encounter_id}/cancel"),
        ("POST", "/hospital/encounters/{encounter_id}/discharge/cancel"),
        ("POST", "/hospital/encounters/{encounter_id}/settlements/{settlement_id}/reverse"),
        ("POST", "/hospital/self-pay"),
        ("POST", "/hospital/visits/check"),
        ("POST", "/hospital/visits"),
        ("POST", "/hospital/visits/{visit_id}/fees"),
        ("POST", "/hospital/visits/{visit_id}/pre-settle"),
        ("POST", "/hospital/visits/{visit_id}/settle"),
        ("POST", "/hospital/visits/{visit_id}/cancel"),
        ("POST", "/pharmacy/sale/pre-settle"),
        ("POST", "/pharmacy/sale"),
        ("POST", "/claims"),
        ("POST", "/claims/{claim_id}/materials"),
        ("POST", "/claims/{claim_id}/fee-lines"),
        ("POST", "/claims/{claim_id}/compute"),
        ("POST", "/claims/{claim_id}/approve"),
        ("POST", "/claims/{claim_id}/payment"),
        ("POST", "/claims/{claim_id}/fee-rows"),
        ("POST", "/claims/{claim_id}/payee"),
        ("POST", "/claims/person-lookup"),
        ("POST", "/filings/annex2/jobs"),
        ("POST", "/filings/quarterly/jobs"),
        ("POST", "/account/password"),
        ("POST", "/password-reset"),
        ("POST", "/register"),
        ("POST", "/register/verify"),
        ("POST", "/password-forgot"),
        ("POST", "/password-forgot/verify"),
        ("POST", "/admin/users"),
        ("POST", "/admin/users/{username}/disable"),
        ("POST", "/admin/users/{username}/enable"),
        ("POST", "/admin/users/{username}/unlock"),
        ("POST", "/admin/users/{username}/reset"),
        ("POST", "/admin/users/{username}/role"),
    }
)
# Evidence scans are served only for evidence that exists; tests/e2e/test_web_filings.py and
# tests/e2e/test_web_filing_form.py cover who may open them.
COVERED_ELSEWHERE = frozenset({("GET", "/filings/{ref}/evidence/{sha256}")})


def app_routes(app: Any) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path
        if path is None:
            continue
        methods = route.methods or {"GET"}
        for method in methods - {"HEAD", "OPTIONS"}:
            routes.add((method, path))
    return routes


@pytest.fixture(scope="module")
def world(
    database_url: str, migrated_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A committed database built once for all cells (calls that change state may stay)."""
    if database_url.startswith("postgresql"):
        with migrated_engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        engine = make_engine(database_url, connect_args={"options": f"-csearch_path={SCHEMA}"})
    else:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('access') / 'access.sqlite3'}")
    upgrade(engine)
    container = build_container(
        Settings(
            database_url=database_url,
            demo_mode=True,
            job_result_directory=tmp_path_factory.mktemp("job-results"),
        ),
        clock=FixedClock(at(20, 10)),
        engine=engine,
    )
    try:
        yield _build(container)
    finally:
        engine.dispose()
        if database_url.startswith("postgresql"):
            with migrated_engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


def _build(container: Container) -> dict[str, Any]:
    filings = build_world(container)
    hospital = HospitalService(container.uow, container.clock)
    encounter = hospital.admit(
        _caller(BOBAI_CASHIER),
        AdmissionRequest(
            credential=Credential("03", XIE_CARD),
            med_type="21",
            admitted_at=at(20, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    hospital.upload_fees(_caller(BOBAI_CASHIER), encounter.id, fee_inputs(XIE_LINES, at(21, 9)))
    hospital.discharge(_caller(BOBAI_CASHIER), encounter.id, at(28, 10))
    detail = hospital.encounter_detail(_caller(BOBAI_CASHIER), encounter.id)
    total = sum((line.amount.yuan for line in detail.lines), Decimal(0))
    settled = hospital.settle(_caller(BOBAI_CASHIER), encounter.id, _money(total))
    create_user(container.uow(), "matrix-login", "matrix-login-password", HENGYANG)
    create_user(container.uow(), "matrix-target", "matrix-target-password", HENGYANG)
    create_user(container.uow(), "matrix-reset", "matrix-reset-password", HENGYANG)
    reset_link = UserAdminService(container.uow, container.clock).issue_reset(
        CALLERS["administrator"], "matrix-reset"
    )
    change_request = ChangeRequestService(container.uow, container.clock).request_change(
        PERSON, filings.xie_filing, record(mobile="13907349999"), "换了手机号码"
    )
    headers = {name: token_for(container, p) if p else {} for name, p in CALLERS.items()}
    # Pages read the signed session cookie, as a browser sends it.
    page_headers = {
        name: {"Cookie": f"{SESSION_COOKIE}={h['Authorization'][7:]}"} if h else {}
        for name, h in headers.items()
    }
    # Signing out ends the session it is sent with: those cells use a second session.
    spare_headers = {name: token_for(container, p) if p else {} for name, p in CALLERS.items()}
    headers["cashier_far"] = token_for(
        container, Principal("zd1", Role.HOSPITAL_CASHIER, hospital_code=ZHENGDA_CODE)
    )
    # A 报盘 batch of region A, imported by its agency (the batch's region is the account's).
    imports = FilingImports(container.uow, container.clock)
    reports = FilingReports(container.uow, container.clock)
    batch_person = make_resident_id("430421", dt.date(1951, 2, 3), 55, Gender.MALE).number
    imports.import_annex2(
        HENGYANG, annex2_csv([("430421", "某某", batch_person)]), "matrix-batch.csv"
    )
    (batch,) = reports.import_batches(HENGYANG).items
    import_jobs = ImportJobs(container.uow, container.clock)
    job = import_jobs.submit(HENGYANG, annex2_csv([("430421", "某某", batch_person)]), "job.csv")
    import_jobs.run_pending()
    # An 附件2 export of region A, started by its agency (its file is kept for the download).
    export_job = container.import_jobs.submit_export(
        HENGYANG,
        ANNEX2_EXPORT,
        {"region": "430400", "from": "2026-01-01", "to": "2026-12-31", "full": None},
        "matrix-annex2.xlsx",
        inline=True,
    )
    assert export_job.state == "done", export_job.error
    app = create_app(container)
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    # A what-if run of region A over 谢某某's settlement, started by its agency.
    whatif_job = WhatIfJobs(container.uow, container.clock, inline=True)
    app.state.whatif_jobs = whatif_job
    started = whatif_job.submit(
        HENGYANG,
        StoredSelection(dt.date(2026, 1, 1), dt.date(2026, 12, 31), "430400"),
        shipped_policy_library(),
        on_date=None,
        candidate_label="same policy",
    )
    assert started.state == "done", started.error
    claim = client.post(
        "/api/manual-claims",
        json=_claim_body(),
        headers=headers["agency_a"],
    )
    assert claim.status_code == 201, claim.text
    # A second claim of region A, computed: the one whose notice (报销结算单) is printed.
    computed = client.post("/api/manual-claims", json=_claim_body(), headers=headers["agency_a"])
    notice_claim = computed.json()["id"]
    for method, tail, body in (
        ("PUT", "fee-lines", {"lines": _fee_lines()}),
        ("POST", "compute", None),
    ):
        done = client.request(
            method,
            f"/api/manual-claims/{notice_claim}/{tail}",
            json=body,
            headers=headers["agency_a"],
        )
        assert done.status_code == 200, done.text
    recognition = container.chronic.recognise(
        HENGYANG,
        PERSON_ID,
        NewRecognition("M03900", dt.date(2026, 1, 1), None, Evidence(reference="JD-M-1")),
    )
    # An outpatient visit of his at 博白 (the visit page's cell).
    visit = hospital.register_visit(
        _caller(BOBAI_CASHIER), VisitRegistration(Credential("03", XIE_CARD), at(28, 11))
    )
    clearing = CALLERS["clearing_officer"]
    assert clearing is not None
    dispute, _created = container.disputes.raise_dispute(
        clearing,
        RaiseRequest("H45092300001", "2026-11", "医院未申报这一笔", settled.settlement_id),
    )
    return {
        "app": app,
        "client": client,
        "headers": headers,
        "page_headers": page_headers,
        "spare_headers": spare_headers,
        "reset_token": reset_link.token,
        "filing_id": filings.xie_filing,
        "mdtrt_id": encounter.id,
        "visit_id": visit.id,
        "setl_id": settled.settlement_id,
        "psn_no": settled.psn_no,
        "claim_id": claim.json()["id"],
        "notice_claim_id": notice_claim,
        "batch_id": batch.id,
        "job_id": job.id,
        "export_job_id": export_job.id,
        "whatif_job_id": started.id,
        "change_request_id": change_request.request.request_id,
        "recognition_id": recognition.recognition.id,
        "dispute_id": dispute.id,
        "top_up_id": _top_up_request(container),
    }


def _top_up_request(container: Container) -> int:
    """A 申请补充预付金 of 湖南 with 广西 (province level), waiting for the clearing centre."""
    from yidi.funds.model import ClearingLevel, prepayment_usage
    from yidi.kernel.money import Money

    usage = prepayment_usage(
        ClearingLevel.PROVINCE,
        2026,
        "430000",
        "450000",
        Money.of("1000.00"),
        Money.of("800.00"),
        yellow=Decimal("0.70"),
        red=Decimal("0.90"),
    )
    with container.uow() as uow:
        request_id = uow.funds.add_top_up_request(usage, "hunan1", "430000", container.clock.now())
        uow.commit()
    return request_id


def _caller(principal: Principal) -> Any:
    from yidi.kernel.access import Caller

    assert principal.hospital_code is not None
    return Caller(principal.hospital_code, principal.user_id, principal.role.value)


def _money(amount: Decimal) -> Any:
    from yidi.kernel.money import Money

    return Money(amount)


def _claim_body() -> dict[str, Any]:
    return {
        "id_number": UNFILED_ID,
        "treatment_region": "450923",
        "hospital_name": "博白县人民医院",
        "hospital_level": 2,
        "encounter_type": "21",
        "admitted_on": "2026-10-01",
        "discharged_on": "2026-10-10",
        "reason": "未办理异地就医备案",
    }


def _fee_lines() -> list[dict[str, Any]]:
    return [
        {
            "serial": f"M{index + 1}",
            "catalog_code": code,
            "name": name,
            "quantity": quantity,
            "unit_price": price,
            "amount": str((Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))),
            "occurred_at": "2026-11-22T09:00:00+08:00",
        }
        for index, (code, name, quantity, price) in enumerate(XIE_LINES[:2])
    ]


EVIDENCE_FORM = {
    "kind": "household_registration",
    "document_number": "户-0009",
    "issuer": "博白县公安局",
    "issued_on": "2016-05-01",
    "issuer_region_code": "450923",
}

# The request each route gets: path parameters from the world, a body that passes validation.
Request = tuple[str, dict[str, Any]]


def _purchase_body() -> dict[str, Any]:
    return {
        "json": {
            "cert_type": "03",
            "cert_no": XIE_CARD,
            "purchased_at": "2026-11-29T09:30:00+08:00",
            "total_charges": "33.60",
            "lines": [
                {
                    "serial": "YD1",
                    "catalog_code": "XC08CAA010A001010100009",
                    "quantity": "28",
                    "unit_price": "1.20",
                    "amount": "33.60",
                    "occurred_at": "2026-11-29T09:30:00+08:00",
                }
            ],
        }
    }


def _dispute_line(world: dict[str, Any]) -> dict[str, str]:
    return {"hospital_code": "H45092300001", "settlement_id": world["setl_id"]}


REQUESTS: dict[tuple[str, str], Callable[[dict[str, Any]], Request]] = {
    ("POST", "/api/auth/login"): lambda w: (
        "/api/auth/login",
        {"json": {"username": "matrix-login", "password": "matrix-login-password"}},
    ),
    ("GET", "/api/accounts/{psn_no}/{year}"): lambda w: (f"/api/accounts/{w['psn_no']}/2026", {}),
    ("POST", "/api/chronic/recognitions"): lambda w: (
        "/api/chronic/recognitions",
        {
            "json": {
                "id_number": PERSON_ID,
                "disease_code": "M01600",
                "begin_on": "2026-03-01",
                "evidence": {"reference": "JD-M-2"},
            }
        },
    ),
    ("GET", "/api/chronic/recognitions/{recognition_id}"): lambda w: (
        f"/api/chronic/recognitions/{w['recognition_id']}",
        {},
    ),
    ("POST", "/api/chronic/recognitions/{recognition_id}/end"): lambda w: (
        f"/api/chronic/recognitions/{w['recognition_id']}/end",
        {"json": {"end_on": "2026-12-31", "reason": "复查不再符合认定标准"}},
    ),
    ("POST", "/api/clearing/{month}/run"): lambda w: ("/api/clearing/2026-11/run", {}),
    # 2026-11 is open: the clearing centre reaches the rule (409 CLEARING_NOT_CLOSED).
    ("POST", "/api/clearing/{month}/reopen"): lambda w: (
        "/api/clearing/2026-11/reopen",
        {"json": {"reason": "误关账，重新开账"}},
    ),
    ("GET", "/api/clearing/{month}"): lambda w: ("/api/clearing/2026-11", {}),
    ("GET", "/api/clearing/{month}/statement.xlsx"): lambda w: (
        "/api/clearing/2026-11/statement.xlsx",
        {},
    ),
    ("GET", "/api/prepayment/annex3.xlsx"): lambda w: (
        "/api/prepayment/annex3.xlsx",
        {"params": {"region": "430400", "year": 2027}},
    ),
    ("GET", "/api/prepayment/usage"): lambda w: (
        "/api/prepayment/usage",
        {"params": {"level": "prefecture"}},
    ),
    ("POST", "/api/prepayment/top-up-requests"): lambda w: (
        "/api/prepayment/top-up-requests",
        {
            "json": {
                "level": "prefecture",
                "insured_region_code": "430400",
                "treatment_region_code": "450900",
            }
        },
    ),
    ("POST", "/api/prepayment/top-up-requests/{request_id}/decision"): lambda w: (
        f"/api/prepayment/top-up-requests/{w['top_up_id']}/decision",
        {"json": {"decision": "reject", "reason": "预付金已于本月补足"}},
    ),
    ("GET", "/api/prepayment/annex4.xlsx"): lambda w: (
        "/api/prepayment/annex4.xlsx",
        {"params": {"region": "430400", "year": 2027}},
    ),
    ("GET", "/api/statistics"): lambda w: ("/api/statistics", {"params": {"region": "430400"}}),
    ("POST", "/api/filings"): lambda w: ("/api/filings", {"json": {"record": record_body()}}),
    ("GET", "/api/filings/export/annex2.xlsx"): lambda w: (
        "/api/filings/export/annex2.xlsx",
        {"params": {"region": "430400", "from": "2026-11-01", "to": "2026-11-30"}},
    ),
    ("GET", "/api/filings/export/current-layout"): lambda w: (
        "/api/filings/export/current-layout",
        {"params": {"region": "430400", "from": "2026-11-01", "to": "2026-11-30"}},
    ),
    ("GET", "/api/filings/quarterly"): lambda w: (
        "/api/filings/quarterly",
        {"params": {"region": "430400", "year": 2026, "quarter": 4}},
    ),
    ("POST", "/api/filings/import"): lambda w: (
        "/api/filings/import",
        {"files": {"file": ("batch.csv", "姓名,身份证号\n".encode(), "text/csv")}},
    ),
    ("GET", "/api/filings/{filing_id}"): lambda w: (f"/api/filings/{w['filing_id']}", {}),
    ("PUT", "/api/filings/{filing_id}"): lambda w: (
        f"/api/filings/{w['filing_id']}",
        {"json": record_body()},
    ),
    ("POST", "/api/filings/{filing_id}/submit"): lambda w: (
        f"/api/filings/{w['filing_id']}/submit",
        {},
    ),
    ("POST", "/api/filings/{filing_id}/approve"): lambda w: (
        f"/api/filings/{w['filing_id']}/approve",
        {},
    ),
    ("POST", "/api/filings/{filing_id}/reject"): lambda w: (
        f"/api/filings/{w['filing_id']}/reject",
        {"json": {"reason": "材料不全"}},
    ),
    ("POST", "/api/filings/{filing_id}/cancel"): lambda w: (
        f"/api/filings/{w['filing_id']}/cancel",
        {"json": {"reason": "不再需要"}},
    ),
    ("POST", "/api/filings/{filing_id}/change"): lambda w: (
        f"/api/filings/{w['filing_id']}/change",
        {"json": {"record": record_body(), "reason": "变更联系电话"}},
    ),
    ("POST", "/api/filings/{filing_id}/evidence"): lambda w: (
        f"/api/filings/{w['filing_id']}/evidence",
        {"data": EVIDENCE_FORM, "files": {"file": ("a.pdf", PDF_BYTES, "application/pdf")}},
    ),
    ("POST", "/api/filings/{filing_id}/promise-documents"): lambda w: (
        f"/api/filings/{w['filing_id']}/promise-documents",
        {"json": {"evidence": [{"kind": "household_registration", "document_number": "户-1"}]}},
    ),
    ("POST", "/api/filings/{filing_id}/false-promise"): lambda w: (
        f"/api/filings/{w['filing_id']}/false-promise",
        {"json": {"reason": "经核查未居住"}},
    ),
    ("POST", "/api/filings/{filing_id}/change-requests"): lambda w: (
        f"/api/filings/{w['filing_id']}/change-requests",
        {"json": {"record": record_body(), "reason": "变更联系电话"}},
    ),
    ("GET", "/api/change-requests/{request_id}"): lambda w: (
        f"/api/change-requests/{w['change_request_id']}",
        {},
    ),
    ("POST", "/api/change-requests/{request_id}/approve"): lambda w: (
        f"/api/change-requests/{w['change_request_id']}/approve",
        {},
    ),
    ("POST", "/api/change-requests/{request_id}/reject"): lambda w: (
        f"/api/change-requests/{w['change_request_id']}/reject",
        {"json": {"reason": "号码未实名"}},
    ),
    ("POST", "/api/change-requests/{request_id}/evidence"): lambda w: (
        f"/api/change-requests/{w['change_request_id']}/evidence",
        {"data": EVIDENCE_FORM, "files": {"file": ("a.pdf", PDF_BYTES, "application/pdf")}},
    ),
    ("POST", "/api/change-requests/{request_id}/withdraw"): lambda w: (
        f"/api/change-requests/{w['change_request_id']}/withdraw",
        {},
    ),
    ("GET", "/me/filings/{ref}/change"): lambda w: (f"/me/filings/{w['filing_id']}/change", {}),
    ("GET", "/chronic/{recognition_id}"): lambda w: (f"/chronic/{w['recognition_id']}", {}),
    ("POST", "/api/reconciliation/disputes"): lambda w: (
        "/api/reconciliation/disputes",
        {"json": {**_dispute_line(w), "month": "2026-11", "text": "本月总额不符"}},
    ),
    ("POST", "/api/reconciliation/disputes/from-statement"): lambda w: (
        "/api/reconciliation/disputes/from-statement",
        {"json": {**_dispute_line(w), "institution": None}},
    ),
    **{
        (method, f"/api/reconciliation/disputes/{{dispute_id}}{tail}"): (
            lambda w, tail=tail, body=body: (
                f"/api/reconciliation/disputes/{w['dispute_id']}{tail}",
                {"json": body} if body else {},
            )
        )
        for method, tail, body in (
            ("GET", "", None),
            ("POST", "/answer", {"text": "已核对"}),
            ("POST", "/resolve", {"outcome": "rejected", "text": "以中心记录为准"}),
            ("POST", "/reopen", {"text": "重新核对"}),
        )
    },
    ("GET", "/reconciliation/disputes/{dispute_id}"): lambda w: (
        f"/reconciliation/disputes/{w['dispute_id']}",
        {},
    ),
    ("GET", "/change-requests/{request_id}"): lambda w: (
        f"/change-requests/{w['change_request_id']}",
        {},
    ),
    ("POST", "/api/hospital/admission-check"): lambda w: (
        "/api/hospital/admission-check",
        {"json": {"cert_type": "03", "cert_no": XIE_CARD}},
    ),
    ("POST", "/api/hospital/encounters"): lambda w: (
        "/api/hospital/encounters",
        {
            "json": {
                "cert_type": "03",
                "cert_no": XIE_CARD,
                "med_type": "21",
                "admitted_at": "2026-11-29T08:00:00+08:00",
                "department_code": "A03",
                "diagnosis_codes": ["K80.101"],
            }
        },
    ),
    ("POST", "/api/hospital/visits"): lambda w: (
        "/api/hospital/visits",
        {
            "json": {
                "cert_type": "03",
                "cert_no": XIE_CARD,
                "registered_at": "2026-11-29T09:30:00+08:00",
                "outpatient_number": "MZ1",
            }
        },
    ),
    ("POST", "/api/hospital/purchases"): lambda w: ("/api/hospital/purchases", _purchase_body()),
    ("POST", "/api/hospital/purchases/pre-settle"): lambda w: (
        "/api/hospital/purchases/pre-settle",
        _purchase_body(),
    ),
    ("POST", "/api/hospital/visits/{mdtrt_id}/diagnoses"): lambda w: (
        f"/api/hospital/visits/{w['mdtrt_id']}/diagnoses",
        {"json": {"diagnosis_codes": ["I10"]}},
    ),
    ("POST", "/api/hospital/visits/{mdtrt_id}/cancel"): lambda w: (
        f"/api/hospital/visits/{w['mdtrt_id']}/cancel",
        {"json": {"reason": "误挂号"}},
    ),
    ("GET", "/api/hospital/encounters/{mdtrt_id}"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}",
        {},
    ),
    ("GET", "/api/hospital/encounters/{mdtrt_id}/statement"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/statement",
        {},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/fees"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/fees",
        {"json": {"lines": _fee_lines()}},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/fees/cancel"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/fees/cancel",
        {"json": {"serials": ["1"]}},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/discharge"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/discharge",
        {"json": {"discharged_at": "2026-11-28T10:00:00+08:00"}},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/discharge/cancel"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/discharge/cancel",
        {},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/cancel"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/cancel",
        {"json": {"reason": "误登记"}},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/pre-settle"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/pre-settle",
        {"json": {}},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/settle"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/settle",
        {"json": {"total_charges": "1.00"}},
    ),
    ("POST", "/api/hospital/encounters/{mdtrt_id}/settlements/{setl_id}/reversal"): lambda w: (
        f"/api/hospital/encounters/{w['mdtrt_id']}/settlements/{w['setl_id']}/reversal",
        {"json": {"reason": "金额有误"}},
    ),
    ("POST", "/api/manual-claims"): lambda w: ("/api/manual-claims", {"json": _claim_body()}),
    ("GET", "/api/manual-claims/{claim_id}"): lambda w: (
        f"/api/manual-claims/{w['claim_id']}",
        {},
    ),
    ("POST", "/api/manual-claims/{claim_id}/materials"): lambda w: (
        f"/api/manual-claims/{w['claim_id']}/materials",
        {"json": {"received": ["inpatient_receipt"]}},
    ),
    ("PUT", "/api/manual-claims/{claim_id}/fee-lines"): lambda w: (
        f"/api/manual-claims/{w['claim_id']}/fee-lines",
        {"json": {"lines": _fee_lines()}},
    ),
    ("POST", "/api/manual-claims/{claim_id}/compute"): lambda w: (
        f"/api/manual-claims/{w['claim_id']}/compute",
        {},
    ),
    ("POST", "/api/manual-claims/{claim_id}/approve"): lambda w: (
        f"/api/manual-claims/{w['claim_id']}/approve",
        {},
    ),
    ("POST", "/api/manual-claims/{claim_id}/payment"): lambda w: (
        f"/api/manual-claims/{w['claim_id']}/payment",
        {"json": {"reference": "ZF-1"}},
    ),
    ("PUT", "/api/manual-claims/{claim_id}/payee"): lambda w: (
        f"/api/manual-claims/{w['claim_id']}/payee",
        {
            "json": {
                "payee_name": "某某",
                "payee_bank": "中国工商银行",
                "payee_account": "6222021234567890",
            }
        },
    ),
    ("POST", "/api/manual-claims/person-lookup"): lambda w: (
        "/api/manual-claims/person-lookup",
        {"json": {"id_number": PERSON_ID}},
    ),
    ("POST", "/api/auth/password"): lambda w: (
        "/api/auth/password",
        {"json": {"current_password": "not-it", "new_password": "lantern-orchard-47"}},
    ),
    ("POST", "/api/auth/password-reset"): lambda w: (
        "/api/auth/password-reset",
        {"json": {"token": "unknown-link", "new_password": "lantern-orchard-47"}},
    ),
    ("POST", "/api/admin/users"): lambda w: (
        "/api/admin/users",
        {
            "json": {
                "username": "matrix-new",
                "password": "lantern-orchard-47",
                "role": "clearing_officer",
                "region_code": "430000",
            }
        },
    ),
    ("GET", "/api/admin/users/{username}"): lambda w: ("/api/admin/users/matrix-target", {}),
    ("PUT", "/api/admin/users/{username}/role"): lambda w: (
        "/api/admin/users/matrix-target/role",
        {"json": {"role": "agency_handler", "region_code": "430400"}},
    ),
    ("POST", "/api/admin/users/{username}/disable"): lambda w: (
        "/api/admin/users/matrix-target/disable",
        {},
    ),
    ("POST", "/api/admin/users/{username}/enable"): lambda w: (
        "/api/admin/users/matrix-target/enable",
        {},
    ),
    ("POST", "/api/admin/users/{username}/reset"): lambda w: (
        "/api/admin/users/matrix-target/reset",
        {},
    ),
    ("POST", "/api/admin/users/{username}/unlock"): lambda w: (
        "/api/admin/users/matrix-target/unlock",
        {},
    ),
    ("GET", "/password-reset"): lambda w: (
        "/password-reset",
        {"params": {"token": w["reset_token"]}},
    ),
    ("GET", "/admin/users/{username}"): lambda w: ("/admin/users/matrix-target", {}),
    ("GET", "/static"): lambda w: ("/static/app.css", {}),
    ("GET", "/filings/{ref}"): lambda w: (f"/filings/{w['filing_id']}", {}),
    ("GET", "/filings/import/jobs/{job_id}"): lambda w: (f"/filings/import/jobs/{w['job_id']}", {}),
    ("GET", "/filings/import/jobs/{job_id}/errors.csv"): lambda w: (
        f"/filings/import/jobs/{w['job_id']}/errors.csv",
        {},
    ),
    ("GET", "/funds/whatif/jobs/{job_id}"): lambda w: (
        f"/funds/whatif/jobs/{w['whatif_job_id']}",
        {},
    ),
    ("GET", "/funds/whatif/jobs/{job_id}/download"): lambda w: (
        f"/funds/whatif/jobs/{w['whatif_job_id']}/download",
        {"params": {"format": "csv"}},
    ),
    ("GET", "/api/filings/import-jobs/{job_id}"): lambda w: (
        f"/api/filings/import-jobs/{w['job_id']}",
        {},
    ),
    ("POST", "/api/filings/export-jobs/annex2"): lambda w: (
        "/api/filings/export-jobs/annex2",
        {"json": {"from": "2026-11-01", "to": "2026-11-30", "region": "430400"}},
    ),
    ("POST", "/api/filings/export-jobs/quarterly"): lambda w: (
        "/api/filings/export-jobs/quarterly",
        {"json": {"region": "430400", "year": 2026, "quarter": 4}},
    ),
    **{
        ("GET", f"/api/filings/export-jobs/{{job_id}}{tail}"): (
            lambda w, tail=tail: (f"/api/filings/export-jobs/{w['export_job_id']}{tail}", {})
        )
        for tail in ("", "/download")
    },
    ("GET", "/filings/{ref}/annex1.pdf"): lambda w: (f"/filings/{w['filing_id']}/annex1.pdf", {}),
    ("GET", "/hospital/encounters/{encounter_id}"): lambda w: (
        f"/hospital/encounters/{w['mdtrt_id']}",
        {},
    ),
    ("GET", "/hospital/encounters/{encounter_id}/statement"): lambda w: (
        f"/hospital/encounters/{w['mdtrt_id']}/statement",
        {},
    ),
    ("GET", "/hospital/visits/{visit_id}"): lambda w: (f"/hospital/visits/{w['visit_id']}", {}),
    ("GET", "/pharmacy/sales/{sale_id}"): lambda w: (f"/pharmacy/sales/{w['mdtrt_id']}", {}),
    **{
        ("GET", f"/hospital/encounters/{{encounter_id}}/settlements/{{settlement_id}}/{tail}"): (
            lambda w, tail=tail: (
                f"/hospital/encounters/{w['mdtrt_id']}/settlements/{w['setl_id']}/{tail}",
                {},
            )
        )
        for tail in ("receipt", "settlement-list", "reversal-slip")
    },
    ("GET", "/claims/{claim_id}"): lambda w: (f"/claims/{w['claim_id']}", {}),
    ("GET", "/claims/{claim_id}/notice"): lambda w: (
        f"/claims/{w['notice_claim_id']}/notice",
        {},
    ),
    **{
        ("GET", f"/filings/jobs/{{job_id}}{tail}"): (
            lambda w, tail=tail: (f"/filings/jobs/{w['export_job_id']}{tail}", {})
        )
        for tail in ("", "/progress", "/download")
    },
    ("GET", "/province/imports/{batch_id}"): lambda w: (f"/province/imports/{w['batch_id']}", {}),
    # the month the API cells above ran (POST /api/clearing/2026-11/run comes first)
    ("GET", "/funds/clearing/download"): lambda w: (
        "/funds/clearing/download",
        {"params": {"month": "2026-11", "level": "province"}},
    ),
}
SESSION_ENDING = frozenset({("POST", "/api/auth/logout")})
HIDDEN_CODE = re.compile(r"^[A-Z_]+_NOT_FOUND$")


def denied(response: Any) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 303 and response.headers.get("location", "").startswith("/signin"):
        return True
    if response.status_code == 404:
        code = response.json().get("error", {}).get("code", "")
        return bool(HIDDEN_CODE.match(code))
    return False


def test_every_route_of_the_app_is_classified(world: dict[str, Any]) -> None:
    unclassified = {
        route
        for route in app_routes(world["app"])
        if route not in ACCESS
        and route not in CSRF_FORMS
        and route not in COVERED_ELSEWHERE
        and not route[1].startswith(GATEWAY_PREFIX)
    }
    assert unclassified == set(), "classify these routes in ACCESS"
    stale = {route for route in ACCESS if route not in app_routes(world["app"])}
    stale -= {("GET", "/static")}  # a mount, listed by its prefix
    assert stale == set()


# Runs before the cells below: they may cancel the filing.
def test_a_hospital_sees_a_filing_only_through_the_admission_check_of_its_own_patient(
    world: dict[str, Any],
) -> None:
    client = world["client"]
    check = {"cert_type": "03", "cert_no": XIE_CARD}
    own = client.post(
        "/api/hospital/admission-check", json=check, headers=world["headers"]["cashier_h"]
    )
    assert own.status_code == 200 and own.json()["filing"]["filing_number"]
    assert "*" in own.json()["id_number_masked"]
    filing_number = own.json()["filing"]["filing_number"]
    # 南华 (衡阳): he is a local patient there, so no filing is involved or shown.
    local = client.post(
        "/api/hospital/admission-check", json=check, headers=world["headers"]["cashier_other"]
    )
    assert local.status_code == 200 and local.json()["filing"] is None
    # 郑大一附院: cross-region without a filing for that place: refused, no filing shown.
    far = client.post(
        "/api/hospital/admission-check", json=check, headers=world["headers"]["cashier_far"]
    )
    assert far.status_code == 422 and far.json()["error"]["code"] == "FILING_NOT_VALID"
    for answer in (local, far):
        assert filing_number not in answer.text and world["filing_id"] not in answer.text
    for caller in ("cashier_h", "cashier_other", "cashier_far"):
        direct = client.get(f"/api/filings/{world['filing_id']}", headers=world["headers"][caller])
        assert direct.status_code == 403
        searched = client.get("/api/filings", headers=world["headers"][caller])
        assert searched.status_code == 403


CELLS = [(route, caller) for route in ACCESS for caller in CALLERS]


@pytest.mark.parametrize(("route", "caller"), CELLS, ids=[f"{m} {p} as {c}" for (m, p), c in CELLS])
def test_access_cell(world: dict[str, Any], route: tuple[str, str], caller: str) -> None:
    method, template = route
    path, kwargs = REQUESTS.get(route, lambda w: (template, {}))(world)
    page = not path.startswith(("/api/", "/openapi"))
    headers = world["page_headers" if page else "headers"][caller]
    if route in SESSION_ENDING:
        headers = world["spare_headers"][caller]
    response = world["client"].request(
        method, path, headers=headers, follow_redirects=False, **kwargs
    )
    assert response.status_code < 500, response.text
    expected = caller in ACCESS[route]
    if expected:
        assert not denied(response), (
            f"{caller} was refused: {response.status_code} {response.text[:200]}"
        )
        assert response.status_code != 422 or response.json()["error"]["code"] != "REQUEST_INVALID"
    else:
        # A page may also send a caller of another role to that role's own page instead.
        sent_elsewhere = response.status_code == 303 and response.headers.get("location") != path
        assert denied(response) or (page and sent_elsewhere), (
            f"{caller} got through: {response.status_code} {response.text[:200]}"
        )


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_gateway_path_answers_every_caller_with_an_envelope(
    world: dict[str, Any], caller: str
) -> None:
    gateway = sorted(p for m, p in app_routes(world["app"]) if p.startswith(GATEWAY_PREFIX))
    from yidi.integrations.nhsa.router import PER_SERVICE_PATHS

    assert len(gateway) == len(PER_SERVICE_PATHS) + 2  # callService and callService/{infno}
    for path in gateway:
        concrete = path.replace("{infno}", "1101")
        response = world["client"].post(
            concrete,
            json={"infno": "1101", "fixmedins_code": "H45092300001", "input": {}},
            headers=world["headers"][caller],
        )
        assert response.status_code == 200
        assert response.json()["infcode"] in (0, -1)


@pytest.mark.parametrize("route", sorted(CSRF_FORMS))
def test_web_form_posts_are_refused_for_every_caller_without_the_csrf_token(
    world: dict[str, Any], route: tuple[str, str]
) -> None:
    path = re.sub(
        r"\{[^}]+\}", "x", route[1]
    )  # the token is checked before any record is looked up
    for caller in CALLERS:
        response = world["client"].post(
            path,
            data={"username": "x", "password": "y", "csrf_token": "forged"},
            headers=world["page_headers"][caller] | {"Accept": "text/html"},
            follow_redirects=False,
        )
        to_sign_in = response.status_code == 303 and response.headers.get(
            "location", ""
        ).startswith("/signin")
        assert response.status_code == 403 or (caller == "anonymous" and to_sign_in), (
            caller,
            response.status_code,
        )


def test_a_filing_of_another_region_answers_byte_for_byte_like_a_missing_one(
    world: dict[str, Any],
) -> None:
    client, headers = world["client"], world["headers"]["agency_b"]
    real = world["filing_id"]
    missing = real[:-1] + ("0" if real[-1] != "0" else "1")
    theirs = client.get(f"/api/filings/{real}", headers=headers)
    nothing = client.get(f"/api/filings/{missing}", headers=headers)
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.content == nothing.content
    for action in ("approve", "submit"):
        assert (
            client.post(f"/api/filings/{real}/{action}", headers=headers).content
            == client.post(f"/api/filings/{missing}/{action}", headers=headers).content
        )


def test_an_encounter_of_another_hospital_answers_byte_for_byte_like_a_missing_one(
    world: dict[str, Any],
) -> None:
    client, headers = world["client"], world["headers"]["cashier_other"]
    real = world["mdtrt_id"]
    missing = real[:-1] + ("0" if real[-1] != "0" else "1")
    for suffix in ("", "/statement"):
        theirs = client.get(f"/api/hospital/encounters/{real}{suffix}", headers=headers)
        nothing = client.get(f"/api/hospital/encounters/{missing}{suffix}", headers=headers)
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.content == nothing.content
    listed = client.get("/api/hospital/encounters", headers=headers).json()
    assert real not in {e["mdtrt_id"] for e in listed}


def test_a_manual_claim_of_another_region_answers_byte_for_byte_like_a_missing_one(
    world: dict[str, Any],
) -> None:
    client, headers = world["client"], world["headers"]["agency_b"]
    real = world["claim_id"]
    missing = real[:-1] + ("0" if real[-1] != "0" else "1")
    theirs = client.get(f"/api/manual-claims/{real}", headers=headers)
    nothing = client.get(f"/api/manual-claims/{missing}", headers=headers)
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.content == nothing.content
    listed = client.get("/api/manual-claims", headers=headers).json()
    assert real not in {c["id"] for c in listed["items"]}
    page = client.get("/claims", headers=world["page_headers"]["agency_b"])
    assert page.status_code == 200 and real not in page.text


@pytest.mark.parametrize("caller", list(CALLERS))
def test_only_the_clearing_centre_closes_a_month(world: dict[str, Any], caller: str) -> None:
    # October 2026 has ended (the clock says 20 November 2026); November has not.
    response = world["client"].post(
        "/api/clearing/2026-10/run",
        params={"level": "province", "close": "true"},
        headers=world["headers"][caller],
    )
    assert response.status_code < 500, response.text
    if caller == "clearing_officer":
        assert response.status_code == 200 and response.json()["status"] == "closed"
    else:
        assert denied(response), (caller, response.status_code, response.text[:200])


def test_the_matrix_has_a_cell_for_every_route_and_caller() -> None:
    assert len(CALLERS) == 9
    assert len(CELLS) == len(ACCESS) * len(CALLERS)
