"""``url_key`` gives the same key as ``surt.surt`` (what cdxj-indexer writes) for every URL.

``url_key`` computes the key of a plain http(s) URL in parts (host part from a cache, path and
query through surt's own canonicalisers) instead of calling ``surt.surt``: a third of the cost,
which is paid for every archived response. Anything it computes differently would misplace the
capture in the index, so the keys are compared here on the portals of the registry, the bench
portal's URLs, a list of odd URLs and many generated ones.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import surt
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gkcrawl.archive import cdxj
from gkcrawl.archive.cdxj import url_key

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "gkcrawl" / "crawl" / "portals.csv"


def expected(url: str) -> str:
    """What cdxj-indexer writes: surt's key, or the URL when surt fails."""
    try:
        return str(surt.surt(url))
    except Exception:  # noqa: BLE001 - cdxj-indexer's bare except
        return url


ODD_URLS = [
    # plain, with the parts surt canonicalises
    "http://www.example.gov.cn/zwgk/list?page=2&t=1",
    "https://WWW.Example.GOV.cn/ZWGK/Index.HTML?B=2&a=1&A=0",
    "http://www1.example.gov.cn/", "http://www12.example.gov.cn/a", "http://wwwx.example.cn/",
    "http://www.www.example.cn/", "http://www.cn/", "http://www./", "http://www/",
    "http://example.cn", "http://example.cn?", "http://example.cn/?", "http://example.cn/#",
    "http://example.cn/#frag", "http://example.cn?#", "http://example.cn#a?b", "http://example.cn/?#x",
    "http://example.cn/a/", "http://example.cn/a//", "http://example.cn//", "http://example.cn///a///b",
    "http://example.cn/./a/../b/./c/..", "http://example.cn/../../a", "http://example.cn/a/..",
    "http://example.cn/..", "http://example.cn/.", "http://example.cn/...", "http://example.cn/.a/..b/",
    "http://example.cn/a?", "http://example.cn/a??", "http://example.cn/a?b?c=d", "http://example.cn/a?&",
    "http://example.cn/a?&&b=&=c&d==e&", "http://example.cn/a?=", "http://example.cn/a?b=2&a=1&b=1",
    "http://example.cn/a?B=1&b=1&a", "http://example.cn/a?z&y=&x=1",
    # ports
    "http://example.cn:80/a", "https://example.cn:443/a", "http://example.cn:443/a",
    "https://example.cn:80/a", "http://example.cn:8080/a", "http://example.cn:0/a",
    "http://example.cn:080/a", "http://example.cn:00080/", "http://example.cn:65535/",
    "http://example.cn:65536/", "http://example.cn:99999/a?b", "http://example.cn:/a",
    "http://example.cn::80/a",
    # hosts surt rewrites or resolves (IP address forms, dots)
    "http://127.0.0.1:8000/zfxxgk/gkml/index.html?page=3", "http://127.0.0.1/", "http://10.0.0.1./",
    "http://2130706433/a", "http://017700000001/", "http://0x7f.1/", "http://1.2.3/", "http://1.2/",
    "http://0/", "http://00/", "http://08/", "http://1.2.3.4.5/", "http://256.256.256.256/",
    "http://example..cn/", "http://.example.cn./", "http://..example.cn../a", "http://./", "http://../a",
    "http://-.cn/", "http://a-b.cn/", "http://1a.cn/", "http://EXAMPLE.CN./A/",
    # escapes
    "http://example.cn/%E4%B8%AD%E6%96%87/%e6%8a%a5%e5%91%8a.html",
    "http://example.cn/a%2Fb/c", "http://example.cn/a%252Fb", "http://example.cn/%2e%2e/a",
    "http://example.cn/%23?%23", "http://example.cn/a%3Fb?c%3Fd", "http://example.cn/%", "http://example.cn/%%",
    "http://example.cn/%zz?%g", "http://example.cn/%25", "http://example.cn/%2525252541",
    "http://example.cn/a?b=%E4%B8%AD&a=%2526", "http://example.cn/%20/?q=%20", "http://ex%61mple.cn/",
    "http://%77ww.example.cn/", "http://example.cn/a%0Ab", "http://example.cn/?%00",
    # session ids
    "http://example.cn/a/(S(abcdefghijklmnopqrstuvwx))/b.aspx?x=1",
    "http://example.cn/a/(abcdefghijklmnopqrstuvwx)/b.aspx",
    "http://example.cn/A/(ABCDEFGHIJKLMNOPQRSTUVWX)/B.ASPX",
    "http://example.cn/a.jsp?jsessionid=0123456789abcdef0123456789abcdef&x=1",
    "http://example.cn/a.jsp?x=1&jsessionid=0123456789ABCDEF0123456789abcdef",
    "http://example.cn/a.php?PHPSESSID=0123456789abcdef0123456789abcdef",
    "http://example.cn/a?sid=0123456789abcdef0123456789abcdef",
    "http://example.cn/a?ASPSESSIONIDabcdefgh=abcdefghijklmnopqrstuvwx&b=1",
    "http://example.cn/a?cfid=123&cftoken=456&z=1", "http://example.cn/a?cfid=1&cftoken=2",
    # printable ASCII oddities
    "http://example.cn/a;b=c/d;e?f;g", "http://example.cn/~user/!$&'()*+,;=:@/x",
    'http://example.cn/"quoted"/<a>?{b}|c^d`e', "http://example.cn/a\\b\\c?d\\e",
    "http://example.cn/a[1]/?b[]=2", "http://example.cn/A?Q=A#F", "http://example.cn/?#?#",
    # not plain: surt (or the URL itself) whole
    "http://user:pass@example.cn/a", "http://@example.cn/", "http://[::1]:8080/a", "http://[fe80::1%25eth0]/",
    "https://example.cn/a b/ c?d e", " http://example.cn/a ", "http://example.cn/a\tb\nc\r",
    "http://例子.中国/路径?查询=值", "http://xn--fsqu00a.xn--fiqs8s/", "http://example.cn/中文.html",
    "HTTP://EXAMPLE.CN/A", "Http://example.cn/", "ftp://example.cn/a/b", "dns:example.cn",
    "filedesc://x.warc.gz", "mailto:a@example.cn", "example.cn/a", "//example.cn/a", "http:/example.cn/a",
    "http:///example.cn/a", "http:////example.cn/a", "http://http://example.cn/a", "http://https://x.cn/",
    "https://http://x.cn/", "http://", "http:", "http://?a", "http://#a", "http:///", "", "-",
    "urn:uuid:1234", "javascript:void(0)", "http://example.cn:abc/", "http://example.cn:-1/",
]


