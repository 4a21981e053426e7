"""An honest in-memory implementation of HospitalGatewayPort for gateway tests.

It records every call (method, typed input, context) and answers with fixed typed
outputs built through the real builders, so a test can check what reached the port and
what went back on the wire.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yidi.integrations.nhsa.builders import (
    FeeLineSplit,
    FundPayment,
    SettlementView,
    output_2301,
    output_2303,
    output_2304,
    output_2305,
)
from yidi.integrations.nhsa.codes import ChrgitmLv, FundPayType, MedChrgitmType
from yidi.integrations.nhsa.port import GatewayContext
from yidi.integrations.nhsa.transactions import (
    AdmissionResult,
    BaseInfo,
    Input1101,
    Input2301,
    Input2302,
    Input2303,
    Input2304,
    Input2305,
    Input2401,
    Input2402,
    Input2404,
    Input2405,
    Input2601,
    Input9001,
    InsuInfo,
    Output1101,
    Output2301,
    Output2303,
    Output2304,
    Output2305,
    Output2401,
    Output9001,
    SignInResult,
)
from yidi.kernel.errors import Refused
from yidi.kernel.money import Money

UNFILED_CARD = "A99999999"


def settlement_view(*, settlement_id: str | None = None, sign: int = 1) -> SettlementView:
    """The Chongqing 2304 sample's totals (NHSA-INTERFACE.md §4.8), split plausibly."""

    def m(text: str) -> Money:
        return Money(text) if sign > 0 else -Money(text)

    return SettlementView(
        visit_id="MDTRT0001",
        person_no="PSN0001",
        insurance_type="310",
        medical_type="21",
        amounts={
            "total_charges": m("23442.46"),
            "fully_self_paid": m("505.01"),
            "over_limit_self_paid": m("0.00"),
            "upfront_self_paid": m("1200.00"),
            "eligible_amount": m("21737.45"),
            "deductible_applied": m("1300.00"),
            "pooled_fund_paid": m("16785.39"),
            "serious_illness_paid": m("0.00"),
            "large_expense_paid": m("2000.00"),
            "medical_assistance_paid": m("0.00"),
            "fund_paid_total": m("18785.39"),
            "patient_share": m("4152.06"),
            "personal_account_paid": m("1000.00"),
            "cash_paid": m("3152.06"),
        },
        unpaid_amounts={"hosp_part_amt": m("505.01")},
        settled_at=dt.datetime(2024, 3, 5, 9, 30, 0),
        funds=(
            FundPayment(FundPayType.EMPLOYEE_POOLED, m("16785.39"), m("21737.45")),
            FundPayment(FundPayType.LARGE_EXPENSE_SUBSIDY, m("2000.00"), m("21737.45")),
            FundPayment(FundPayType.EMPLOYEE_PERSONAL_ACCOUNT, m("1000.00"), m("0.00")),
        ),
        settlement_id=settlement_id,
        institution_settlement_id="H43028100255202403050930001234",
        pooled_fund_rate=Decimal("0.9000"),
        person_name="张三",
        gender="1",
    )


