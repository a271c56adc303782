"""The article's fields, each filled through a written-down fallback order.

Every field is tried rule by rule, first answer wins, and the winning rule's name is recorded
in ``Article.sources``:

    author     platform-byline > json-ld:author > meta:author > entry-meta (span.author.vcard,
               a[rel=author], [itemprop=author]) > visible:Par
    published  platform-date > json-ld:datePublished > meta:article:published_time >
               entry-meta (time.entry-date.published, time.entry-date, time.updated) >
               [itemprop=datePublished] > json-ld:WebPage datePublished (Yoast's graph) >
               time[datetime] > visible:Publié le > visible:le 7 mai 2020 / jeudi 13 juin
               2019 > span.date (17/03/2020) > url:/YYYY/MM/DD/
    modified   meta:article:modified_time > json-ld:dateModified > time.updated (not also
               .published); never a moment the page gives as its publication; else none
    title      h1.entry-title / h1.wp-block-post-title (the theme's own heading: never the
               site's name, spaces as printed) > og:title > json-ld:headline > title > h1;
               the site's name (og:site_name, JSON-LD WebSite name, else the last separator
               of ``<title>`` and what follows) taken off
    categories a[rel~=category] > terms-block a[rel~=tag] > meta:article:section >
               json-ld:articleSection
    edition    url-host > canonical > og:url
    language   html-lang > stop-words
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import html

from archive.authors import display_name
from archive.parser import platform
from archive.parser.body import Block, PlatformLines, collapse

JsonObject = dict[str, Any]

_AUTHOR_META = ("author", "article:author", "dc.creator", "sailthru.author")
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished",
                   "dc.date.issued", "date")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified")
_AUTHOR_BLOCKLIST = frozenset({"admin", "administrator", "administrateur", "wordpress", "root"})
_LANGUAGE_TAG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]|$)")
_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœæ]+")


@dataclass
class PageHead:
    """What the page says about itself before any furniture is removed."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    article_ld: JsonObject | None = None
    canonical: str | None = None
    html_lang: str | None = None
    body_classes: frozenset[str] = frozenset()
    title_tag: str | None = None
    entry_title: str | None = None
    page_ld_published: str | None = None
    site_ld_name: str | None = None

    def first_meta(self, *names: str) -> str | None:
        """Return the first non-empty content among the meta tags NAMES."""
        for name in names:
            for value in self.meta.get(name, ()):
                if value.strip():
                    return value.strip()
        return None


@dataclass
class PageFacts:
    """Everything the field rules read: the head, the cleaned tree and the text blocks."""

    url: str
    head: PageHead
    root: html.HtmlElement
    blocks: list[Block]
    platform: PlatformLines
    body: str


def _text(element: html.HtmlElement) -> str:
    return collapse(element.text_content())


def read_head(root: html.HtmlElement) -> PageHead:
    """Return the metadata of the page as served (meta tags, JSON-LD, canonical, title)."""
    head = PageHead()
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = meta.get("content")
        if key and content is not None:
            head.meta.setdefault(key.strip().lower(), []).append(content)
    head.article_ld, head.page_ld_published, head.site_ld_name = _article_ld(root)
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            head.canonical = link.get("href", "").strip()
            break
    head.html_lang = root.get("lang") or root.get("xml:lang")
    body = root.find("body")
    if body is not None:
        head.body_classes = frozenset((body.get("class") or "").lower().split())
    title = root.find(".//title")
    if title is not None:
        head.title_tag = _text(title) or None
    for _rule, xpath in platform.TITLE_XPATHS:
        for element in root.xpath(xpath):
            text = _text(element)
            if text:
                head.entry_title = text
                break
        if head.entry_title:
            break
    return head


def _ld_nodes(value: Any) -> Iterator[JsonObject]:
    """Yield every JSON object of a JSON-LD document, ``@graph`` members included."""
    pending = [value]
    seen = 0
    while pending and seen < 1000:
        item = pending.pop(0)
        seen += 1
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                pending.extend(graph)


