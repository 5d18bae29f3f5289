"""Query parameters of the pages that Python's str.isdigit() accepts but int() does not
("¹", "١"): the page shows its first page or a field error, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("page", ["¹", "١٢", "²³", "-1", "", "9" * 12])
def test_contract_list_page_number_that_is_not_ascii_digits(client, page):
    r = client.get("/contracts", params={"page": page})
    assert r.status_code == 200, r.text[:500]
    assert "合同" in r.text


@pytest.mark.parametrize("jurisdiction", ["¹¹¹¹¹¹", "٤١١٢٠٠"])
def test_proposal_resolution_with_non_ascii_digits_is_not_a_server_error(client, jurisdiction):
    r = client.get("/proposal", params={"jurisdiction": jurisdiction, "industry": "32", "as_of": "2024-03-01"})
    assert r.status_code < 500, r.text[:500]
