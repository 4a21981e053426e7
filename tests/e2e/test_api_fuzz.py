"""Property-based fuzzing of the whole OpenAPI (REST and the national gateway) with schemathesis.

Every operation is fuzzed anonymously and signed in as an agency handler, a hospital cashier and
the province officer (bearer tokens), so the generated requests reach the code behind the
access checks. The gateway's body is JSON of any shape, so it also gets explicit strategies:
valid-looking envelopes with random ``infno`` and ``input``, broken JSON, and wrong types.

Bounded examples per operation (``YIDI_FUZZ_EXAMPLES``, default 15) so the suite stays fast;
``docs/reliability.md`` records a longer run. Target: no 5xx; every 4xx carries a stable code
and a Chinese message; the gateway always answers HTTP 200 with a JSON envelope (``infcode``
-1 and a Chinese ``err_msg`` on failure), never an HTML page.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from filing_support import HENGYANG, HUNAN
from hospital_support import NANHUA_CASHIER, NANHUA_CODE, PENG_CARD, build_world, token_for
from yidi.bootstrap import Container

CHINESE = re.compile(r"[\u4e00-\u9fff]")
GATEWAY = "/fsi/api/rsfComIfsService/callService"


def examples_per_operation() -> int:
    return int(os.environ.get("YIDI_FUZZ_EXAMPLES", "15"))


def _fuzz_settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def check_gateway_reply(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:200]
    content_type = response.headers.get("content-type", "")
    if isinstance(content_type, list):  # schemathesis' own response: one list per header
        content_type = content_type[0] if content_type else ""
    assert content_type.startswith("application/json"), content_type
    assert not response.text.lstrip().startswith("<")
    body: dict[str, Any] = response.json()
    assert body["infcode"] in (0, -1)
    if body["infcode"] == -1:
        assert body["err_msg"] and CHINESE.search(body["err_msg"]), body["err_msg"]
        assert re.match(r"^\[[A-Z0-9_]+\]", body["err_msg"]), body["err_msg"]
    return body


def _check(case: schemathesis.Case, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500
    if case.path.startswith("/fsi/"):
        check_gateway_reply(response)
        return
    if 400 <= response.status_code < 500:
        error = response.json()["error"]
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", error["code"])
        assert CHINESE.search(error["message"])


def _fuzzer(
    operation: Any, identity: str, headers: dict[str, str], examples: int, tried: dict[str, int]
) -> Any:
    @_fuzz_settings(examples)
    @given(case=operation.as_strategy())
    def fuzz(case: schemathesis.Case) -> None:
        tried[identity] = tried.get(identity, 0) + 1
        _check(case, headers)

    return fuzz


def test_no_operation_answers_5xx_and_every_error_explains_itself_in_chinese(
    client: TestClient, container: Container
) -> None:
    build_world(container)
    identities: dict[str, dict[str, str]] = {
        "anonymous": {},
        "agency handler": token_for(container, HENGYANG),
        "hospital cashier": token_for(container, NANHUA_CASHIER),
        "province officer": token_for(container, HUNAN),
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    examples = examples_per_operation()
    tried: dict[str, int] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for identity, headers in identities.items():
            if identity != "anonymous" and operation.path.startswith("/fsi/"):
                continue  # the gateway does not use yidi sign-in; its own strategies are below
            _fuzzer(operation, identity, headers, examples, tried)()
    assert operations >= 58  # every REST operation and the 13 gateway paths
    assert all(count > 0 for count in tried.values()) and len(tried) == 4
    print(f"\nfuzzed {operations} operations; examples per identity: {tried}")


# --------------------------------------------------------------------------- the gateway

INFNOS = [
    "1101",
    "2301",
    "2302",
    "2303",
    "2304",
    "2305",
    "2401",
    "2402",
    "2404",
    "2405",
    "5301",
    "9001",
    "9101",
    "9102",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Inputs shaped like the real ones (the keys the transactions read), with random values.
shaped_inputs = st.fixed_dictionaries(
    {},
    optional={
        "data": st.dictionaries(
            st.sampled_from(
                [
                    "mdtrt_cert_type",
                    "mdtrt_cert_no",
                    "psn_no",
                    "mdtrt_id",
                    "setl_id",
                    "medfee_sumamt",
                    "insutype",
                    "begntime",
                    "endtime",
                ]
            ),
            json_values,
            max_size=6,
        ),
        "mdtrtinfo": st.dictionaries(st.text(max_size=12), json_values, max_size=6),
        "feedetail": st.lists(
            st.dictionaries(
                st.sampled_from(
                    ["feedetl_sn", "mdtrt_id", "med_list_codg", "cnt", "pric", "fee_ocur_time"]
                ),
                json_values,
            ),
            max_size=3,
        ),
        "dscginfo": json_values,
    },
)
envelopes = st.fixed_dictionaries(
    {
        "infno": st.sampled_from(INFNOS) | st.text(max_size=6) | json_values,
        "fixmedins_code": st.sampled_from([NANHUA_CODE, "H45092300001", ""]) | json_values,
        "input": shaped_inputs | json_values | st.text(max_size=60),
    },
    optional={
        "msgid": st.text(max_size=40) | json_values,
        "mdtrtarea_admvs": st.sampled_from(["430400", "450923", "x"]) | json_values,
        "insuplc_admdvs": st.sampled_from(["640104", "430421"]) | json_values,
        "inf_time": st.text(max_size=25),
        "opter": json_values,
    },
)


def _envelope_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode()


gateway_bodies = st.one_of(
    envelopes.map(_envelope_bytes),  # valid-looking envelopes, random transactions and inputs
    json_values.map(_envelope_bytes),  # any JSON: wrong types at the top level
    st.binary(max_size=200),  # not JSON at all
    envelopes.map(_envelope_bytes).flatmap(  # JSON cut off or corrupted
        lambda raw: st.integers(0, max(0, len(raw) - 1)).map(lambda cut: raw[:cut])
    ),
    st.just(b"\xef\xbb\xbf" + _envelope_bytes({"infno": "1101", "input": {}})),  # BOM, no code
)


def test_the_gateway_answers_any_body_with_an_envelope_never_html_or_5xx(
    client: TestClient, container: Container
) -> None:
    build_world(container)
    seen: dict[int, int] = {}

    @_fuzz_settings(max(60, 4 * examples_per_operation()))
    @given(
        body=gateway_bodies,
        content_type=st.sampled_from(["application/json", "text/plain", "application/xml"]),
        infno_path=st.none() | st.sampled_from(INFNOS) | st.text(min_size=1, max_size=5),
    )
    def fuzz(body: bytes, content_type: str, infno_path: str | None) -> None:
        path = GATEWAY if infno_path is None else f"{GATEWAY}/{infno_path}"
        if infno_path is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", infno_path):
            path = GATEWAY
        response = client.post(path, content=body, headers={"Content-Type": content_type})
        reply = check_gateway_reply(response)
        seen[reply["infcode"]] = seen.get(reply["infcode"], 0) + 1

    fuzz()
    assert seen.get(-1, 0) > 0
    # A well-formed query for a filed patient still works after all that.
    good = client.post(
        GATEWAY,
        json={
            "infno": "1101",
            "msgid": "FUZZ-AFTER-1",
            "fixmedins_code": NANHUA_CODE,
            "input": {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": PENG_CARD}},
        },
    )
    assert check_gateway_reply(good)["infcode"] == 0
