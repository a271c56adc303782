"""Everything the parser knows about Notre Continent and its WordPress themes, as data.

The logic modules (``metadata``, ``body``, ``pagekind``) read these selectors, patterns and
word lists; changing how the site marks things up should only ever mean editing this file.
"""

from __future__ import annotations

import re
from typing import NamedTuple


def _class(name: str) -> str:
    """Return the XPath test for an element carrying the CSS class NAME."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# --- the platform's own conventions -------------------------------------------------------------

EDITION_HOST = re.compile(r"^([a-z]{2})\.notrecontinent\.com$")
"""A country edition is the two-letter subdomain of the platform's host."""

TITLE_SEPARATORS = "-–—|·•»:"
"""What themes put between a title and the site's name (``Titre – Site``)."""

TITLE_LAST_SEPARATOR = re.compile(r"^(?P<title>.+\S)\s+[-–—|·•»]\s+(?P<site>\S.*)$")
"""The last spaced separator of ``<title>`` and what follows it: the site's name, when the page
does not say it (``:`` is not one: French titles hold ``Guerre en Ukraine : …``)."""

_SPACE = r"[ \t\u00a0\u202f]*"
_COLON = rf"{_SPACE}:{_SPACE}"

BYLINE = re.compile(
    rf"(?:^|(?<=\s))Article\s+[ée]crit\s+par{_COLON}"
    rf"(?P<name>.+?)"
    rf"(?={_SPACE}(?:Mis\s+en\s+ligne|[—–]|La\s+plateforme\s+NOTRECONTINENT)|{_SPACE}$)",
    re.IGNORECASE,
)
"""``Article écrit par : NAME`` (any colon spacing, regular or no-break)."""

PUBLISHED_LINE = re.compile(
    rf"(?:^|(?<=\s))Mis\s+en\s+ligne{_COLON}"
    r"(?P<day>\d{1,2})\s*[/.-]\s*(?P<month>\d{1,2})\s*[/.-]\s*(?P<year>\d{4})\b",
    re.IGNORECASE,
)
"""``Mis en ligne : DD/MM/YYYY``: always day first."""

BOILERPLATE = re.compile(
    r"La\s+plateforme\s+NOTRECONTINENT\.COM\s+permet\b.*?(?:Cliquez[\s-]*ici\b[ \t.!]*|\Z)",
    re.IGNORECASE | re.DOTALL,
)
"""The platform's closing paragraph, from its first words to ``Cliquez-ici``."""

SEPARATOR_LINE = re.compile(r"^[—–\-_]{1,3}$")
"""The ``—`` line the platform prints between the date and the boilerplate."""

BYLINE_WORDS = re.compile(r"Article\s+[ée]crit\s+par\b", re.IGNORECASE)
"""The byline's opening words anywhere in a text: the page is the platform's."""

BYLINE_HINT = "crit"
PUBLISHED_LINE_HINT = "ligne"
BOILERPLATE_HINT = "notrecontinent.com"
"""Lower-case words each pattern needs: blocks without them skip the regular expression."""

BYLINE_NAME_MAX = 80
"""A byline longer than this is a sentence that happens to contain the words, not a name."""

# --- visible French forms ------------------------------------------------------------------------

FRENCH_MONTHS: dict[str, int] = {
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "fév": 2,
    "mars": 3, "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7,
    "août": 8, "aout": 8, "septembre": 9, "sept": 9, "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11, "décembre": 12, "decembre": 12, "déc": 12, "dec": 12,
}

_MONTH_NAMES = "(?i:" + "|".join(sorted(FRENCH_MONTHS, key=len, reverse=True)) + ")"

_DATE_IN_WORDS = rf"\d{{1,2}}(?:er)?[ \u00a0]+(?:{_MONTH_NAMES})\.?[ \u00a0]+\d{{4}}"
_DATE_IN_DIGITS = r"\d{1,2}/\d{1,2}/\d{4}"