@dataclass
class FakePort:
    calls: list[tuple[str, Any, GatewayContext]] = field(default_factory=list)
    fail_with: Exception | None = None

    def _record(self, method: str, request: Any, context: GatewayContext) -> None:
        self.calls.append((method, request, context))
        if self.fail_with is not None:
            raise self.fail_with

    def query_person(self, request: Input1101, context: GatewayContext) -> Output1101:
        self._record("query_person", request, context)
        if request.data.mdtrt_cert_no == UNFILED_CARD:
            raise Refused(
                "FILING_NOT_FOUND",
                "未查询到有效的异地就医备案，不能直接结算；请联系参保地医保经办机构",
                "no valid filing",
            )
        return Output1101(
            baseinfo=BaseInfo(
                psn_no="PSN0001", psn_name="张三", gend="1", brdy=dt.date(1956, 4, 1)
            ),
            insuinfo=[
                InsuInfo(
                    balc=Money("1300"),
                    insutype="310",
                    psn_type="1201",
                    insuplc_admdvs="430400",
                )
            ],
        )

    def admit(self, request: Input2401, context: GatewayContext) -> Output2401:
        self._record("admit", request, context)
        return Output2401(result=AdmissionResult(mdtrt_id="MDTRT0001"))

    def discharge(self, request: Input2402, context: GatewayContext) -> None:
        self._record("discharge", request, context)

    def cancel_admission(self, request: Input2404, context: GatewayContext) -> None:
        self._record("cancel_admission", request, context)

    def cancel_discharge(self, request: Input2405, context: GatewayContext) -> None:
        self._record("cancel_discharge", request, context)

    def upload_fees(self, request: Input2301, context: GatewayContext) -> Output2301:
        self._record("upload_fees", request, context)
        return output_2301(
            [
                FeeLineSplit(
                    line_serial=line.feedetl_sn,
                    line_amount=Money(line.det_item_fee_sumamt),
                    quantity=line.cnt,
                    unit_price=line.pric,
                    self_pay_rate=Decimal("0.1000"),
                    fully_self_paid=Money.zero(),
                    over_limit_self_paid=Money.zero(),
                    upfront_self_paid=Money(line.det_item_fee_sumamt).times(
                        Decimal("0.1"), step="test"
                    ),
                    eligible_amount=Money(line.det_item_fee_sumamt)
                    - Money(line.det_item_fee_sumamt).times(Decimal("0.1"), step="test"),
                    item_class=ChrgitmLv.CLASS_B,
                    fee_category=MedChrgitmType.WESTERN_MEDICINE,
                )
                for line in request.feedetail
            ]
        )

    def cancel_fees(self, request: Input2302, context: GatewayContext) -> None:
        self._record("cancel_fees", request, context)

    def pre_settle(self, request: Input2303, context: GatewayContext) -> Output2303:
        self._record("pre_settle", request, context)
        return output_2303(settlement_view())

    def settle(self, request: Input2304, context: GatewayContext) -> Output2304:
        self._record("settle", request, context)
        return output_2304(settlement_view(settlement_id="SETL0001"))

    def reverse_settlement(self, request: Input2305, context: GatewayContext) -> Output2305:
        self._record("reverse_settlement", request, context)
        return output_2305(settlement_view(settlement_id=request.data.setl_id, sign=-1))

    def reverse_message(self, request: Input2601, context: GatewayContext) -> None:
        self._record("reverse_message", request, context)

    def change_admission(self, request: Any, context: GatewayContext) -> None:
        self._record("change_admission", request, context)

    def reconcile_totals(self, request: Any, context: GatewayContext) -> Any:
        self._record("reconcile_totals", request, context)
        raise NotImplementedError

    def reconcile_lines(self, request: Any, context: GatewayContext) -> Any:
        self._record("reconcile_lines", request, context)
        raise NotImplementedError

    def apply_for_clearing(self, request: Any, context: GatewayContext) -> Any:
        self._record("apply_for_clearing", request, context)
        raise NotImplementedError

    def cancel_clearing_application(self, request: Any, context: GatewayContext) -> None:
        self._record("cancel_clearing_application", request, context)

    def query_chronic_recognitions(self, request: Any, context: GatewayContext) -> Any:
        self._record("query_chronic_recognitions", request, context)
        return None

    def query_visit(self, request: Any, context: GatewayContext) -> Any:
        self._record("query_visit", request, context)
        raise NotImplementedError

    def query_settlement(self, request: Any, context: GatewayContext) -> Any:
        self._record("query_settlement", request, context)
        raise NotImplementedError

    def query_settled_fees(self, request: Any, context: GatewayContext) -> Any:
        self._record("query_settled_fees", request, context)
        raise NotImplementedError

    def sign_in(self, request: Input9001, context: GatewayContext) -> Output9001:
        self._record("sign_in", request, context)
        return Output9001(signinoutb=SignInResult(sign_no="SIGN0001"))


def raising(error: Exception) -> FakePort:
    return FakePort(fail_with=error)
