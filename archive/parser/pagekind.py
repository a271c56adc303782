"""Tell single articles from the pages that are not: listings, archives, 404 and empty pages.

Each check raises ``NotAnArticle`` with one line saying what the page is and what to do.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from lxml import html

from archive.errors import NotAnArticle
from archive.french import count
from archive.parser import platform
from archive.parser.metadata import PageHead

_HINT = "donnez l'adresse d'un seul article (/AAAA/MM/JJ/titre/)"


def _reject(url: str, what: str, detail: str | None = None) -> NotAnArticle:
    reason = f"{what} ({detail})" if detail else what
    return NotAnArticle(f"pas un article : {url} est {reason} ; {_HINT}", url=url)


def check_url(url: str) -> None:
    """Raise NotAnArticle when URL is shaped like a listing, an archive or a feed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if parts.scheme not in ("http", "https"):
        return
    query = parse_qs(parts.query, keep_blank_values=True)
    at_root = parts.path in ("", "/", "/index.php")
    for name, what in platform.NOT_ARTICLE_QUERIES.items():
        if name in query and (at_root or name in platform.NOT_ARTICLE_QUERIES_ANYWHERE):
            raise _reject(url, what, f"d'après son adresse {parts.path}?{parts.query}")
    if _is_post_query(query):
        return
    for pattern, what in platform.NOT_ARTICLE_PATHS:
        if pattern.search(parts.path):
            raise _reject(url, what, f"d'après son adresse {parts.path!r}")


def _is_post_query(query: dict[str, list[str]]) -> bool:
    """Return whether QUERY names one post (WordPress's plain permalinks, ``/?p=123``)."""
    return any(value.isdigit() for value in query.get("p", ()))


def _single_body_class(head: PageHead) -> bool:
    classes = head.body_classes
    return bool(classes & platform.ARTICLE_BODY_CLASSES) or any(
        name.startswith("postid-") for name in classes
    )


def declares_single_article(head: PageHead) -> bool:
    """Return whether the page says it is one article (body class, JSON-LD or og:type)."""
    return (
        _single_body_class(head)
        or head.article_ld is not None
        or head.first_meta("og:type") == "article"
    )


def check_media_type(url: str, content_type: str | None) -> None:
    """Raise NotAnArticle when the server says the page is not HTML (an image, a PDF, a feed)."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in platform.HTML_MEDIA_TYPES:
        raise _reject(url, "autre chose qu'une page HTML", f"Content-Type {media_type}")


def check_document(url: str, text: str) -> None:
    """Raise NotAnArticle when the decoded TEXT is a feed rather than a page."""
    start = text[:512].lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<?xml"):
        start = start[start.find("?>") + 2:].lstrip() if "?>" in start else ""
    if start.startswith(("<rss", "<feed", "<rdf:rdf")):
        kind = start[1:].split(None, 1)[0].rstrip(">")
        raise _reject(url, "un flux", f"un document XML <{kind}>")


def check_protection(url: str, head: PageHead, root: html.HtmlElement) -> None:
    """Raise NotAnArticle when the page is a password-protected post (WordPress's password
    form or body class; a ``Protégé :`` title only backs that evidence up)."""
    forms = root.xpath(platform.PASSWORD_FORM_XPATH)
    if "post-password-required" not in head.body_classes and not forms:
        return
    evidence = ["classe body 'post-password-required'"] if (
        "post-password-required" in head.body_classes) else []
    if forms:
        evidence.append("un formulaire de mot de passe")
    for title in (head.entry_title, head.title_tag, head.first_meta("og:title")):
        if title and platform.PROTECTED_TITLE.match(title):
            evidence.append(f"titre {title!r}")
            break
    raise _reject(url, "un article protégé par un mot de passe", ", ".join(evidence))


def check_head(url: str, head: PageHead, root: html.HtmlElement) -> None:
    """Raise NotAnArticle when the page's own markers say it is an archive, a listing, a 404,
    an attachment page or a WordPress page (not a post)."""
    for name, what in platform.NOT_POST_BODY_CLASSES.items():
        if name in head.body_classes and "single-post" not in head.body_classes:
            raise _reject(url, what, f"classe body {name!r}")
    if not _single_body_class(head):
        for name, what in platform.NOT_ARTICLE_BODY_CLASSES.items():
            if name in head.body_classes:
                links = article_links(root)
                raise _reject(url, what, f"classe body {name!r}, {links} liens d'articles")
        for title in (head.title_tag, head.entry_title):
            if title and platform.NOT_FOUND_TITLE.search(title):
                raise _reject(url, "une page 404", f"titre {title!r}")


def article_links(root: html.HtmlElement) -> int:
    """Return how many distinct single-article addresses ROOT links to."""
    targets = {
        href.split("#")[0]
        for href in root.xpath("//a/@href")
        if platform.ARTICLE_PATH.search(href.split("#")[0].split("?")[0])
    }
    return len(targets)


def check_listing(url: str, head: PageHead, root: html.HtmlElement) -> None:
    """Raise NotAnArticle when ROOT (furniture removed) shows several articles side by side."""
    if declares_single_article(head):
        return
    articles = int(root.xpath("count(//article[not(ancestor::article)])"))
    entry_titles = int(root.xpath(platform.LISTING_TITLES_XPATH))
    if max(articles, entry_titles) >= platform.LISTING_MIN_ARTICLES:
        links = article_links(root)
        raise _reject(
            url, "une page de liste",
            f"{max(articles, entry_titles)} entrées d'articles, {links} liens d'articles",
        )


def check_text(url: str, title: str, paragraphs: list[str], root: html.HtmlElement) -> None:
    """Raise NotAnArticle when the page has no title or too little text to be an article."""
    words = sum(len(paragraph.split()) for paragraph in paragraphs)
    if words < platform.MIN_BODY_WORDS:
        links = article_links(root)
        detail = count(words, "mot") + " de texte" + (
            f", {count(links, 'lien')} d'articles" if links else "")
        raise _reject(url, "une page sans texte d'article", detail)
    if not title:
        raise _reject(url, "une page sans titre", count(words, "mot") + " de texte")