FRENCH_DATE = re.compile(
    rf"(?P<day>\d{{1,2}})(?:er)?[ \u00a0]+(?P<month_name>{_MONTH_NAMES})\.?[ \u00a0]+"
    r"(?P<year>\d{4})"
    r"|(?P<nday>\d{1,2})/(?P<nmonth>\d{1,2})/(?P<nyear>\d{4})",
    re.IGNORECASE,
)
"""``12 mars 2024``, ``1er août 2023``, or ``12/03/2024`` (day first)."""

_PUBLISHED_WORD = r"(?:[Pp]ubli[ée]|[Mm]is\s+en\s+ligne)\s+le"

VISIBLE_PUBLISHED = re.compile(
    rf"(?:^|(?<=[\s|·•–—]))(?:{_PUBLISHED_WORD}){_SPACE}\s*"
    rf"(?P<date>{_DATE_IN_WORDS}|{_DATE_IN_DIGITS})",
)
"""``Publié le 12 mars 2024`` as themes print it above or below the article."""

_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][\w’'.\-]*"
_PARTICLE = r"(?:de|du|des|da|di|dos|van|von|der|den|le|la|ben|bin|ibn|el|al|d’|d')"
_NAME = rf"{_NAME_WORD}(?:[ \u00a0\-]+(?:{_PARTICLE}[ \u00a0]*)?{_NAME_WORD}){{0,5}}"

VISIBLE_BYLINE = re.compile(
    rf"(?:^|(?<=[\s|·•–—,]))(?:Par|par(?=\s+{_NAME_WORD}))[ \u00a0]+(?P<name>{_NAME})"
    r"(?=[ \u00a0]*(?:$|[|,·•–—(]|\s(?:le|Publié|publié|Mis)\b))",
)
"""``Par NAME`` in a short meta line (capitalised words only, so ``Par ailleurs,`` never is)."""

_WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"

VISIBLE_DATE_LINE = re.compile(
    rf"(?:^|(?<=[\s|·•–—,]))"
    rf"(?:(?i:le)[ \u00a0]+(?:{_WEEKDAYS}[ \u00a0]+)?|(?i:{_WEEKDAYS})[ \u00a0,]+)"
    rf"(?P<date>{_DATE_IN_WORDS}|{_DATE_IN_DIGITS})",
)
"""``le 7 mai 2020``, ``jeudi 13 juin 2019``: a date in a short meta line, without "Publié"."""

VISIBLE_META_LINE_MAX = 140
"""Visible date and byline forms are looked for only in lines this short (meta lines)."""

VISIBLE_META_ONLY = re.compile(
    rf"^(?:{_PUBLISHED_WORD}{_SPACE}\s*(?:{_DATE_IN_WORDS}|{_DATE_IN_DIGITS})"
    rf"(?:\s+à\s+\d{{1,2}}\s*[h:]\s*\d{{2}})?[\s|·•–—,]*)?"
    rf"(?:(?:Par|par)[ \u00a0]+{_NAME})?"
    rf"(?:[\s|·•–—,]*(?:le\s+)?(?:{_DATE_IN_WORDS}|{_DATE_IN_DIGITS}))?[ .]*$",
)
"""A line holding nothing but a visible date and/or byline: meta, never body text."""

# --- furniture: what is never article text ------------------------------------------------------

DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "svg",
    "button", "select", "textarea", "input", "object", "embed", "canvas", "map", "dialog",
})
"""Elements whose text is never article text."""

SITE_CHROME_TAGS = frozenset({"header", "footer"})
"""Site header and footer: furniture unless they sit inside an ``article`` or ``main``."""

CONTENT_ANCESTORS = frozenset({"article", "main"})

COMMENT_MARKERS = (
    "comment", "comments", "commentlist", "respond", "disqus", "disqus-thread", "discussion",
)
"""Class or id words of comment sections (a reader's text never counts as the article's)."""

