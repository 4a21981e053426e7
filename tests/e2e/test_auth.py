from __future__ import annotations

from fastapi.testclient import TestClient

from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world


def _login(client: TestClient, username: str, password: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    return response.status_code, response.json()


def test_demo_handler_signs_in_and_the_token_says_who_they_are(
    client: TestClient, container: Container
) -> None:
    load_reference_world(container.uow())
    status, body = _login(client, "hengyang", "hengyang-demo-2017")
    assert status == 200 and body["role"] == "agency_handler"
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert me == {
        "user_id": "hengyang",
        "role": "agency_handler",
        "region_code": "430400",
        "hospital_code": None,
        "password_change_required": False,
    }


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, container: Container
) -> None:
    load_reference_world(container.uow())
    wrong = _login(client, "hengyang", "nope")
    unknown = _login(client, "nobody", "nope")
    assert wrong[0] == unknown[0] == 401
    assert wrong[1]["error"] == unknown[1]["error"]  # type: ignore[index]


def test_a_forged_token_is_refused_with_a_chinese_message(client: TestClient) -> None:
    response = client.get("/api/auth/me", headers={"Authorization": "Bearer forged.token.value"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "登录凭证无效，请重新登录"


def test_the_session_cookie_alone_cannot_change_anything_through_the_json_api(
    client: TestClient, container: Container
) -> None:
    load_reference_world(container.uow())
    _, body = _login(client, "clearing", "clearing-demo-2017")
    client.cookies.set("yidi_session", str(body["token"]))
    assert client.get("/api/auth/me").json()["user_id"] == "clearing"  # reads may use the cookie
    refused = client.post("/api/clearing/2026-10/run?level=province")
    assert refused.status_code == 401
    client.cookies.clear()
    allowed = client.post(
        "/api/clearing/2026-10/run?level=province",
        headers={"Authorization": f"Bearer {body['token']}"},
    )
    assert allowed.status_code == 200, allowed.text
