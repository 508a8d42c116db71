"""Client API x provider type x feature, through a real ``byway serve`` (see docs/compatibility.md)."""

from __future__ import annotations

import pytest

from tests.conformance import anthropic_cells, openai_cells
from tests.conformance.conftest import Clients
from tests.conformance.matrix import BY_NAME
from tests.conformance.report import expected_cells

_CELLS = {"openai": openai_cells.CELLS, "anthropic": anthropic_cells.CELLS}


@pytest.mark.parametrize("cell", expected_cells(), ids=lambda c: "-".join(c))
def test_cell(clients: Clients, cell: tuple[str, str, str]) -> None:
    client_api, name, feature = cell
    client = clients.openai if client_api == "openai" else clients.anthropic
    _CELLS[client_api][feature](client, BY_NAME[name])  # type: ignore[operator]
