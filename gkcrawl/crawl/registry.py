"""The portal registry: which government portals to crawl, as data (a CSV shipped in the package).

Columns: ``id,name,start_url`` are required; ``report_url`` (the 政府信息公开年报 column when
known), ``allowed_domains`` (space or semicolon separated, ``host`` or ``host:port``; default:
the start URL's host; other ports than 80, 443 and the start and report URLs' are out of scope
unless named here),
``region_code`` (GB/T 2260) and ``level`` (national, province, ministry, city, county, township)
are hints; ``render`` is ``browser`` for a portal whose pages only a browser can read (lists
built by script: :mod:`gkcrawl.crawl.browser`), else empty.
A new portal is one line here, not code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from gkcrawl.crawl.urls import DEFAULT_PORTS, port_of

REQUIRED = ("id", "name", "start_url")
LEVELS = {"national", "province", "ministry", "city", "county", "district", "township",
          "department", ""}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_REGION = re.compile(r"^(\d{6})?$")
#: ``render``: pages fetched plainly (empty), or rendered by headless Chromium
BROWSER = "browser"
RENDERS = ("", BROWSER)


class RegistryError(ValueError):
    """A registry row is wrong; the message names the file and row."""


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    start_url: str
    report_url: str = ""
    allowed_domains: tuple[str, ...] = ()
    region_code: str = ""
    level: str = ""
    #: 80, 443, the ports of the start and report URLs, and those ``allowed_domains`` names
    allowed_ports: tuple[int, ...] = DEFAULT_PORTS
    render: str = ""

    @property
    def start_urls(self) -> list[str]:
        """The report column first (it is where the reports are), then the home page."""
        return [u for u in (self.report_url, self.start_url) if u]


def default_path() -> Path:
    return Path(str(resources.files(__package__).joinpath("portals.csv")))


def load(path: str | Path | None = None, only: str | list[str] | None = None) -> list[Portal]:
    """Read and check a registry; ``only`` keeps the listed ids (a comma-separated string or a
    list)."""
    path = Path(path) if path else default_path()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the portal registry ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise RegistryError(f"{path}: header lacks column(s) {', '.join(missing)}; "
                            f"required: {','.join(REQUIRED)}")
    portals: list[Portal] = []
    seen: set[str] = set()
    errors: list[str] = []  # every bad row is reported, not only the first
    for line, row in enumerate(reader, start=2):
        try:
            portal = _portal(row, f"{path}:{line}")
        except RegistryError as exc:
            errors.append(str(exc))
            continue
        if portal.id in seen:
            errors.append(f"{path}:{line}: duplicate id {portal.id!r}")
            continue
        seen.add(portal.id)
        portals.append(portal)
    if errors:
        raise RegistryError("\n".join(errors))
    if only:
        ids = only.split(",") if isinstance(only, str) else only
        wanted = [i.strip() for i in ids if i.strip()]
        unknown = [i for i in wanted if i not in seen]
        if unknown:
            raise RegistryError(f"{path}: no portal with id {', '.join(unknown)}")
        portals = [p for p in portals if p.id in wanted]
    return portals


def _portal(row: dict[str, str | None], where: str) -> Portal:
    values = {k: (v or "").strip() for k, v in row.items() if k}
    for column in REQUIRED:
        if not values.get(column):
            raise RegistryError(f"{where}: empty {column!r}")
    if not _ID.match(values["id"]):
        raise RegistryError(
            f"{where}: id {values['id']!r} must be lower-case letters, digits, - or _")
    for column in ("start_url", "report_url"):
        url = values.get(column, "")
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname):
            raise RegistryError(f"{where}: {column} {url!r} is not an http(s) URL")
    entries = [d for d in re.split(r"[\s;]+", values.get("allowed_domains", "")) if d]
    domains = tuple(d.partition(":")[0].lower() for d in entries)
    if not domains:
        domains = (urlsplit(values["start_url"]).hostname or "",)
    ports = set(DEFAULT_PORTS)
    for entry in entries:
        if ":" in entry:
            port = entry.partition(":")[2]
            if not port.isdigit():
                raise RegistryError(f"{where}: allowed_domains {entry!r}: the port is no number")
            ports.add(int(port))
    ports |= {p for url in (values["start_url"], values.get("report_url", "")) if url
              and (p := port_of(url)) is not None}
    for url in (values["start_url"], values.get("report_url", "")):
        host = urlsplit(url).hostname or ""
        if url and not any(host == d or host.endswith("." + d) for d in domains):
            raise RegistryError(f"{where}: {url} is outside allowed_domains {' '.join(domains)}")
    if not _REGION.match(values.get("region_code", "")):
        raise RegistryError(f"{where}: region_code {values['region_code']!r} is not a 6-digit code")
    if values.get("level", "") not in LEVELS:
        raise RegistryError(f"{where}: level {values['level']!r} is not one of "
                            f"{', '.join(sorted(LEVELS - {''}))}")
    if values.get("render", "") not in RENDERS:
        raise RegistryError(f"{where}: render {values['render']!r} is not {BROWSER!r} or empty")
    return Portal(values["id"], values["name"], values["start_url"], values.get("report_url", ""),
                  domains, values.get("region_code", ""), values.get("level", ""),
                  tuple(sorted(ports)), values.get("render", ""))