def registry_urls() -> list[str]:
    with REGISTRY.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    urls = [row[key] for row in rows for key in ("start_url", "report_url") if row[key]]
    # the kinds of page URL the spider archives on such a portal
    for row in rows:
        base = row["start_url"].rstrip("/")
        urls += [f"{base}/zfxxgk/gkml/index.html", f"{base}/zfxxgk/gkml/index_2.html",
                 f"{base}/col/col1234/index.html?uid=5678&pageNum=2",
                 f"{base}/art/2024/1/15/art_1229_123456.html",
                 f"{base}/gkmlpt/content/4/4123/post_4123456.html#3",
                 f"{base}/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15",
                 f"{base}/attach/0/4f5c2b%E5%B9%B4%E6%8A%A5.pdf",
                 f"{base}/robots.txt"]
    return urls


def bench_urls() -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from _portal import Portal
    finally:
        sys.path.remove(str(ROOT / "bench"))
    portal = Portal(2_000, seed=1)
    base = "http://127.0.0.1:43210"
    return [base + "/", base + "/robots.txt"] + [
        base + portal.list_path(page) for page in range(1, portal.layout.lists + 1)] + [
        base + portal.article_path(i) for i in range(portal.layout.articles)]


@pytest.mark.parametrize("url", ODD_URLS)
def test_odd_urls(url: str) -> None:
    assert url_key(url) == expected(url)


def test_registry_and_bench_urls() -> None:
    urls = registry_urls() + bench_urls()
    assert len(urls) > 2_000
    assert [url_key(url) for url in urls] == [expected(url) for url in urls]


