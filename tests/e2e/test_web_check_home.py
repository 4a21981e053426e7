"""The guided check (能否直接结算) for care at home: a filed long-term resident back in the
insured region settles there under the 2022 rules (双向享受), not while promised documents
are outstanding; an unknown answer is asked again."""

from __future__ import annotations

from fastapi.testclient import TestClient

from web_helpers import PAGE

HOME = "/check?category=long_term_resident&care=inpatient&accident=no&filed=yes&place=home"


def test_a_filed_long_term_resident_settles_at_home_both_ways(web: TestClient) -> None:
    form = web.get("/check", headers=PAGE).text
    assert 'id="place-home"' in form and 'id="place-away" name="place" value="away" checked' in form
    answer = web.get(HOME, headers=PAGE)
    assert answer.status_code == 200
    assert 'data-verdict="direct"' in answer.text and 'data-rule="BOTH_WAYS"' in answer.text


def test_no_both_way_settlement_while_promised_documents_are_outstanding(web: TestClient) -> None:
    answer = web.get(f"{HOME}&promise=yes", headers=PAGE).text
    assert 'data-verdict="not_direct"' in answer and 'data-rule="BOTH_WAYS_CLOSED"' in answer
    assert "先向参保地经办机构补齐承诺的证明材料" in answer
    away = web.get(HOME.replace("place=home", "place=away") + "&promise=yes", headers=PAGE).text
    assert 'data-rule="BOTH_WAYS' not in away  # away from home the filing itself decides


def test_an_unknown_place_is_asked_again(web: TestClient) -> None:
    refused = web.get(HOME.replace("place=home", "place=moon"), headers=PAGE)
    assert refused.status_code == 422
    assert 'id="place-error"' in refused.text and 'href="#place-away"' in refused.text
