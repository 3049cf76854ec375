"""The client against a live `factorlab serve` (FACTORLAB_URL, FACTORLAB_TOKEN: a researcher's token), as
clients/python/tests/run.sh starts it."""
import os
import uuid

import pandas as pd
import pytest

from factorlab_client import FactorLab, FactorLabError

pytestmark = pytest.mark.skipif(not os.environ.get("FACTORLAB_URL"), reason="needs a live server: FACTORLAB_URL, FACTORLAB_TOKEN")


@pytest.fixture()
def lab():
    with FactorLab() as client:
        yield client


def unique(prefix):
    return prefix + uuid.uuid4().hex[:6].upper()


def test_lists_are_read_page_by_page(lab):
    codes = [unique("PG") for _ in range(5)]
    for k, code in enumerate(codes):
        lab.register_factor(code, f"Mean($close, {k + 12}) / $close", category="paging")
    paged = [f["code"] for f in lab.pages("/factors", {"category": "paging"}, page_size=2)]
    assert sorted(codes) == sorted(paged) and len(paged) == len(set(paged))
    first = lab.request("GET", "/factors", params={"category": "paging", "limit": 2})
    assert len(first.json()) == 2 and first.headers["X-Next-Cursor"] and 'rel="next"' in first.headers["Link"]
    frame = lab.factors(category="paging")
    assert isinstance(frame, pd.DataFrame) and set(codes) <= set(frame.index)


def test_errors_carry_the_api_code_message_and_field(lab):
    with pytest.raises(FactorLabError) as invalid:
        lab.register_factor(unique("BAD"), "Mean($close, 5")
    assert invalid.value.status == 422 and invalid.value.code == "invalid_expression" and invalid.value.field == "expression"
    assert isinstance(invalid.value.body.get("position"), int)
    with pytest.raises(FactorLabError) as missing:
        lab.factor("NO_SUCH_FACTOR")
    assert missing.value.status == 404 and missing.value.code == "unknown_factor"
    with pytest.raises(FactorLabError) as typo:
        lab.call("POST", "/factors", json={"code": "X1", "expresion": "$close"})
    assert typo.value.code == "unknown_field" and typo.value.field == "expresion"


def test_events_are_paged_by_their_cursor(lab):
    everything = lab.events(limit=1000)
    paged = list(lab.pages("/events", page_size=2))
    assert [e["id"] for e in paged] == [e["id"] for e in everything] and len(paged) > 2
    frame = lab.all_events()
    assert frame.index.is_monotonic_increasing and "job.submitted" in set(frame["kind"])


def test_an_etag_guards_a_change(lab):
    code = unique("ET")
    lab.register_factor(code, "Mean($close, 31) / $close")
    etag = lab.factor(code)["etag"]
    lab.update_factor(code, "Mean($close, 32) / $close", if_match=etag)
    with pytest.raises(FactorLabError) as stale:
        lab.update_factor(code, "Mean($close, 33) / $close", if_match=etag)
    assert stale.value.status == 412 and stale.value.field == "If-Match"
    assert lab.factor(code)["factor"]["latestVersion"] == 2


def test_a_researcher_cannot_approve(lab):
    code = unique("AP")
    lab.register_factor(code, "Mean($close, 41) / $close")
    lab.submit_review(code)
    with pytest.raises(FactorLabError) as refused:
        lab.approve(code)
    assert refused.value.status == 403
