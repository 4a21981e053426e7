"""9101 文件上传 / 9102 文件下载 end to end, and 3202 reading its detail file by file_qury_no."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import secrets
import zipfile
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_hospital_gateway import (
    PATH,
    _a_month_of_settlements,
    _period,
    call,
    ok,
    refused,
)
from typer.testing import CliRunner

from hospital_support import BOBAI_CODE, NANHUA_CODE
from yidi.bootstrap import Container
from yidi.entrypoints.cli.main import app as cli_app
from yidi.integrations.nhsa.files import MAX_FILE_BYTES, RESULT_COLUMNS
from yidi.kernel.audit import as_utc
from yidi.platform.tables import gateway_files

#: Every byte value once, so a sign or encoding slip shows.
ALL_BYTES = bytes(range(256)) * 3


def _signed(data: bytes) -> list[int]:
    """The bytes as a Java ``byte[]`` serialised to a JSON array (-128..127)."""
    return [b - 256 if b > 127 else b for b in data]


def upload(
    client: TestClient,
    content: Any,
    *,
    filename: str = "detail.txt.zip",
    msgid: str | None = None,
    hospital: str = BOBAI_CODE,
) -> dict[str, Any]:
    fs_upload_in = {"in": content, "filename": filename, "fixmedins_code": hospital}
    return call(client, "9101", {"fsUploadIn": fs_upload_in}, msgid=msgid, hospital=hospital)


def download_response(
    client: TestClient, file_qury_no: str, *, hospital: str = BOBAI_CODE
) -> httpx.Response:
    envelope = {
        "infno": "9102",
        "msgid": f"{hospital}DL{secrets.token_hex(8)}",
        "fixmedins_code": hospital,
        "input": {
            "fsDownloadIn": {
                "file_qury_no": file_qury_no,
                "filename": "plc",
                "fixmedins_code": hospital,
            }
        },
    }
    response = client.post(PATH, json=envelope)
    assert response.status_code == 200
    return response


def fetched(client: TestClient, file_qury_no: str, *, hospital: str = BOBAI_CODE) -> bytes:
    """The bytes 9102 answers, as a HIS saves them (octet-stream, named for saving)."""
    response = download_response(client, file_qury_no, hospital=hospital)
    assert response.headers["content-type"] == "application/octet-stream", response.text[:200]
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response.content


def download(client: TestClient, file_qury_no: str, *, hospital: str = BOBAI_CODE) -> Any:
    """A refused 9102: the JSON envelope with the stable code."""
    response = download_response(client, file_qury_no, hospital=hospital)
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def multipart_upload(
    client: TestClient,
    data: bytes,
    *,
    filename: str | None = "detail.txt.zip",
    part_filename: str = "part.zip",
    msgid: str | None = None,
    input_as_text: bool = False,
) -> dict[str, Any]:
    """9101 as HN appendix A sends it: a ``jsonStr`` part and a ``file`` part."""
    fs_upload_in: dict[str, Any] = {"fixmedins_code": BOBAI_CODE}
    if filename is not None:
        fs_upload_in["filename"] = filename
    input_: Any = {"fsUploadIn": fs_upload_in}
    envelope = {
        "infno": "9101",
        "msgid": msgid or f"{BOBAI_CODE}MP{secrets.token_hex(8)}",
        "fixmedins_code": BOBAI_CODE,
        "input": json.dumps(input_) if input_as_text else input_,
    }
    response = client.post(
        PATH,
        data={"jsonStr": json.dumps(envelope, ensure_ascii=False)},
        files={"file": (part_filename, data, "application/octet-stream")},
    )
    assert response.status_code == 200
    reply: dict[str, Any] = response.json()
    return reply


def _count(container: Container) -> int:
    with container.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(gateway_files)).scalar_one())


def test_upload_and_download_round_trip_byte_for_byte_in_both_encodings(
    client: TestClient, world: None, container: Container
) -> None:
    as_array = ok(upload(client, _signed(ALL_BYTES)))
    as_base64 = ok(upload(client, base64.b64encode(ALL_BYTES).decode()))
    assert as_array["file_qury_no"] != as_base64["file_qury_no"]
    for info in (as_array, as_base64):
        assert info["filename"] == "detail.txt.zip"
        assert len(info["file_qury_no"]) <= 30
        assert dt.datetime.strptime(info["dld_endtime"], "%Y-%m-%d %H:%M:%S")
        assert fetched(client, info["file_qury_no"]) == ALL_BYTES
    # Unsigned bytes (0..255), as some JSON libraries write them, are the same file.
    unsigned = ok(upload(client, list(ALL_BYTES)))
    assert fetched(client, unsigned["file_qury_no"]) == ALL_BYTES
    assert _count(container) == 3
    response = download_response(client, unsigned["file_qury_no"])
    assert response.headers["content-disposition"] == 'attachment; filename="detail.txt.zip"'
    assert response.headers["content-length"] == str(len(ALL_BYTES))


def test_a_chinese_file_name_is_sent_for_saving_in_both_header_forms(
    client: TestClient, world: None
) -> None:
    number = ok(upload(client, _signed(b"x"), filename="对账明细.txt"))["file_qury_no"]
    disposition = download_response(client, number).headers["content-disposition"]
    assert disposition == (
        "attachment; filename=\"????.txt\"; filename*=UTF-8''%E5%AF%B9%E8%B4%A6%E6%98%8E%E7%BB%86.txt"
    )


def test_a_multipart_upload_is_the_same_file_and_the_same_message_as_a_json_one(
    client: TestClient, world: None, container: Container
) -> None:
    data = ALL_BYTES + b"\r\n--boundary-like\r\n"
    first = ok(multipart_upload(client, data, msgid="MP-1"))
    assert first["filename"] == "detail.txt.zip"  # fsUploadIn.filename wins over the part's
    assert fetched(client, first["file_qury_no"]) == data
    # Resending the same message as JSON (or multipart again) is the same file.
    as_json = ok(upload(client, base64.b64encode(data).decode(), msgid="MP-1"))
    assert as_json == first
    assert ok(multipart_upload(client, data, msgid="MP-1")) == first
    refused(multipart_upload(client, data + b"!", msgid="MP-1"), "IDEMPOTENCY_KEY_REUSED")
    # input as a JSON string, no fsUploadIn.filename: the part's file name is used.
    second = ok(multipart_upload(client, b"abc", filename=None, input_as_text=True))
    assert second["filename"] == "part.zip"
    assert fetched(client, second["file_qury_no"]) == b"abc"
    assert _count(container) == 2


def test_a_malformed_multipart_upload_is_refused_and_writes_nothing(
    client: TestClient, world: None, container: Container
) -> None:
    only_file = client.post(PATH, files={"file": ("a.zip", b"abc", "application/octet-stream")})
    refused(only_file.json(), "NHSA_MULTIPART_INVALID")
    only_json = client.post(PATH, data={"jsonStr": "{}"}, files={"other": ("a", b"x")})
    refused(only_json.json(), "NHSA_MULTIPART_INVALID")
    not_json = client.post(PATH, data={"jsonStr": "infno=9101"}, files={"file": ("a", b"x")})
    refused(not_json.json(), "NHSA_MULTIPART_INVALID")
    no_boundary = client.post(PATH, content=b"abc", headers={"content-type": "multipart/form-data"})
    refused(no_boundary.json(), "NHSA_MULTIPART_INVALID")
    refused(multipart_upload(client, b""), "NHSA_FILE_EMPTY")
    assert _count(container) == 0


def test_expired_files_are_deleted_at_the_next_upload(
    client: TestClient, world: None, container: Container
) -> None:
    old = ok(upload(client, _signed(b"old")))["file_qury_no"]
    container.clock.set(container.clock.now() + dt.timedelta(days=8))  # type: ignore[attr-defined]
    fresh = ok(upload(client, _signed(b"fresh")))["file_qury_no"]
    with container.session_factory() as session:
        left = set(session.execute(select(gateway_files.c.file_qury_no)).scalars())
    assert left == {fresh}
    assert fetched(client, fresh) == b"fresh"
    refused(download(client, old), "NHSA_FILE_NOT_FOUND")


def test_the_prune_command_deletes_the_expired_files_only(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = as_utc(container.clock.now())
    with container.session_factory() as session, session.begin():
        for number, deadline in (
            ("A" * 30, now - dt.timedelta(seconds=1)),
            ("B" * 30, now + dt.timedelta(hours=1)),
        ):
            session.execute(
                gateway_files.insert().values(
                    file_qury_no=number,
                    fixmedins_code=BOBAI_CODE,
                    msgid=None,
                    filename="x.txt",
                    content=b"x",
                    file_size=1,
                    sha256="0" * 64,
                    uploaded_at=deadline - dt.timedelta(days=7),
                    expires_at=deadline,
                )
            )
    monkeypatch.setattr("yidi.entrypoints.cli.context.open_container", lambda: container)
    result = CliRunner().invoke(cli_app, ["gateway", "prune-files"])
    assert result.exit_code == 0, result.output
    assert "已删除 deleted 1 个过期文件" in result.output
    with container.session_factory() as session:
        left = set(session.execute(select(gateway_files.c.file_qury_no)).scalars())
    assert left == {"B" * 30}


def test_a_resent_upload_gets_the_same_file_and_another_content_is_refused(
    client: TestClient, world: None, container: Container
) -> None:
    first = ok(upload(client, _signed(b"abc"), msgid="UPLOAD-1"))
    again = ok(upload(client, base64.b64encode(b"abc").decode(), msgid="UPLOAD-1"))
    assert again == first
    refused(upload(client, _signed(b"abd"), msgid="UPLOAD-1"), "IDEMPOTENCY_KEY_REUSED")
    assert _count(container) == 1
    # The same msgid from another hospital is its own message.
    theirs = ok(upload(client, _signed(b"abc"), msgid="UPLOAD-1", hospital=NANHUA_CODE))
    assert theirs["file_qury_no"] != first["file_qury_no"]


def test_bad_uploads_are_refused_and_write_nothing(
    client: TestClient, world: None, container: Container
) -> None:
    refused(upload(client, []), "NHSA_FILE_EMPTY")
    refused(upload(client, ""), "NHSA_FILE_EMPTY")
    refused(upload(client, None), "NHSA_FILE_EMPTY")
    refused(upload(client, [1, 2, 300]), "NHSA_FILE_CONTENT_INVALID")
    refused(upload(client, ["a"]), "NHSA_FILE_CONTENT_INVALID")
    refused(upload(client, "not base64!"), "NHSA_FILE_CONTENT_INVALID")
    too_big = base64.b64encode(b"x" * (MAX_FILE_BYTES + 1)).decode()
    message = refused(upload(client, too_big), "NHSA_FILE_TOO_LARGE")
    assert "不能超过" in message
    refused(call(client, "9101", {"fsUploadIn": {"in": [1]}}), "NHSA_INPUT_INVALID")  # no name
    other = {"in": [1], "filename": "a.txt", "fixmedins_code": NANHUA_CODE}
    refused(call(client, "9101", {"fsUploadIn": other}), "NHSA_FILE_INSTITUTION_MISMATCH")
    # 9101 changes state: it needs a msgid like the other such transactions.
    envelope_without_msgid = {
        "infno": "9101",
        "fixmedins_code": BOBAI_CODE,
        "input": {"fsUploadIn": {"in": [1], "filename": "a.txt"}},
    }
    reply = client.post("/fsi/api/rsfComIfsService/callService", json=envelope_without_msgid)
    assert reply.json()["err_msg"].startswith("[NHSA_MSGID_MISSING]")
    assert _count(container) == 0


def test_another_hospital_cannot_read_a_file_and_gets_the_missing_answer(
    client: TestClient, world: None, container: Container
) -> None:
    mine = ok(upload(client, _signed(b"secret lines")))["file_qury_no"]
    theirs = refused(download(client, mine, hospital=NANHUA_CODE), "NHSA_FILE_NOT_FOUND")
    missing = refused(download(client, "0" * 30, hospital=NANHUA_CODE), "NHSA_FILE_NOT_FOUND")
    assert theirs.replace(mine, "?") == missing.replace("0" * 30, "?")
    # Nor can it use the file for its own 3202.
    refused(
        call(client, "3202", {"data": _period(file_qury_no=mine)}, hospital=NANHUA_CODE),
        "NHSA_FILE_NOT_FOUND",
    )
    # After the download deadline the owner gets the same answer.
    container.clock.set(container.clock.now() + dt.timedelta(days=8))  # type: ignore[attr-defined]
    refused(download(client, mine), "NHSA_FILE_NOT_FOUND")


def _detail_text(rows: list[dict[str, Any]], separator: str = "\t") -> bytes:
    columns = ("setl_id", "mdtrt_id", "psn_no", "medfee_sumamt", "fund_pay_sumamt", "acct_pay")
    lines = [
        separator.join([*(str(row[c]) for c in columns), row["refd_setl_flag"]]) for row in rows
    ]
    return "\n".join(lines).encode("utf-8")  # the Java client writes no final newline


def _zipped(text: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("20261220120000.txt", text)
    return buffer.getvalue()


def test_3202_with_an_uploaded_detail_file_lists_the_same_differences_as_inline(
    client: TestClient, world: None, container: Container
) -> None:
    _, ledger = _a_month_of_settlements(client, container.clock)
    hospital = [dict(row) for i, row in enumerate(ledger) if i != 3]
    hospital[4]["medfee_sumamt"] += Decimal("0.01")
    inline = ok(call(client, "3202", {"data": _period(detail=hospital)}))
    assert len(inline["result"]) == 2
    for content in (
        _zipped(_detail_text(hospital)),
        _detail_text(hospital),
        _detail_text(hospital, ","),
    ):
        number = ok(upload(client, _signed(content)))["file_qury_no"]
        by_file = ok(call(client, "3202", {"data": _period(file_qury_no=number)}))
        assert by_file["result"] == inline["result"]
        assert by_file["stmtinfo"] == inline["stmtinfo"]


def test_3202_refuses_an_unreadable_detail_file(
    client: TestClient, world: None, container: Container
) -> None:
    for content, reason in (
        (b"only\tthree\tcolumns", "第 1 行有 3 列"),
        (b"S1\tM1\tP1\tabc\t1.00\t0\t0", "第 1 行"),
        (b"PK\x03\x04broken", "不是有效的 ZIP"),
        (b"\n\n", "没有明细行"),
    ):
        number = ok(upload(client, _signed(content)))["file_qury_no"]
        message = refused(
            call(client, "3202", {"data": _period(file_qury_no=number)}), "NHSA_3202_FILE_INVALID"
        )
        assert reason in message


def _result_rows(archive_bytes: bytes) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        (member,) = archive.namelist()
        assert member.endswith(".txt")
        text = archive.read(member).decode("utf-8")
    return [dict(zip(RESULT_COLUMNS, line.split("\t"), strict=True)) for line in text.split("\n")]


def test_3202_with_differences_answers_a_result_file_the_hospital_downloads_with_9102(
    client: TestClient, world: None, container: Container
) -> None:
    _, ledger = _a_month_of_settlements(client, container.clock)
    clean = ok(call(client, "3202", {"data": _period(detail=ledger)}))
    assert clean["fileinfo"] is None  # nothing differs: nothing to download
    hospital = [dict(row) for i, row in enumerate(ledger) if i != 3]
    hospital[4]["medfee_sumamt"] += Decimal("0.01")
    found = ok(call(client, "3202", {"data": _period(detail=hospital)}))
    info = found["fileinfo"]
    assert info["filename"].endswith(".txt.zip") and len(info["file_qury_no"]) <= 30
    assert dt.datetime.strptime(info["dld_endtime"], "%Y-%m-%d %H:%M:%S")
    rows = _result_rows(fetched(client, info["file_qury_no"]))
    expected = [
        {c: "" if row.get(c) is None else str(row[c]) for c in RESULT_COLUMNS}
        for row in found["result"]
    ]
    for row in expected:
        for amount in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay"):
            row[amount] = f"{Decimal(row[amount]):.2f}"
    assert rows == expected and len(rows) == 2
    assert {row["stmt_rslt"] for row in rows} == {"000101", "000103"}
    # The result belongs to the hospital that asked.
    refused(download(client, info["file_qury_no"], hospital=NANHUA_CODE), "NHSA_FILE_NOT_FOUND")
