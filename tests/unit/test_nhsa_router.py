import datetime as dt
import json
from decimal import Decimal

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from nhsa_fake import FakePort

from yidi.integrations.nhsa.router import CALL_SERVICE_PATH, build_gateway_router
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Unauthenticated


def make_client(port: FakePort, **options: object) -> TestClient:
    app = FastAPI()
    clock = FixedClock(dt.datetime(2024, 3, 5, 9, 30, 1))
    app.include_router(build_gateway_router(lambda: port, clock=clock, **options))  # type: ignore[arg-type]
    return TestClient(app)


def envelope(infno: object = "1101", **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "infno": infno,
        "msgid": "H43028100255202403050930001234",
        "mdtrtarea_admvs": "430400",
        "fixmedins_code": "H43028100255",
        "input": {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "430402195604011234"}},
    }
    body.update(extra)
    return body


def test_text_plain_body_is_answered_with_a_numeric_infcode() -> None:
    client = make_client(FakePort())
    response = client.post(
        CALL_SERVICE_PATH,
        content=json.dumps(envelope(), ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    reply = response.json(parse_float=Decimal)
    assert reply["infcode"] == 0 and isinstance(reply["infcode"], int)
    assert reply["output"]["insuinfo"][0]["balc"] == Decimal("1300.00")
    assert '"balc":1300.00' in response.text
    assert len(reply["inf_refmsgid"]) == 30


def test_infno_in_the_path_selects_the_transaction() -> None:
    port = FakePort()
    body = envelope()
    del body["infno"]
    response = make_client(port).post(CALL_SERVICE_PATH + "/1101", json=body)
    assert response.json()["infcode"] == 0
    assert port.calls[0][0] == "query_person"


def test_per_service_path_selects_the_transaction() -> None:
    port = FakePort()
    body = envelope()
    del body["infno"]
    response = make_client(port).post("/fsi/api/fsiPsnInfoService/queryPsnInfo", json=body)
    assert response.json()["infcode"] == 0
    assert port.calls[0][0] == "query_person"


def test_malformed_json_gets_an_envelope_reply_not_an_error_page() -> None:
    response = make_client(FakePort()).post(CALL_SERVICE_PATH, content=b"{infno: 1101")
    assert response.status_code == 200
    reply = response.json()
    assert reply["infcode"] == -1
    assert reply["err_msg"].startswith("[NHSA_BODY_NOT_JSON]")
    assert reply["output"] is None


def test_body_over_the_limit_is_refused_with_http_200() -> None:
    client = make_client(FakePort(), max_body_bytes=200)
    response = client.post(CALL_SERVICE_PATH, content=b"{" + b" " * 500 + b"}")
    assert response.status_code == 200
    assert response.json()["err_msg"].startswith("[NHSA_BODY_TOO_LARGE]")


def test_missing_msgid_on_settlement_is_refused_through_http() -> None:
    port = FakePort()
    body = envelope(
        "2304", msgid="", input={"data": {"psn_no": "P", "mdtrt_id": "M", "medfee_sumamt": 1}}
    )
    reply = make_client(port).post(CALL_SERVICE_PATH, json=body).json()
    assert reply["err_msg"].startswith("[NHSA_MSGID_MISSING]")
    assert port.calls == []


def test_authentication_hook_can_refuse_a_request() -> None:
    def require_key(request: Request, body: bytes) -> None:
        if request.headers.get("apikey") != "secret":
            raise Unauthenticated("NHSA_UNAUTHENTICATED", "接口认证失败", "bad key")

    port = FakePort()
    client = make_client(port, authenticate=require_key)
    refused = client.post(CALL_SERVICE_PATH, json=envelope()).json()
    accepted = client.post(CALL_SERVICE_PATH, json=envelope(), headers={"apikey": "secret"}).json()
    assert refused["err_msg"] == "[NHSA_UNAUTHENTICATED] 接口认证失败"
    assert accepted["infcode"] == 0
    assert len(port.calls) == 1


def test_openapi_describes_the_request_body() -> None:
    schema = make_client(FakePort()).get("/openapi.json").json()
    operation = schema["paths"][CALL_SERVICE_PATH]["post"]
    content = operation["requestBody"]["content"]
    assert {"application/json", "text/plain"} <= set(content)
    assert "infno" in content["application/json"]["schema"]["properties"]
