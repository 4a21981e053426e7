"""5301 人员慢特病备案查询 (a person's chronic and special disease recognitions).

Input ``input.data.psn_no`` (some clients send ``input.psn_no`` without ``data``: accepted).
Output ``output.feedetail[]``: ``opsp_dise_code`` 门慢门特病种目录代码, ``opsp_dise_name``
门慢门特病种名称, ``begndate`` 开始日期, ``enddate`` 结束日期 — the fields of two HIS clients'
5301 models (Shenzhen ``binzhe12123/Medical`` ``SZSI_Smart/Model/SYB/XXCX/MB5301.cs``; a
Chongqing client's ``Output_5301.cs``, code-index id 30520666617). The Chongqing model reads
``feedetail`` as one object; the national tables use arrays for 多行 nodes, so yidi answers an
array (one row per valid recognition, ``[]`` when none). yidi adds ``exp_content``:
``{"list": "national"|"regional", "recognition_id": …}``.

The NHSA names live here only; the use case is :meth:`yidi.chronic.commands.ChronicService.for_hospital`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import model_validator

from yidi.chronic.commands import ChronicService
from yidi.integrations.nhsa.transactions import ExpContent, Id30, NhsaModel, OptDate

if TYPE_CHECKING:
    from yidi.integrations.nhsa.port import GatewayContext


class ChronicQuery(NhsaModel):
    """input.data of 5301."""

    psn_no: Id30


class Input5301(NhsaModel):
    data: ChronicQuery

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, value: Any) -> Any:
        if isinstance(value, dict) and "data" not in value and "psn_no" in value:
            return {"data": value}
        return value


class ChronicRecognitionRow(NhsaModel):
    """output.feedetail[] row of 5301."""

    opsp_dise_code: str
    opsp_dise_name: str
    begndate: OptDate
    enddate: OptDate = None
    exp_content: ExpContent = None


class Output5301(NhsaModel):
    feedetail: list[ChronicRecognitionRow]


def query_chronic_recognitions(
    service: ChronicService, request: Input5301, context: GatewayContext
) -> Output5301:
    operator = f"nhsa:{context.operator or '-'}"
    found = service.for_hospital(context.fixmedins_code, operator, request.data.psn_no)
    return Output5301(
        feedetail=[
            ChronicRecognitionRow(
                opsp_dise_code=recognition.disease_code,
                opsp_dise_name=recognition.disease_name,
                begndate=recognition.begin_on,
                enddate=recognition.end_on,
                exp_content={
                    "list": disease.scope.value if disease is not None else None,
                    "recognition_id": recognition.id,
                },
            )
            for recognition, disease in found.items
        ]
    )