def test_keys_are_surts_own_on_known_values() -> None:
    """Real values, not only equality with surt (in case surt itself changes under us)."""
    assert url_key("https://WWW.Example.GOV.cn:443/ZWGK/a/../Index.HTML/?b=2&A=1#x") == (
        "cn,gov,example)/zwgk/index.html?a=1&b=2")
    assert url_key("http://127.0.0.1:8000/zfxxgk/gkml/index.html?page=3") == (
        "1,0,0,127:8000)/zfxxgk/gkml/index.html?page=3")
    assert url_key("http://example.cn/%E4%B8%AD/a%2Fb?q=%e4") == "cn,example)/%e4%b8%ad/a/b?q=%e4"
    assert url_key("http://example.cn:99999/") == "http://example.cn:99999/"  # surt fails: the URL


def test_a_full_origin_cache_is_emptied_and_refilled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdxj, "ORIGIN_CACHE_SIZE", 3)
    monkeypatch.setattr(cdxj, "_origin_keys", {})
    urls = [f"http://h{i % 7}.example.cn:{8000 + i % 3}/p{i}?q={i}" for i in range(50)]
    assert [url_key(url) for url in urls] == [expected(url) for url in urls]
    assert 0 < len(cdxj._origin_keys) <= 3


# -- generated URLs: made of the pieces that matter to surt, in any combination ---------------

HOST_LABELS = st.sampled_from([
    "www", "www1", "WWW2", "wwwx", "example", "Example", "gov", "cn", "a-b", "-", "1", "0", "08",
    "017", "0x7f", "127", "255", "256", "2130706433", "xn--fiqs8s", ""])
PORTS = st.sampled_from(["", ":", ":80", ":443", ":8080", ":0", ":080", ":65535", ":65536", ":99999"])
SEGMENTS = st.sampled_from([
    "", ".", "..", "...", "a", "A", "index.html", "INDEX.HTML", "b.aspx", "(S(abcdefghijklmnopqrstuvwx))",
    "(abcdefghijklmnopqrstuvwx)", "%2F", "%2f", "%25", "%252F", "%E4%B8%AD", "%e4", "%", "%zz", "%2e",
    "%2E%2E", "%23", "%3F", "%20", ";x=1", "~u", "!$&'()*+,=:@", '"<>', "[]", "{}|^`\\", "中", " ", "\t"])
QUERY_PARTS = st.sampled_from([
    "", "a", "a=", "=a", "a=1", "B=2", "b=1", "A=1", "page=3", "jsessionid=0123456789abcdef0123456789abcdef",
    "PHPSESSID=0123456789ABCDEF0123456789abcdef", "sid=0123456789abcdef0123456789abcdef",
    "ASPSESSIONIDabcdefgh=abcdefghijklmnopqrstuvwx", "cfid=1&cftoken=2", "%26", "%3D", "%E4%B8%AD",
    "%", "?", "q=a b", "q=中", "a=b=c", "/x/../y"])
FRAGMENTS = st.sampled_from(["", "#", "#a", "#a?b", "#%", "##", "#中"])


@st.composite
def generated_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "https", "http", "HTTP", "ftp"]))
    host = ".".join(draw(st.lists(HOST_LABELS, min_size=1, max_size=4)))
    path = "/".join(draw(st.lists(SEGMENTS, max_size=6)))
    if path and draw(st.booleans()):
        path = "/" + path
    elif path:
        path = "/" + path.lstrip("/")
    query = "&".join(draw(st.lists(QUERY_PARTS, max_size=5)))
    has_query = draw(st.booleans())
    return (f"{scheme}://{host}{draw(PORTS)}{path}" + (f"?{query}" if has_query else "")
            + draw(FRAGMENTS))


@settings(max_examples=3_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_urls())
@example("http://example.cn/a/../b?B=1&a=2#f")
def test_generated_urls(url: str) -> None:
    assert url_key(url) == expected(url)


@settings(max_examples=1_000, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=40))
def test_any_printable_tail(tail: str) -> None:
    for url in (f"http://example.cn/{tail}", f"https://www.example.cn:8443{tail}", f"http://{tail}"):
        assert url_key(url) == expected(url)