def _types(node: JsonObject) -> set[str]:
    kind = node.get("@type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {item for item in kind if isinstance(item, str)}
    return set()


def _article_ld(
    root: html.HtmlElement,
) -> tuple[JsonObject | None, str | None, str | None]:
    """Return the page's JSON-LD article object, its author references resolved, the first
    ``datePublished`` of any object (Yoast's ``WebPage``) and the ``WebSite``'s name."""
    nodes: list[JsonObject] = []
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        try:
            document = json.loads(script.text)
        except (ValueError, RecursionError):
            continue
        nodes.extend(_ld_nodes(document))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    published = next(
        (node["datePublished"] for node in nodes if isinstance(node.get("datePublished"), str)),
        None,
    )
    site = next(
        (node["name"] for node in nodes
         if "WebSite" in _types(node) and isinstance(node.get("name"), str)),
        None,
    )
    for node in nodes:
        if _types(node) & platform.ARTICLE_TYPES:
            article = dict(node)
            article["author"] = _resolve(article.get("author"), by_id)
            return article, published, site
    return None, published, site


def _resolve(value: Any, by_id: dict[str, JsonObject]) -> Any:
    if isinstance(value, list):
        return [_resolve(item, by_id) for item in value]
    if isinstance(value, dict) and "name" not in value and isinstance(value.get("@id"), str):
        return by_id.get(value["@id"], value)
    return value


def _ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [name for item in value for name in _ld_names(item)]
    return []


def _clean_author(name: str | None) -> str | None:
    if not name:
        return None
    cleaned = display_name(platform.BYLINE_PREFIX.sub("", display_name(name)))
    if not cleaned or cleaned.startswith(("http://", "https://")):
        return None
    if cleaned.casefold() in _AUTHOR_BLOCKLIST or len(cleaned) > platform.BYLINE_NAME_MAX:
        return None
    return cleaned


def parse_datetime(text: str | None) -> datetime | None:
    """Return the ISO 8601 date-time TEXT as a datetime (a bare date gives midnight), or None."""
    if not text:
        return None
    value = text.strip()
    if len(value) >= 5 and value[-5] in "+-" and value[-4:].isdigit() and "T" in value:
        value = f"{value[:-2]}:{value[-2:]}"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def french_date(text: str) -> date | None:
    """Return the first French date in TEXT (``12 mars 2024``, ``12/03/2024``), or None."""
    found = platform.FRENCH_DATE.search(text)
    if found is None:
        return None
    try:
        if found["month_name"]:
            month = platform.FRENCH_MONTHS[found["month_name"].lower()]
            return plausible(date(int(found["year"]), month, int(found["day"])))
        return plausible(date(int(found["nyear"]), int(found["nmonth"]), int(found["nday"])))
    except (ValueError, KeyError):
        return None


def plausible(day: date | None) -> date | None:
    """Return DAY unless it is a placeholder no article was published on (``0001-01-01``)."""
    return day if day is not None and platform.EARLIEST_YEAR <= day.year <= 2100 else None


def _date_of(text: str | None) -> date | None:
    moment = parse_datetime(text)
    return plausible(moment.date()) if moment is not None else None


Rule = tuple[str, Callable[[PageFacts], Any]]


def _first(facts: PageFacts, rules: tuple[Rule, ...]) -> tuple[Any, str | None]:
    for name, rule in rules:
        value = rule(facts)
        if value:
            return value, name
    return None, None


def _ld(facts: PageFacts, key: str) -> Any:
    return facts.head.article_ld.get(key) if facts.head.article_ld else None


def _ld_author(facts: PageFacts) -> str | None:
    names = [_clean_author(name) for name in _ld_names(_ld(facts, "author"))]
    kept = [name for name in names if name]
    return ", ".join(kept) or None


def _xpath_texts(facts: PageFacts, xpath: str) -> list[str]:
    return [text for text in (_text(element) for element in facts.root.xpath(xpath)) if text]


def _entry_author(xpath: str) -> Callable[[PageFacts], str | None]:
    def rule(facts: PageFacts) -> str | None:
        for element in facts.root.xpath(xpath):
            name = _clean_author(element.text_content())
            if name:
                return name
        return None

    return rule


def _entry_date(xpath: str) -> Callable[[PageFacts], date | None]:
    def rule(facts: PageFacts) -> date | None:
        for element in facts.root.xpath(xpath):
            found = (
                _date_of(element.get("datetime"))
                or _date_of(element.get("content"))
                or french_date(_text(element))
            )
            if found:
                return found
        return None

    return rule


def _meta_lines(facts: PageFacts) -> Iterator[str]:
    for block in facts.blocks:
        for line in block.lines:
            if len(line) <= platform.VISIBLE_META_LINE_MAX:
                yield line


def _visible_author(facts: PageFacts) -> str | None:
    for line in _meta_lines(facts):
        found = platform.VISIBLE_BYLINE.search(line)
        if found:
            return _clean_author(found["name"])
    return None


def _visible_date(facts: PageFacts) -> date | None:
    for line in _meta_lines(facts):
        found = platform.VISIBLE_DATE_LINE.search(line)
        if found:
            visible = french_date(found["date"])
            if visible:
                return visible
    return None


def _visible_published(facts: PageFacts) -> date | None:
    for line in _meta_lines(facts):
        found = platform.VISIBLE_PUBLISHED.search(line)
        if found:
            published = french_date(found["date"])
            if published:
                return published
    return None


AUTHOR_RULES: tuple[Rule, ...] = (
    ("platform-byline", lambda facts: facts.platform.author),
    ("json-ld:author", _ld_author),
    ("meta:author", lambda facts: _clean_author(facts.head.first_meta(*_AUTHOR_META))),
    *((f"entry-meta:{name}", _entry_author(xpath)) for name, xpath in platform.ENTRY_AUTHOR_XPATHS),
    ("visible:Par", _visible_author),
)

PUBLISHED_RULES: tuple[Rule, ...] = (
    ("platform-date", lambda facts: facts.platform.published),
    ("json-ld:datePublished", lambda facts: _date_of(_str(_ld(facts, "datePublished")))),
    ("meta:article:published_time",
     lambda facts: _date_of(facts.head.first_meta(*_PUBLISHED_META))),
    *((f"entry-meta:{name}", _entry_date(xpath))
      for name, xpath in platform.ENTRY_PUBLISHED_XPATHS),
    (platform.PUBLISHED_ITEMPROP_XPATH[0], _entry_date(platform.PUBLISHED_ITEMPROP_XPATH[1])),
    ("json-ld:WebPage datePublished", lambda facts: _date_of(facts.head.page_ld_published)),
    (platform.TIME_XPATH[0], _entry_date(platform.TIME_XPATH[1])),
    ("visible:Publié le", _visible_published),
    ("visible:le DATE", _visible_date),
    (platform.DATE_ELEMENT_XPATH[0], _entry_date(platform.DATE_ELEMENT_XPATH[1])),
    ("url:/YYYY/MM/DD/", lambda facts: _url_date(facts.url)),
)


def _url_date(url: str) -> date | None:
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    found = platform.URL_DATE.search(path)
    if found is None:
        return None
    try:
        return plausible(date(int(found["year"]), int(found["month"]), int(found["day"])))
    except ValueError:
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _time_updated(facts: PageFacts) -> datetime | None:
    for element in facts.root.xpath(platform.ENTRY_MODIFIED_XPATH[1]):
        moment = parse_datetime(element.get("datetime"))
        if moment:
            return moment
    return None


def _published_moments(facts: PageFacts) -> list[datetime]:
    """Return every moment the page gives as its publication (meta, JSON-LD, time.published)."""
    texts = [
        *(value for name in _PUBLISHED_META for value in facts.head.meta.get(name, ())),
        _str(_ld(facts, "datePublished")), facts.head.page_ld_published,
        *(element.get("datetime") for element in facts.root.xpath(
            platform.ENTRY_PUBLISHED_XPATHS[0][1])),
    ]
    return [moment for moment in map(parse_datetime, texts) if moment is not None]


def _same_moment(first: datetime, second: datetime) -> bool:
    if (first.tzinfo is None) == (second.tzinfo is None):
        return first == second
    return first.replace(tzinfo=None) == second.replace(tzinfo=None)


def _modified(rule: Callable[[PageFacts], datetime | None]) -> Callable[[PageFacts], Any]:
    """Return RULE, answering nothing when its moment is the page's publication moment."""
    def checked(facts: PageFacts) -> datetime | None:
        moment = rule(facts)
        if moment is None:
            return None
        if any(_same_moment(moment, published) for published in _published_moments(facts)):
            return None
        return moment

    return checked


MODIFIED_RULES: tuple[Rule, ...] = (
    ("meta:article:modified_time",
     _modified(lambda facts: parse_datetime(facts.head.first_meta(*_MODIFIED_META)))),
    ("json-ld:dateModified",
     _modified(lambda facts: parse_datetime(_str(_ld(facts, "dateModified"))))),
    (platform.ENTRY_MODIFIED_XPATH[0], _modified(_time_updated)),
)


def without_site_name(title: str | None, site_name: str | None, last_resort: bool = False
                      ) -> str | None:
    """Return TITLE without the site's name SITE_NAME before or after a separator; as a
    LAST_RESORT (``<title>`` of a page that does not name its site), without the last spaced
    separator and what follows it."""
    if not title:
        return None
    title = display_name(title)
    name = display_name(site_name or "")
    if name and title.casefold() != name.casefold():
        separators = re.escape(platform.TITLE_SEPARATORS)
        for pattern in (
            rf"^(?P<title>.+?)\s*[{separators}]\s*{re.escape(name)}$",
            rf"^{re.escape(name)}\s*[{separators}]\s*(?P<title>.+)$",
        ):
            found = re.match(pattern, title, re.IGNORECASE)
            if found:
                return found["title"].strip() or None
        return title
    if last_resort:
        found = platform.TITLE_LAST_SEPARATOR.match(title)
        if found:
            return found["title"]
    return title or None


def _site_name(facts: PageFacts) -> str | None:
    """Return the site's name as the page gives it, else what follows the last separator of
    its ``<title>`` (a suffix that ``og:title`` shares with it is the site's name)."""
    named = facts.head.first_meta("og:site_name", "application-name") or facts.head.site_ld_name
    if named:
        return named
    found = platform.TITLE_LAST_SEPARATOR.match(display_name(facts.head.title_tag or ""))
    return found["site"] if found else None


TITLE_RULES: tuple[Rule, ...] = (
    (platform.TITLE_XPATHS[0][0], lambda facts: facts.head.entry_title),
    ("og:title",
     lambda facts: without_site_name(facts.head.first_meta("og:title"), _site_name(facts))),
    ("json-ld:headline",
     lambda facts: without_site_name(_str(_ld(facts, "headline")), _site_name(facts))),
    ("title",
     lambda facts: without_site_name(facts.head.title_tag, _site_name(facts), last_resort=True)),
    (platform.FALLBACK_TITLE_XPATH[0],
     lambda facts: next(iter(_xpath_texts(facts, platform.FALLBACK_TITLE_XPATH[1])), None)),
)


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(display_name(value) for value in values if value.strip()))