FURNITURE_MARKERS = (
    "share", "shares", "sharing", "sharethis", "sharedaddy", "sd-sharing", "social",
    "addtoany", "a2a", "jp-relatedposts", "related", "relatedposts", "related-posts", "yarpp",
    "crp-related", "widget", "widgets", "sidebar", "navigation", "nav-links", "navbar",
    "post-navigation", "breadcrumb", "breadcrumbs", "menu", "newsletter", "cookie", "cookies",
    "screen-reader-text", "site-header", "site-footer", "masthead", "colophon", "lire-aussi",
    "read-also", "advert", "advertisement", "adsbygoogle", "pagination", "skip-link",
    "wp-block-latest-posts", "tags-links", "post-tags", "entry-tags", "gallery", "slideshow",
    "carousel",
)
"""Class or id words of theme furniture: sharing, related posts, widgets, navigation. A word
matches when it is the marker or starts with the marker and a hyphen (``widget-area``,
``crp_related`` read as ``crp-related``); ``shareholders`` or ``socialism`` never do."""

PROTECTED_TAGS = frozenset({"html", "body", "main"})
"""Never removed by a class match (``body class="… comments-open"`` must not empty the page)."""

RELATED_HEADING = re.compile(
    r"^(?:[àa]\s+lire\s+aussi|lire\s+aussi|lisez\s+aussi|voir\s+aussi|sur\s+le\s+m[êe]me\s+sujet"
    r"|articles?\s+(?:similaires|li[ée]s|r[ée]cents|connexes)|dans\s+la\s+m[êe]me\s+(?:rubrique"
    r"|cat[ée]gorie)|vous\s+aimerez\s+aussi|[àa]\s+d[ée]couvrir\s+aussi|derniers\s+articles)\b",
    re.IGNORECASE,
)
"""Headings of "Lire aussi" / related-posts boxes, which sit inside the content on some themes."""

SHARE_LINE = re.compile(
    r"^(?:(?:partager|partagez|share)(?:\s+(?:cet\s+article|la\s+publication|ceci|this"
    r"|sur(?:\s+\w+)?))?|j[’']aime(?:\s+ça)?|imprimer|print)[\s\u00a0]*:?$",
    re.IGNORECASE,
)
"""Share-button labels that survive as text when the buttons' markup is unknown."""

# --- where things are ----------------------------------------------------------------------------

class ContainerRule(NamedTuple):
    """Elements that may hold the article text: by tag, by class word or by attribute."""

    name: str
    tags: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    attributes: tuple[tuple[str, str], ...] = ()


CONTAINER_RULES: tuple[ContainerRule, ...] = (
    ContainerRule("[itemprop=articleBody]", attributes=(("itemprop", "articleBody"),)),
    ContainerRule("div.entry-content", classes=frozenset({"entry-content"})),
    ContainerRule("div.post-content", classes=frozenset({"post-content", "td-post-content"})),
    ContainerRule("div.article-content", classes=frozenset({
        "article-content", "article-body", "single-content", "post-body",
        "amp-wp-article-content",
    })),
    ContainerRule("article", tags=frozenset({"article"})),
    ContainerRule("main", tags=frozenset({"main"}), attributes=(("role", "main"),)),
    ContainerRule("#content", attributes=(("id", "content"),)),
)
"""Where the article text lives, most specific first; a rule's best candidate wins when it holds
at least half the paragraph text of the page's densest block."""

SPECIFIC_CONTAINER_RULES = 4
"""The first rules above name the article's own text box: furniture removal never removes
an element holding the one they choose."""

_META_CLASSES = (
    "entry-header", "entry-meta", "post-meta", "entry-footer", "byline", "posted-on",
    "cat-links", "article-meta", "wp-caption-text", "caption", "credit", "dateline",
    "timestamp", "author", "date", "published",
)

BODY_EXCLUDED_XPATH = (
    ".//h1 | .//*[" + " or ".join(_class(name) for name in _META_CLASSES) + "]"
    " | .//figcaption | .//time"
)
"""Inside the container, the title and the meta lines: read for metadata, never body text."""

