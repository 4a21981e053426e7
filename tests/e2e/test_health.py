from fastapi.testclient import TestClient


def test_health_reports_ok_and_the_database_in_use(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_unknown_path_answers_json_with_a_chinese_message(client: TestClient) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert response.json()["error"]["message"] == "请求的资源不存在"


def test_openapi_is_served_at_the_usual_path(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"].startswith("yidi")