def _ld_sections(facts: PageFacts) -> tuple[str, ...]:
    sections = _ld(facts, "articleSection")
    if isinstance(sections, str):
        return _unique(sections.split(","))
    if isinstance(sections, list):
        return _unique([item for item in sections if isinstance(item, str)])
    return ()


def _category_links(xpath: str) -> Callable[[PageFacts], tuple[str, ...]]:
    return lambda facts: _unique(_xpath_texts(facts, xpath))


CATEGORY_RULES: tuple[Rule, ...] = (
    *((name, _category_links(xpath)) for name, xpath in platform.CATEGORY_XPATHS),
    ("meta:article:section", lambda facts: _unique(facts.head.meta.get("article:section", []))),
    ("json-ld:articleSection", _ld_sections),
)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return (urlsplit(url).hostname or "").lower() or None
    except ValueError:
        return None


def _edition_of(url: str | None) -> str | None:
    found = platform.EDITION_HOST.match(_host(url) or "")
    return found.group(1) if found else None


EDITION_RULES: tuple[Rule, ...] = (
    ("url-host", lambda facts: _edition_of(facts.url)),
    ("canonical", lambda facts: _edition_of(facts.head.canonical)),
    ("og:url", lambda facts: _edition_of(facts.head.first_meta("og:url"))),
)


