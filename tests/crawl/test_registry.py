"""The portal registry: the shipped default, subsets, and clear errors naming the row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gkcrawl.commands.crawl import unknown_arguments
from gkcrawl.crawl import registry
from gkcrawl.crawl.urls import in_domains
from gkcrawl.spiders.portals import PortalsSpider

ROOT = Path(__file__).parents[2]

HEADER = "id,name,start_url,report_url,allowed_domains,region_code,level\n"


def write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "portals.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_default_registry_is_national_provinces_and_ministries() -> None:
    portals = registry.load()
    levels = [p.level for p in portals]
    assert levels.count("national") == 1 and levels.count("province") == 31
    assert levels.count("ministry") >= 25
    by_id = {p.id: p for p in portals}
    assert by_id["xinjiang"].name == "新疆维吾尔自治区人民政府"
    assert by_id["xinjiang"].region_code == "650000"
    assert by_id["mohrss"].start_urls[0] == "https://www.mohrss.gov.cn/xxgk2020/zfxxgknb/"
    assert all(p.allowed_domains and p.start_url.startswith("http") for p in portals)


def test_only_selects_a_subset_in_registry_order() -> None:
    assert [p.id for p in registry.load(only="xizang,beijing")] == ["beijing", "xizang"]


@pytest.mark.parametrize(("rows", "message"), [
    ("a,甲,http://a.gov.cn/,,,,county\nb,乙,ftp://b.gov.cn/,,,,county\n",
     ":3: start_url 'ftp://b.gov.cn/' is not an http(s) URL"),
    ("a,甲,http://a.gov.cn/,,,,county\na,乙,http://b.gov.cn/,,,,county\n", ":3: duplicate id 'a'"),
    ("a,,http://a.gov.cn/,,,,county\n", ":2: empty 'name'"),
    ("a,甲,http://a.gov.cn/,http://other.cn/nb/,a.gov.cn,,county\n",
     ":2: http://other.cn/nb/ is outside allowed_domains a.gov.cn"),
    ("a,甲,http://a.gov.cn/,,,12,county\n", ":2: region_code '12' is not a 6-digit code"),
    ("A B,甲,http://a.gov.cn/,,,,county\n", ":2: id 'A B' must be"),
    ("a,甲,http://a.gov.cn/,,,,planet\n", ":2: level 'planet' is not one of"),
])
def test_bad_rows_name_the_row(tmp_path: Path, rows: str, message: str) -> None:
    path = write(tmp_path, rows)
    with pytest.raises(registry.RegistryError) as error:
        registry.load(path)
    assert f"{path}{message}" in str(error.value)


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "a,甲,ftp://a.gov.cn/,,,,county\nb,乙,http://b.gov.cn/,,,,county\n"
                           "c,,http://c.gov.cn/,,,,county\nb,丁,http://d.gov.cn/,,,,county\n")
    with pytest.raises(registry.RegistryError) as error:
        registry.load(path)
    assert str(error.value).splitlines() == [
        f"{path}:2: start_url 'ftp://a.gov.cn/' is not an http(s) URL",
        f"{path}:4: empty 'name'", f"{path}:5: duplicate id 'b'"]


def test_missing_columns_and_unknown_ids(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,name\na,甲\n", encoding="utf-8")
    with pytest.raises(registry.RegistryError, match="lacks column\\(s\\) start_url"):
        registry.load(path)
    with pytest.raises(registry.RegistryError, match="no portal with id nope"):
        registry.load(only="beijing,nope")


def test_crawl_command_reports_a_bad_registry_as_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a,甲,notaurl,,,,county\n")
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "portals",
                           "-a", f"portals={path}"],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[2])
    assert proc.returncode == 2
    assert f"{path}:2: start_url 'notaurl' is not an http(s) URL" in proc.stderr


def test_an_unknown_spider_argument_is_a_usage_error(tmp_path: Path) -> None:
    """A typo (``-a portal=``) would otherwise crawl the default registry; scrapyd's ``_job``
    passes."""
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "portals", "-a", "portal=x.csv",
                           "-a", "_job=1", "-s", f"ARCHIVE_DIR={tmp_path}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "unknown spider argument(s) for portals: portal" in proc.stderr
    assert "Traceback" not in proc.stderr and not any(tmp_path.iterdir())
    assert unknown_arguments(PortalsSpider, {"portals": "a.csv", "only": "x", "_job": "1"}) == []


def test_other_ports_of_a_portals_host_are_out_of_scope(tmp_path: Path) -> None:
    path = write(tmp_path, "a,甲,http://127.0.0.1:8000/,,,,county\n"
                           "b,乙,http://b.gov.cn/,,b.gov.cn b.gov.cn:8443,,county\n")
    a, b = registry.load(path)
    assert in_domains("http://127.0.0.1:8000/zwgk/", a.allowed_domains, a.allowed_ports)
    assert not in_domains("http://127.0.0.1:9000/admin/", a.allowed_domains, a.allowed_ports)
    assert in_domains("https://www.b.gov.cn/x", b.allowed_domains, b.allowed_ports)
    assert in_domains("https://b.gov.cn:8443/x", b.allowed_domains, b.allowed_ports)
    assert not in_domains("http://b.gov.cn:8080/x", b.allowed_domains, b.allowed_ports)


def test_a_registry_row_opts_in_with_render_browser(tmp_path: Path) -> None:
    path = tmp_path / "portals.csv"
    path.write_text("id,name,start_url,render\na,甲,http://a.gov.cn/,browser\n"
                    "b,乙,http://b.gov.cn/,\n", encoding="utf-8")
    assert [p.render for p in registry.load(path)] == [registry.BROWSER, ""]
    path.write_text("id,name,start_url,render\na,甲,http://a.gov.cn/,chrome\n", encoding="utf-8")
    with pytest.raises(registry.RegistryError, match=":2: render 'chrome' is not 'browser'"):
        registry.load(path)
