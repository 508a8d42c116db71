"""A ``byway serve`` with every provider type behind it, and the collector that writes the matrix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from byway.mock import MockServer, running
from tests.conformance import report
from tests.conformance.matrix import config_yaml
from tests.serving import serving

MASTER_KEY = "byw-master-conformance-0123456789"
_RESULTS: dict[report.Cell, report.Result] = {}


class Clients:
    def __init__(self, url: str, mock: MockServer, work: Path) -> None:
        self.url = url
        self.mock = mock
        self.work = work  # the gateway's data is in work / "data"
        self.openai = openai.OpenAI(base_url=url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=30)
        self.anthropic = anthropic.Anthropic(base_url=url, api_key=MASTER_KEY, max_retries=0, timeout=30)


@pytest.fixture(scope="session")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    work = tmp_path_factory.mktemp("conformance")
    with running() as mock:
        config = work / "byway.yaml"
        config.write_text(config_yaml(mock.url, work))
        with serving(config, work, MASTER_KEY) as url:
            yield Clients(url, mock, work)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    rep: pytest.TestReport = yield
    cell = getattr(item, "callspec", None) and item.callspec.params.get("cell")
    if cell is not None and (rep.when == "call" or rep.failed):
        detail = ""
        if rep.failed and call.excinfo is not None:
            detail = call.excinfo.exconly().splitlines()[0][:300].replace("|", "\\|")
        _RESULTS[tuple(cell)] = report.Result(rep.passed, detail)  # type: ignore[index]
    return rep


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write docs/compatibility.md when the whole matrix ran (not for a selection of it)."""
    if _RESULTS and set(report.expected_cells()) <= set(_RESULTS):
        report.write(_RESULTS)