def _html_lang(facts: PageFacts) -> str | None:
    found = _LANGUAGE_TAG.match((facts.head.html_lang or "").strip())
    return found.group(1).lower() if found else None


def _stop_words(facts: PageFacts) -> str | None:
    words = _WORD.findall(facts.body[:5000].lower())
    if len(words) < 10:
        return None
    share = sum(word in platform.FRENCH_STOP_WORDS for word in words) / len(words)
    return "fr" if share >= platform.FRENCH_STOP_WORD_RATIO else None


LANGUAGE_RULES: tuple[Rule, ...] = (
    ("html-lang", _html_lang),
    ("stop-words", _stop_words),
)


@dataclass(frozen=True)
class Fields:
    """The resolved metadata of one article and the rule that gave each field."""

    title: str
    author: str | None
    published: date | None
    modified: datetime | None
    categories: tuple[str, ...]
    edition: str | None
    language: str | None
    canonical_url: str | None
    sources: dict[str, str]


def resolve(facts: PageFacts) -> Fields:
    """Fill every field from its rules, in order, recording the rule that answered."""
    sources: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, rules in (
        ("title", TITLE_RULES), ("author", AUTHOR_RULES), ("published", PUBLISHED_RULES),
        ("modified", MODIFIED_RULES), ("categories", CATEGORY_RULES),
        ("edition", EDITION_RULES), ("language", LANGUAGE_RULES),
    ):
        value, source = _first(facts, rules)
        values[name] = value
        if source is not None:
            sources[name] = source
    canonical = facts.head.canonical or facts.head.first_meta("og:url")
    if canonical:
        try:
            canonical = urljoin(facts.url, canonical)
        except ValueError:
            canonical = None
    return Fields(
        title=values["title"] or "",
        author=values["author"],
        published=values["published"],
        modified=values["modified"],
        categories=values["categories"] or (),
        edition=values["edition"],
        language=values["language"],
        canonical_url=canonical,
        sources=sources,
    )