TITLE_XPATHS: tuple[tuple[str, str], ...] = (
    ("h1.entry-title", f"//h1[{_class('entry-title')} or {_class('wp-block-post-title')}]"),
)
FALLBACK_TITLE_XPATH = ("h1", "//h1")

ENTRY_AUTHOR_XPATHS: tuple[tuple[str, str], ...] = (
    ("span.author.vcard", f"//*[{_class('author')} and {_class('vcard')}]"),
    ("a[rel=author]", "//a[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]"),
    ("[itemprop=author]", "//*[@itemprop='author']"),
)
"""WordPress ``entry-meta`` author markup, most specific first."""

ENTRY_PUBLISHED_XPATHS: tuple[tuple[str, str], ...] = (
    ("time.entry-date.published", f"//time[{_class('published')}]"),
    ("time.entry-date", f"//time[{_class('entry-date')}]"),
    ("time.updated", f"//time[{_class('updated')}]"),
)
"""WordPress ``entry-meta`` dates: ``published`` over ``updated``."""

ENTRY_MODIFIED_XPATH = (
    "time.updated", f"//time[{_class('updated')} and not({_class('published')})]"
)
"""A ``time.updated`` that is not also ``published`` (classic themes print one element with
both classes, holding the publication date)."""

PUBLISHED_ITEMPROP_XPATH = ("[itemprop=datePublished]", "//*[@itemprop='datePublished']")
TIME_XPATH = ("time[datetime]", "//time[@datetime]")
DATE_ELEMENT_XPATH = (
    "span.date",
    f"//*[{_class('date')} or {_class('post-date')} or {_class('entry-date')}"
    f" or {_class('article-date')} or {_class('published')}]",
)
"""Elements that print the date in words or digits, without a machine-readable value."""

URL_DATE = re.compile(
    r"/(?P<year>(?:19|20)\d{2})([/-])(?P<month>[01]?\d)\2(?P<day>[0-3]?\d)(?:[/-]|$)"
)
"""The date in an article's address (``/2024/03/12/slug/``, ``/story/2024-03-12/slug``)."""

EARLIEST_YEAR = 1990
"""Dates before this are placeholders (``0001-01-01``), never a web article's publication."""

CATEGORY_XPATHS: tuple[tuple[str, str], ...] = (
    ("a[rel~=category]", "//a[contains(concat(' ', normalize-space(@rel), ' '), ' category ')]"),
    ("terms-block a[rel~=tag]",
     f"(//*[{_class('wp-block-post-terms')} and {_class('taxonomy-category')}]"
     f"[not(ancestor::*[{_class('wp-block-post-template')}])])[1]"
     "//a[contains(concat(' ', normalize-space(@rel), ' '), ' tag ')]"),
)
"""Category links: classic themes mark them ``rel="category tag"``; block themes mark them
``rel="tag"`` inside the post's own category terms block (not a query loop's)."""

ARTICLE_TYPES = frozenset({
    "Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "OpinionNewsArticle",
    "AnalysisNewsArticle", "BackgroundNewsArticle", "ReviewNewsArticle", "Report",
    "SocialMediaPosting", "LiveBlogPosting", "ScholarlyArticle", "TechArticle",
})
"""JSON-LD ``@type`` values that describe the page's article."""

BYLINE_PREFIX = re.compile(
    r"^(?:(?:par|by)\s*:?\s+|(?:auteur|author|[ée]crit\s+par)\s*:\s*)", re.IGNORECASE
)
"""A label some themes print inside the author element itself."""

# --- pages that are not articles ----------------------------------------------------------------

NOT_ARTICLE_BODY_CLASSES: dict[str, str] = {
    "error404": "une page 404",
    "search": "une page de résultats de recherche",
    "author": "une archive d'auteur",
    "category": "une archive de catégorie",
    "tag": "une archive d'étiquette",
    "date": "une archive par date",
    "archive": "une page d'archive",
    "home": "une page de liste",
    "blog": "une page de liste",
}
"""WordPress ``body_class()`` values of pages that are not single articles (checked in order)."""

