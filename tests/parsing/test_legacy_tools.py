"""Legacy Word files through the real converters, one at a time: Debian's
``libreoffice-writer-nogui`` (soffice), ``wv`` (wvHtml) and ``antiword``.

The fixtures (``report-2021.doc``, ``report-2019.doc``) are real Word 97-2003 files, saved by
LibreOffice from the DOCX fixtures (``make_fixtures.py --legacy``). A converter that is not
installed is a failure naming its package, not a skip: ``.ci/run`` installs all three.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from gkcrawl.demo.render.html import render_html
from gkcrawl.parsing import parse_document
from gkcrawl.parsing.document import Unreadable
from gkcrawl.parsing.extract import legacy
from gkcrawl.parsing.extract.legacy import extract_legacy
from gkcrawl.quality.dedup import organ_key
from gkcrawl.store import Store
from tests.parsing.test_docx_pdf import TABLE_KEYS, assert_report_matches, fixture, report_of
from tests.pipelines.test_dedup_store import document, roles, run

#: converter name -> (its executable, the Debian package that installs it, the tool's name in
#: an Unreadable reason)
PACKAGES = {
    "libreoffice": ("soffice", "libreoffice-writer-nogui", "LibreOffice"),
    "wvhtml": ("wvHtml", "wv", "wvHtml"),
    "antiword": ("antiword", "antiword", "antiword"),
}
DOCS = ("report-2021.doc", "report-2019.doc")
#: where the fixtures claim to come from (the organ's region is inferred from the host)
URL = "http://www.gongbujiangda.gov.cn/zwgk/{}"


def require(name: str) -> None:
    """Fail with the install line when converter ``name`` is missing."""
    executable, package, _ = PACKAGES[name]
    if shutil.which(executable) is None:
        pytest.fail(f"{executable} is not installed; legacy Word files are tested with the real "
                    f"converters. Install Debian's package:  apt-get install -y {package}",
                    pytrace=False)


def only(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``name`` the only converter (it must be installed)."""
    require(name)
    monkeypatch.setattr(legacy, "CONVERTERS",
                        tuple(c for c in legacy.CONVERTERS if c.name == name))


def test_the_fixtures_are_real_word_files() -> None:
    for name in DOCS:
        assert fixture(name).startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), name  # OLE2


@pytest.mark.parametrize("converter", ["libreoffice", "wvhtml"])
@pytest.mark.parametrize("name", DOCS)
@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_converter_gives_every_value(converter: str, name: str, suffix: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """WPS Office saves its .wps in the Word binary format: the same file named .wps (the
    suffix names the converter's input file) reads the same."""
    only(converter, monkeypatch)
    assert extract_legacy(fixture(name), suffix).meta["converter"] == converter
    url = URL.format(name.replace(".doc", suffix))
    result = parse_document(fixture(name), "application/octet-stream", url)
    assert_report_matches(result, report_of(name), "doc")
    assert not [f for f in result.flags if f.startswith("row not found")]


@pytest.mark.parametrize("name", DOCS)
def test_antiword_reads_table_1_and_flags_what_it_drops(name: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """antiword prints no cells of a table with vertically merged cells (table 2): the report
    keeps table 1's values and says which rows it did not find, it does not guess them."""
    only("antiword", monkeypatch)
    result = parse_document(fixture(name), "application/msword", URL.format(name))
    report = report_of(name)
    got = result.to_dict()
    assert got["active_disclosure"] == report["active_disclosure"]
    assert (got["year"], got["organ"]) == (report["year"], report["organ"])
    lost = [f"row not found: applications.{row}" for row in report["applications"]]
    assert set(lost) <= set(result.flags)
    assert all(v is None for cols in got["applications"].values() for v in cols.values())


def test_the_first_converter_that_is_installed_is_used() -> None:
    for name in PACKAGES:
        require(name)
    assert extract_legacy(fixture(DOCS[0]), ".doc").meta["converter"] == "libreoffice"


@pytest.mark.parametrize("converter", list(PACKAGES))
def test_a_truncated_file_is_corrupt_with_the_tools_reason(converter: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    only(converter, monkeypatch)
    with pytest.raises(Unreadable) as err:
        extract_legacy(fixture(DOCS[1])[:2000], ".doc")
    assert err.value.code == "corrupt"
    assert err.value.reason.startswith(PACKAGES[converter][2])


def test_all_converters_failing_report_the_last_one() -> None:
    for name in PACKAGES:
        require(name)
    result = parse_document(fixture(DOCS[1])[:2000], "application/msword", URL.format("x.doc"))
    assert not result.ok and result.code == "corrupt"
    assert result.reason.startswith("antiword")


def test_every_table_is_read_when_all_are_installed() -> None:
    for name in PACKAGES:
        require(name)
    result = parse_document(fixture(DOCS[1]), "application/msword", URL.format(DOCS[1]))
    got = result.to_dict()
    assert {k: got[k] for k in TABLE_KEYS} == {k: report_of(DOCS[1])[k] for k in TABLE_KEYS}


@pytest.mark.usefixtures("fast_engine")
@deferred_f_from_coro_f
async def test_a_report_page_and_its_doc_attachment_are_one_report(
        store: Store, target: str, tmp_path: Path) -> None:
    """Through the crawl's item pipelines (extraction of the .doc in Twisted's thread pool)."""
    require("libreoffice")
    report = report_of(DOCS[1])
    page, attachment = URL.format("t20210208_1.html"), URL.format("P020210208.doc")
    await run(target, tmp_path, [document(page, render_html(report), "text/html", 1),
                                 document(attachment, fixture(DOCS[1]), "application/msword", 2)])
    key = organ_key(report["organ"])
    stored = store.report(key, report["year"])
    assert stored is not None and stored.n_sources == 2
    assert sorted(roles(store, key, report["year"])) == [attachment, page]
    copy = next(s for s in store.sources(key, report["year"]) if s.url == attachment)
    assert copy.source_kind == "doc"
    assert {k: copy.report[k] for k in TABLE_KEYS} == {k: report[k] for k in TABLE_KEYS}
