"""9101 文件上传 and 9102 文件下载: files moved through the gateway, and the 3202 detail file.

Input fields (OH ``Models/Input/Input_9101.cs``, ``Input_9102.cs``; the Java client at
code-index id 25732743079): 9101 ``input.fsUploadIn`` = ``in`` (the file bytes: a Java
``byte[]``, which JSON libraries write either as an array of signed bytes or as Base64
text; both are accepted), ``filename`` (≤200), ``fixmedins_code``; output ``file_qury_no``,
``filename``, ``dld_endtime`` (the fields of the 3202 ``fileinfo`` node, code-index id
25551984723). 9102 ``input.fsDownloadIn`` = ``file_qury_no``, ``filename``,
``fixmedins_code``.

A stored file belongs to the institution that uploaded it: any other institution, an
unknown ``file_qury_no`` and an expired file all get the same answer
(``NHSA_FILE_NOT_FOUND``), so file numbers cannot be probed.

The 3202 detail file (code-index id 25732743079, a HIS that builds it for 9101): a ZIP
holding one UTF-8 ``.txt``, one settlement per line, tab-separated, no header, columns
``setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay, refd_setl_flag``.
:func:`statement_lines` reads that, the same text unzipped, and commas instead of tabs.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import json
import secrets
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser
from typing import Any, Final, Protocol

from pydantic import Field, ValidationError

from yidi.integrations.nhsa.transactions import (
    DateTime,
    Id30,
    NhsaModel,
    OptText,
    StatementDifference,
    StatementLine,
    Text,
    validation_message,
)
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import Conflict, ErrorKind, InvalidInput, NotFound, YidiError

#: Largest file 9101 accepts: under the gateway's 8 MiB body limit even as Base64 (×4/3).
#: yidi's own limit (the spec gives none).
MAX_FILE_BYTES: Final = 4 * 1024 * 1024
#: How long an uploaded file can be downloaded (``dld_endtime``); yidi's own choice.
FILE_RETENTION: Final = dt.timedelta(days=7)
#: Largest unzipped 3202 detail text (a ZIP bomb stops here).
MAX_STATEMENT_TEXT_BYTES: Final = 32 * 1024 * 1024
#: Columns of a 3202 detail line, in file order (code-index id 25732743079).
STATEMENT_COLUMNS: Final = (
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    "refd_setl_flag",
)
FILENAME_MAX_LENGTH: Final = 200
#: Columns of the 3202 result file, in file order: the ``result`` node's fields as the
#: NeiMengGu client declares them (``Output_3202.result``, code-index id 30283523665).
RESULT_COLUMNS: Final = (
    "psn_no",
    "mdtrt_id",
    "setl_id",
    "msgid",
    "stmt_rslt",
    "refd_setl_flag",
    "memo",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
)


# --------------------------------------------------------------------------- models


class FileUpload(NhsaModel):
    content: Any = Field(default=None, alias="in")
    filename: Text = Field(max_length=FILENAME_MAX_LENGTH)
    fixmedins_code: OptText = None


class Input9101(NhsaModel):
    """input of 9101: ``{"fsUploadIn": {"in": ..., "filename": ..., "fixmedins_code": ...}}``."""

    fs_upload_in: FileUpload = Field(alias="fsUploadIn")


class FileInfo(NhsaModel):
    file_qury_no: str
    filename: str
    dld_endtime: DateTime


class Output9101(FileInfo):
    """output of 9101 (flat, as OH ``Output_9101`` and the Java client read it)."""


class FileDownload(NhsaModel):
    file_qury_no: Id30
    filename: OptText = None
    fixmedins_code: OptText = None


class Input9102(NhsaModel):
    """input of 9102: ``{"fsDownloadIn": {"file_qury_no": ..., "filename": ..., ...}}``."""

    fs_download_in: FileDownload = Field(alias="fsDownloadIn")


class Output9102(FileInfo):
    """output of 9102. Over HTTP the answer is the file's bytes themselves
    (``application/octet-stream``, as the national platform sends them: HN appendix A; the
    JL client reads the body as the file); this envelope, without the bytes, is what an
    in-process caller and the log see."""

    content: bytes = Field(exclude=True, repr=False)
    file_size: int
    sha256: str


# --------------------------------------------------------------------------- decoding


def _too_large(size: int) -> YidiError:
    return YidiError(
        "NHSA_FILE_TOO_LARGE",
        f"文件过大（{size} 字节），单个文件不能超过 {MAX_FILE_BYTES} 字节",
        f"file of {size} bytes exceeds {MAX_FILE_BYTES}",
        field="in",
        kind=ErrorKind.TOO_LARGE,
    )


def _bad_content() -> InvalidInput:
    return InvalidInput(
        "NHSA_FILE_CONTENT_INVALID",
        "文件数据 in 应为字节数组（-128～255 的整数）或 Base64 文本",
        "in must be an array of bytes or Base64 text",
        field="in",
    )


def file_bytes(content: Any) -> bytes:
    """The bytes of ``fsUploadIn.in``: an array of (signed or unsigned) bytes or Base64."""
    if isinstance(content, list):
        if len(content) > MAX_FILE_BYTES:
            raise _too_large(len(content))
        out = bytearray()
        for item in content:
            if isinstance(item, bool) or not isinstance(item, int | Decimal):
                raise _bad_content()
            if item != int(item) or not -128 <= int(item) <= 255:
                raise _bad_content()
            out.append(int(item) & 0xFF)
        data = bytes(out)
    elif isinstance(content, str):
        text = "".join(content.split())
        if len(text) > MAX_FILE_BYTES * 4 // 3 + 4:
            raise _too_large(len(text) * 3 // 4)
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _bad_content() from None
    elif content is None:
        data = b""
    else:
        raise _bad_content()
    if not data:
        raise InvalidInput(
            "NHSA_FILE_EMPTY", "文件数据 in 为空，请上传文件内容", "the file is empty", field="in"
        )
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(len(data))
    return data


def _statement_text(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                texts = [m for m in members if m.filename.lower().endswith(".txt")] or members
                if not texts:
                    raise _bad_statement("压缩包中没有文件")
                member = texts[0]
                if member.file_size > MAX_STATEMENT_TEXT_BYTES:
                    raise _bad_statement(f"解压后超过 {MAX_STATEMENT_TEXT_BYTES} 字节")
                with archive.open(member) as stream:
                    data = stream.read(MAX_STATEMENT_TEXT_BYTES + 1)
                if len(data) > MAX_STATEMENT_TEXT_BYTES:
                    raise _bad_statement(f"解压后超过 {MAX_STATEMENT_TEXT_BYTES} 字节")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError):
            raise _bad_statement("不是有效的 ZIP 压缩包") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _bad_statement("文本不是 UTF-8 或 GB18030 编码")


def _bad_statement(reason: str) -> InvalidInput:
    return InvalidInput(
        "NHSA_3202_FILE_INVALID",
        f"对账明细文件无法读取：{reason}",
        f"the statement file cannot be read: {reason}",
        field="file_qury_no",
    )


def statement_lines(data: bytes) -> list[StatementLine]:
    """The settlements of a 3202 detail file (ZIP of a .txt, or the text itself)."""
    lines: list[StatementLine] = []
    for number, raw in enumerate(_statement_text(data).splitlines(), start=1):
        if not raw.strip():
            continue
        cells = [cell.strip() for cell in raw.split("\t" if "\t" in raw else ",")]
        if number == 1 and cells and cells[0].lower() == "setl_id":
            continue  # a header row, which some exports add
        if len(cells) < 5 or len(cells) > len(STATEMENT_COLUMNS):
            raise _bad_statement(
                f"第 {number} 行有 {len(cells)} 列，应为 5～{len(STATEMENT_COLUMNS)} 列"
                f"（{'、'.join(STATEMENT_COLUMNS)}，以制表符分隔）"
            )
        try:
            lines.append(
                StatementLine.model_validate(dict(zip(STATEMENT_COLUMNS, cells, strict=False)))
            )
        except ValidationError as exc:
            raise _bad_statement(f"第 {number} 行 {validation_message(exc, root='行')}") from None
    if not lines:
        raise _bad_statement("文件中没有明细行")
    return lines


def statement_result_file(
    rows: Sequence[StatementDifference], made_at: dt.datetime
) -> tuple[str, bytes]:
    """The 3202 result file: a ZIP holding one UTF-8 ``.txt``, one difference per line,
    tab-separated, no header, columns :data:`RESULT_COLUMNS` (the layout of the detail file
    the hospital uploads; the platform's own result layout is not public). Name as the
    platform's files are named (``yyyyMMddHHmmss`` + digits + ``.txt.zip``, code-index id
    23455935700)."""
    lines = []
    for row in rows:
        values = row.model_dump(mode="python")
        cells = []
        for column in RESULT_COLUMNS:
            value = values.get(column)
            text = (
                ""
                if value is None
                else f"{value:.2f}"
                if isinstance(value, Decimal)
                else str(value)
            )
            cells.append(" ".join(text.split()))  # no tab or line break inside a cell
        lines.append("\t".join(cells))
    stem = (
        made_at.astimezone(CHINA_TZ).strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**13):013d}"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.txt", "\n".join(lines).encode("utf-8"))
    return f"{stem}.txt.zip", buffer.getvalue()


# --------------------------------------------------------------------------- multipart 9101

#: The parts of a multipart 9101 (HN appendix A, NHSA-INTERFACE.md §1): the envelope as
#: text and the file itself.
ENVELOPE_PART: Final = "jsonStr"
FILE_PART: Final = "file"


def _bad_multipart(reason: str) -> InvalidInput:
    return InvalidInput(
        "NHSA_MULTIPART_INVALID",
        f"文件上传的 multipart/form-data 报文无法读取：{reason}",
        f"the multipart/form-data upload cannot be read: {reason}",
        field=FILE_PART,
    )


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").strip().lower().startswith("multipart/form-data")


def envelope_from_multipart(content_type: str, body: bytes) -> bytes:
    """The JSON envelope a multipart 9101 stands for: the ``jsonStr`` part, with the bytes
    of the ``file`` part put into ``input.fsUploadIn.in`` (as Base64) and the part's file
    name used when ``fsUploadIn.filename`` is missing. The result goes through the same
    parsing, checks and idempotency as a JSON 9101."""
    message = BytesParser(policy=email_policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise _bad_multipart("缺少分隔符 boundary")
    parts: dict[str, Message] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and name not in parts:
            parts[name] = part
    if ENVELOPE_PART not in parts:
        raise _bad_multipart(f"缺少报文部分 {ENVELOPE_PART}")
    if FILE_PART not in parts:
        raise _bad_multipart(f"缺少文件部分 {FILE_PART}")
    raw_envelope = parts[ENVELOPE_PART].get_payload(decode=True)
    data = parts[FILE_PART].get_payload(decode=True)
    if not isinstance(raw_envelope, bytes) or not isinstance(data, bytes):
        raise _bad_multipart("部分内容为空")
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(len(data))
    envelope = _json_object(raw_envelope, ENVELOPE_PART)
    input_ = envelope.get("input")
    if isinstance(input_, str):
        input_ = _json_object(input_.encode("utf-8"), "input")
    if input_ is None:
        input_ = {}
    if not isinstance(input_, dict):
        raise _bad_multipart("input 不是对象")
    upload = input_.get("fsUploadIn")
    if upload is None:
        upload = {}
    if not isinstance(upload, dict):
        raise _bad_multipart("fsUploadIn 不是对象")
    upload = {**upload, "in": base64.b64encode(data).decode("ascii")}
    if not upload.get("filename"):
        part_name = parts[FILE_PART].get_filename()
        if part_name:
            upload["filename"] = part_name
    envelope["input"] = {**input_, "fsUploadIn": upload}
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


def _json_object(raw: bytes, part: str) -> dict[str, Any]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            value = json.loads(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
        except ValueError:
            break
        if isinstance(value, dict):
            return value
        break
    raise _bad_multipart(f"{part} 不是 JSON 对象")


# --------------------------------------------------------------------------- storage


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_qury_no: str
    fixmedins_code: str
    msgid: str | None
    filename: str
    content: bytes
    sha256: str
    uploaded_at: dt.datetime
    expires_at: dt.datetime

    @property
    def size(self) -> int:
        return len(self.content)


class GatewayFileStore(Protocol):
    """Where uploaded files live (``yidi.integrations.nhsa.files_sql``)."""

    def by_message(self, fixmedins_code: str, msgid: str) -> StoredFile | None: ...

    def get(self, file_qury_no: str) -> StoredFile | None: ...

    def add(self, stored: StoredFile) -> StoredFile:
        """Store it; when a concurrent twin with the same (fixmedins_code, msgid) won,
        answer that one instead."""
        ...

    def delete_expired(self, now: dt.datetime) -> int:
        """Delete every file whose download deadline is at or before ``now``; how many."""
        ...


def _not_found(file_qury_no: str) -> NotFound:
    return NotFound(
        "NHSA_FILE_NOT_FOUND",
        f"文件查询号 {file_qury_no} 不存在或已过下载截止时间",
        f"file {file_qury_no} does not exist or has expired",
        field="file_qury_no",
    )


class GatewayFiles:
    """Upload (idempotent by msgid) and download, each institution its own files only."""

    def __init__(self, store: GatewayFileStore, now: Callable[[], dt.datetime]) -> None:
        self._store = store
        self._now = now

    def upload(
        self, fixmedins_code: str, msgid: str | None, filename: str, content: Any
    ) -> StoredFile:
        data = file_bytes(content)
        digest = hashlib.sha256(data).hexdigest()
        if msgid is not None:
            earlier = self._store.by_message(fixmedins_code, msgid)
            if earlier is not None:
                return _same_or_refuse(earlier, msgid, filename, digest)
        # Expired files can never be read again: each upload clears them out.
        self.prune()
        return self._add(fixmedins_code, msgid, filename, data, digest)

    def publish(self, fixmedins_code: str, filename: str, data: bytes) -> StoredFile:
        """A file yidi makes for the institution to download with 9102 (the 3202 result)."""
        return self._add(fixmedins_code, None, filename, data, hashlib.sha256(data).hexdigest())

    def prune(self) -> int:
        """Delete the files past their download deadline; how many were deleted."""
        return self._store.delete_expired(self._now())

    def _add(
        self, fixmedins_code: str, msgid: str | None, filename: str, data: bytes, digest: str
    ) -> StoredFile:
        now = self._now()
        stored = self._store.add(
            StoredFile(
                file_qury_no=secrets.token_hex(15),
                fixmedins_code=fixmedins_code,
                msgid=msgid,
                filename=filename,
                content=data,
                sha256=digest,
                uploaded_at=now,
                expires_at=now + FILE_RETENTION,
            )
        )
        return _same_or_refuse(stored, msgid, filename, digest)

    def download(self, fixmedins_code: str, file_qury_no: str) -> StoredFile:
        stored = self._store.get(file_qury_no)
        if (
            stored is None
            or stored.fixmedins_code != fixmedins_code
            or stored.expires_at <= self._now()
        ):
            raise _not_found(file_qury_no)
        return stored


def _same_or_refuse(
    stored: StoredFile, msgid: str | None, filename: str, digest: str
) -> StoredFile:
    if stored.sha256 != digest or stored.filename != filename:
        raise Conflict(
            "IDEMPOTENCY_KEY_REUSED",
            f"报文ID {msgid} 已用于另一笔不同内容的交易，请使用新的报文ID",
            f"message id {msgid} was already used for a different request",
        )
    return stored


def file_info(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_qury_no": stored.file_qury_no,
        "filename": stored.filename,
        "dld_endtime": stored.expires_at.astimezone(CHINA_TZ).replace(tzinfo=None),
    }


def refuse_other_institution(declared: str | None, envelope_code: str) -> None:
    """``fsUploadIn.fixmedins_code`` / ``fsDownloadIn.fixmedins_code``, when given, must
    be the envelope's institution."""
    if declared and declared != envelope_code:
        raise InvalidInput(
            "NHSA_FILE_INSTITUTION_MISMATCH",
            f"文件交易中的医药机构编号 {declared} 与报文的 fixmedins_code 不一致",
            "the file's fixmedins_code differs from the envelope's",
            field="fixmedins_code",
        )


__all__: Sequence[str] = (
    "FILE_RETENTION",
    "MAX_FILE_BYTES",
    "GatewayFileStore",
    "GatewayFiles",
    "Input9101",
    "Input9102",
    "Output9101",
    "Output9102",
    "StoredFile",
    "envelope_from_multipart",
    "file_bytes",
    "file_info",
    "is_multipart",
    "refuse_other_institution",
    "statement_lines",
    "statement_result_file",
)