NOT_POST_BODY_CLASSES: dict[str, str] = {
    "attachment": "une page de pièce jointe",
    "single-attachment": "une page de pièce jointe",
    "page": "une page WordPress, pas un article",
    "page-template-default": "une page WordPress, pas un article",
}
"""Body classes of single pages that are not posts: checked even when ``single`` is present
(attachment pages carry ``single``), never when ``single-post`` is."""

PASSWORD_FORM_XPATH = (
    f"//form[{_class('post-password-form')} or contains(@action, 'action=postpass')]"
)
"""WordPress's password form, printed instead of a protected post's text."""

PROTECTED_TITLE = re.compile(r"^(?:Protégé|Protected|Privé|Private)\s*:", re.IGNORECASE)
"""The title prefix WordPress gives protected (and private) posts: supporting evidence only."""

NOT_ARTICLE_QUERIES: dict[str, str] = {
    "replytocom": "une adresse de réponse à un commentaire",
    "feed": "un flux",
    "attachment_id": "une page de pièce jointe",
    "page_id": "une page WordPress, pas un article",
    "s": "une page de résultats de recherche",
    "cat": "une archive de catégorie",
    "tag": "une archive d'étiquette",
    "author": "une archive d'auteur",
    "m": "une archive par date",
}
"""Query parameters of WordPress's plain addresses (``/?cat=3``) that are never a single post."""

NOT_ARTICLE_QUERIES_ANYWHERE = frozenset({"replytocom", "feed"})
"""Those of them that mean the same after any path (``/2024/03/12/slug/?replytocom=7``)."""

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", ""})
"""Content types worth parsing (``text/plain``: servers that do not know better)."""

ARTICLE_BODY_CLASSES = frozenset({"single", "single-post"})
"""Body classes of a single post (``postid-N`` counts too)."""

NOT_ARTICLE_PATHS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/?$"), "la page d'accueil"),
    (re.compile(r"^/page/\d+/?$"), "une page de liste"),
    (re.compile(r"^/author/[^/]+/?(?:page/\d+/?)?$"), "une archive d'auteur"),
    (re.compile(r"^/(?:category|rubrique)/.+$"), "une archive de catégorie"),
    (re.compile(r"^/tag/.+$"), "une archive d'étiquette"),
    (re.compile(r"^/\d{4}/(?:\d{2}/(?:\d{2}/)?)?(?:page/\d+/?)?$"), "une archive par date"),
    (re.compile(r"(?:^|/)feed/?$"), "un flux"),
)
"""URL paths shaped like WordPress listings and archives."""

ARTICLE_PATH = re.compile(r"/\d{4}/\d{2}/\d{2}/[^/?#]+/?$")
"""A single article's permalink, ``/YYYY/MM/DD/slug/``."""

NOT_FOUND_TITLE = re.compile(
    r"\b(?:page\s+(?:non\s+trouv[ée]e|introuvable)|not\s+found|erreur\s+404|404)\b|^oups",
    re.IGNORECASE,
)
"""Titles of "page not found" pages."""

LISTING_MIN_ARTICLES = 3
"""This many separate ``article`` elements (or entry titles) make a page a listing."""

LISTING_TITLES_XPATH = f"count(//*[self::h2 or self::h3][{_class('entry-title')}])"
"""Entry titles below ``h1``: one per post on a listing page."""

MIN_BODY_WORDS = 8
"""Fewer words than this in the body: the page has no article text."""

FRENCH_STOP_WORDS = frozenset(
    "le la les de des du un une et est en dans pour que qui sur par au aux pas ce cette il elle "
    "ils nous vous ont sont été avec mais ou son sa ses leur leurs plus".split()
)
FRENCH_STOP_WORD_RATIO = 0.12
"""Share of stop words above which an unlabelled text is taken to be French."""
