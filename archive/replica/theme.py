"""HTML of the replica's WordPress-like theme: article pages in every markup variant, listings.

The markup of each variant is documented in ``archive/replica/README.md``. Every page carries
the theme furniture a parser must see past: header navigation, share buttons, a "Lire aussi"
box (inside the content for even post ids), the sidebar "Articles récents", comments (some
holding a fake byline line) and a footer linking pages that robots.txt forbids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from archive.authors import author_slug
from archive.replica.corpus import CATEGORIES, ReplicaArticle, category_slug

BOILERPLATE = (
    "La plateforme NOTRECONTINENT.COM permet à tous de diffuser gratuitement et librement les "
    "informations et opinions provenant des citoyens. Les particuliers, associations, ONG ou "
    "professionnels peuvent créer un compte et publier leurs articles"
)
SIGNUP_PATH = "/prive/inscription/"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


@dataclass(frozen=True)
class Link:
    """A link to an article: its title and absolute URL."""

    title: str
    url: str


@dataclass(frozen=True)
class ListingItem:
    """One article as shown in a listing page."""

    article: ReplicaArticle
    url: str


@dataclass(frozen=True)
class Site:
    """What every page of one edition shows around its content."""

    base_url: str
    edition: str
    recent: Sequence[Link] = ()
    redirect_loop: bool = False
    private_links: tuple[str, ...] = ("/prive/espace-membres/", "/prive/publier/")
    extra_head: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    editions: tuple[tuple[str, str], ...] = ()


def french_date(moment: datetime) -> str:
    """Return a date as French prose ("30 avril 2025")."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def iso(moment: datetime) -> str:
    """Return an aware datetime in ISO 8601 with its offset (``2025-04-30T09:15:00+00:00``)."""
    return moment.isoformat(timespec="seconds")


def _e(text: str) -> str:
    # Apostrophes stay literal, as WordPress prints them; double quotes are escaped for
    # attributes.
    return escape(text, quote=False).replace('"', "&quot;")


def _head(title: str, site: Site, extra: str = "", canonical: str | None = None) -> str:
    canonical_tags = ""
    if canonical:
        canonical_tags = (
            f'<link rel="canonical" href="{_e(canonical)}">\n'
            f'<meta property="og:url" content="{_e(canonical)}">\n')
    return (
        "<!DOCTYPE html>\n<html lang=\"fr-FR\">\n<head>\n<meta charset=\"UTF-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)} – Notre Continent</title>\n"
        f'<meta property="og:locale" content="fr_FR">\n'
        f'<meta property="og:site_name" content="Notre Continent">\n'
        f'<meta property="og:title" content="{_e(title)}">\n'
        f"{canonical_tags}{extra}"
        f'<link rel="alternate" type="application/rss+xml" title="Notre Continent » Flux" '
        f'href="{site.base_url}/feed/">\n'
        f'<link rel="https://api.w.org/" href="{site.base_url}/wp-json/">\n'
        '<link rel="stylesheet" href="/wp-content/themes/continent/style.css" media="all">\n'
        f"{site.extra_head}</head>\n"
    )


def _edition_selector(site: Site) -> str:
    if not site.editions:
        return ""
    links = "".join(
        f'<li><a href="{_e(url)}/" hreflang="fr-{code.upper()}">{code.upper()}</a></li>'
        for code, url in site.editions)
    return f'<nav class="edition-selector" aria-label="Éditions"><ul>{links}</ul></nav>\n'


def _header(site: Site) -> str:
    items = "".join(
        f'<li class="menu-item"><a href="{site.base_url}/category/{category_slug(name)}/">'
        f"{_e(name)}</a></li>" for name in CATEGORIES[:6])
    return (
        '<a class="skip-link screen-reader-text" href="#content">Aller au contenu</a>\n'
        '<header id="masthead" class="site-header">\n<div class="site-branding">'
        f'<p class="site-title"><a href="{site.base_url}/" rel="home">Notre Continent</a></p>'
        '<p class="site-description">Le journal citoyen du continent</p></div>\n'
        f"{_edition_selector(site)}"
        '<nav id="site-navigation" class="main-navigation" aria-label="Menu principal">'
        f'<ul id="primary-menu" class="menu"><li class="menu-item"><a href="{site.base_url}/">'
        f"Accueil</a></li>{items}"
        f'<li class="menu-item"><a href="{site.base_url}/prive/publier/">Publier un article</a>'
        "</li></ul></nav>\n"
        f'<form role="search" method="get" class="search-form" action="{site.base_url}/">'
        '<label><span class="screen-reader-text">Rechercher :</span>'
        '<input type="search" class="search-field" name="s" placeholder="Rechercher…"></label>'
        '<input type="submit" class="search-submit" value="Rechercher"></form>\n</header>\n'
    )


def _sidebar(site: Site) -> str:
    recent = "".join(f'<li><a href="{_e(link.url)}">{_e(link.title)}</a></li>'
                     for link in site.recent)
    categories = "".join(
        f'<li class="cat-item"><a href="{site.base_url}/category/{category_slug(name)}/">'
        f"{_e(name)}</a></li>" for name in CATEGORIES)
    return (
        '<aside id="secondary" class="widget-area">\n'
        '<section id="recent-posts-2" class="widget widget_recent_entries">'
        f'<h2 class="widget-title">Articles récents</h2><ul>{recent}</ul></section>\n'
        '<section id="categories-2" class="widget widget_categories">'
        f'<h2 class="widget-title">Catégories</h2><ul>{categories}</ul></section>\n'
        '<section id="text-3" class="widget widget_text"><div class="textwidget">'
        "<p>Vous aussi, devenez reporter citoyen : partagez vos informations.</p>"
        "</div></section>\n</aside>\n"
    )


def _footer(site: Site) -> str:
    private = " | ".join(
        f'<a href="{site.base_url}{path}">{"Espace membres" if "membres" in path else "Publier"}'
        "</a>" for path in site.private_links)
    loop = ""
    if site.redirect_loop:
        loop = f' | <a href="{site.base_url}/boucle/a/">Archives anciennes</a>'
    return (
        '<footer id="colophon" class="site-footer">\n<nav class="footer-navigation">'
        f'<a href="{site.base_url}/mentions-legales/">Mentions légales</a> | {private}{loop}'
        "</nav>\n"
        '<div class="site-info">© Notre Continent — Tous droits réservés. '
        "Propulsé par WordPress.</div>\n</footer>\n"
        '<script src="/wp-includes/js/wp-embed.min.js"></script>\n'
    )


def _page(title: str, body_class: str, main: str, site: Site, head_extra: str = "",
          canonical: str | None = None) -> str:
    return (
        _head(title, site, head_extra, canonical)
        + f'<body class="{body_class}">\n<div id="page" class="site">\n'
        + _header(site)
        + '<div id="content" class="site-content">\n'
        + f'<div id="primary" class="content-area"><main id="main" class="site-main">\n{main}'
        + "</main></div>\n"
        + _sidebar(site)
        + "</div>\n"
        + _footer(site)
        + "</div>\n</body>\n</html>\n"
    )


def entry_meta(article: ReplicaArticle, site: Site) -> str:
    """Return the WordPress ``div.entry-meta`` (date, update, account) of an article."""
    url = site.base_url + article.path
    return (
        '<div class="entry-meta"><span class="posted-on">Publié le '
        f'<a href="{_e(url)}" rel="bookmark"><time class="entry-date published" '
        f'datetime="{iso(article.published_at)}">{french_date(article.published_at)}</time>'
        f'<time class="updated" datetime="{iso(article.modified_at)}">'
        f"{french_date(article.modified_at)}</time></a></span>"
        '<span class="byline"> par <span class="author vcard"><a class="url fn n" '
        f'href="{site.base_url}/author/{author_slug(article.wp_author)}/">'
        f"{_e(article.wp_author)}</a></span></span></div>\n"
    )


def json_ld(article: ReplicaArticle, site: Site) -> str:
    """Return the JSON-LD ``NewsArticle`` script of an article (author: the WP account)."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": iso(article.published_at),
        "dateModified": iso(article.modified_at),
        "author": {"@type": "Person", "name": article.wp_author,
                   "url": f"{site.base_url}/author/{author_slug(article.wp_author)}/"},
        "publisher": {"@type": "Organization", "name": "Notre Continent"},
        "mainEntityOfPage": article.canonical_url,
        "inLanguage": "fr-FR",
        "articleSection": list(article.categories),
    }
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>\n'


def _boilerplate_paragraph() -> str:
    return f'<p>{_e(BOILERPLATE)} <a href="{SIGNUP_PATH}">Cliquez-ici</a>.</p>'


def _platform_lines(article: ReplicaArticle, style: str) -> str:
    name = _e(article.author)
    day = f"{article.published:%d/%m/%Y}"
    if style == "strong":
        return (f"<p><strong>Article écrit par\u00a0:</strong> {name}</p>\n"
                f"<p><strong>Mis en ligne :</strong> {day}</p>\n<p>—</p>\n"
                f"{_boilerplate_paragraph()}\n")
    if style == "br":
        return (f"<p>Article écrit par: {name}<br>\nMis en ligne : {day}<br>\n—<br>\n"
                f'{_e(BOILERPLATE)} <a href="{SIGNUP_PATH}">Cliquez-ici</a>.</p>\n')
    if style == "lines-only":
        return f"<p>Article écrit par : {name}</p>\n<p>Mis en ligne : {day}</p>\n"
    return (f"<p>Article écrit par : {name}</p>\n<p>Mis en ligne : {day}</p>\n<p>—</p>\n"
            f"{_boilerplate_paragraph()}\n")


def related_box(related: Sequence[Link]) -> str:
    """Return the "Lire aussi" box."""
    items = "".join(f'<li><a href="{_e(link.url)}">{_e(link.title)}</a></li>'
                    for link in related)
    return (f'<div class="lire-aussi"><p class="lire-aussi-titre"><strong>Lire aussi</strong>'
            f"</p><ul>{items}</ul></div>\n")


def content_html(article: ReplicaArticle, related: Sequence[Link] = ()) -> str:
    """Return the inside of ``div.entry-content`` (also the REST ``content.rendered``)."""
    variant = article.variant
    parts: list[str] = []
    if variant == "visible":
        parts.append(f'<p class="nc-date">Publié le {french_date(article.published_at)}</p>\n'
                     f'<p class="nc-auteur">Par {_e(article.author)}</p>\n')
    for number, paragraph in enumerate(article.paragraphs):
        parts.append(f"<p>{_e(paragraph)}</p>\n")
        if number == 1 and related and article.post_id % 2 == 0:
            parts.append(related_box(related))
    if variant in ("paragraphs", "account"):
        parts.append(_platform_lines(article, "paragraphs"))
    elif variant in ("strong", "br"):
        parts.append(_platform_lines(article, variant))
    elif variant == "boilerdiv":
        parts.append(_platform_lines(article, "lines-only"))
    else:
        parts.append(f"<p>—</p>\n{_boilerplate_paragraph()}\n")
    return "".join(parts)


def _share_buttons(article: ReplicaArticle) -> str:
    url = _e(article.canonical_url)
    return (
        '<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block '
        'sd-social"><h3 class="sd-title">Partager\u00a0:</h3><div class="sd-content"><ul>'
        f'<li class="share-facebook"><a href="https://www.facebook.com/sharer.php?u={url}" '
        'rel="nofollow noopener" target="_blank">Facebook</a></li>'
        f'<li class="share-twitter"><a href="https://twitter.com/intent/tweet?url={url}" '
        'rel="nofollow noopener" target="_blank">X</a></li>'
        f'<li class="share-jetpack-whatsapp"><a href="https://api.whatsapp.com/send?text={url}" '
        'rel="nofollow noopener" target="_blank">WhatsApp</a></li>'
        f'<li class="share-email"><a href="mailto:?body={url}" rel="nofollow">E-mail</a></li>'
        "</ul></div></div></div>\n"
    )


def _comments(article: ReplicaArticle) -> str:
    items = []
    for number, comment in enumerate(article.comments, start=1):
        lines = "".join(f"<p>{_e(line)}</p>" for line in comment.text.split("\n"))
        items.append(
            f'<li id="comment-{article.post_id * 10 + number}" class="comment even depth-1">'
            '<article class="comment-body"><footer class="comment-meta">'
            f'<div class="comment-author vcard"><b class="fn">{_e(comment.author)}</b> '
            '<span class="says">dit\u00a0:</span></div><div class="comment-metadata">'
            f'<time datetime="{iso(comment.posted_at)}">{french_date(comment.posted_at)} à '
            f"{comment.posted_at:%H:%M}</time></div></footer>"
            f'<div class="comment-content">{lines}</div></article></li>\n')
    count = len(article.comments)
    title = (f'<h2 class="comments-title">{count} réponse{"s" if count > 1 else ""} à '
             f"«\u00a0{_e(article.title)}\u00a0»</h2>\n") if count else ""
    return (
        f'<div id="comments" class="comments-area">\n{title}'
        f'<ol class="comment-list">\n{"".join(items)}</ol>\n'
        '<div id="respond" class="comment-respond"><h3 id="reply-title" '
        'class="comment-reply-title">Laisser un commentaire</h3>'
        '<form action="/wp-comments-post.php" method="post" id="commentform" '
        'class="comment-form"><p class="comment-form-comment"><label for="comment">'
        'Commentaire</label><textarea id="comment" name="comment"></textarea></p>'
        '<p class="form-submit"><input name="submit" type="submit" value="Publier"></p>'
        "</form></div>\n</div>\n"
    )


def _head_extra(article: ReplicaArticle, site: Site) -> str:
    extra = '<meta property="og:type" content="article">\n'
    if article.variant in ("paragraphs", "jsonld", "account"):
        extra += json_ld(article, site)
    if article.variant in ("meta", "account"):
        extra += (f'<meta name="author" content="{_e(article.wp_author)}">\n'
                  '<meta property="article:published_time" '
                  f'content="{iso(article.published_at)}">\n'
                  '<meta property="article:modified_time" '
                  f'content="{iso(article.modified_at)}">\n')
    return extra


def article_page(article: ReplicaArticle, site: Site, related: Sequence[Link] = (),
                 previous: Link | None = None, following: Link | None = None) -> str:
    """Return the full HTML page of an article in its markup variant."""
    variant = article.variant
    show_entry_meta = variant in ("paragraphs", "strong", "entrymeta", "account", "boilerdiv")
    category_classes = " ".join(f"category-{category_slug(c)}" for c in article.categories)
    category_links = ", ".join(
        f'<a href="{site.base_url}/category/{category_slug(c)}/" rel="category tag">{_e(c)}</a>'
        for c in article.categories)
    after_content = ""
    if variant == "boilerdiv":
        after_content = f'<div class="nc-plateforme"><p>—</p>{_boilerplate_paragraph()}</div>\n'
    if related and article.post_id % 2 == 1:
        after_content += related_box(related)
    navigation = ""
    if previous or following:
        links = ""
        if previous:
            links += (f'<div class="nav-previous"><a href="{_e(previous.url)}" rel="prev">'
                      f"{_e(previous.title)}</a></div>")
        if following:
            links += (f'<div class="nav-next"><a href="{_e(following.url)}" rel="next">'
                      f"{_e(following.title)}</a></div>")
        navigation = (f'<nav class="navigation post-navigation" aria-label="Publications">'
                      f'<div class="nav-links">{links}</div></nav>\n')
    main = (
        f'<article id="post-{article.post_id}" class="post-{article.post_id} post type-post '
        f'status-publish format-standard hentry {category_classes}">\n'
        f'<header class="entry-header">\n<h1 class="entry-title">{_e(article.title)}</h1>\n'
        f"{entry_meta(article, site) if show_entry_meta else ''}</header>\n"
        f'<div class="entry-content">\n{content_html(article, related)}</div>\n'
        f"{after_content}{_share_buttons(article)}"
        f'<footer class="entry-footer"><span class="cat-links">Publié dans {category_links}'
        "</span></footer>\n</article>\n"
        f"{navigation}{_comments(article)}"
    )
    body_class = (f"post-template-default single single-post postid-{article.post_id} "
                  "single-format-standard")
    return _page(article.title, body_class, main, site, _head_extra(article, site),
                 canonical=article.canonical_url)


def excerpt(article: ReplicaArticle, words: int = 35) -> str:
    """Return the listing excerpt of an article (its first words and an ellipsis)."""
    tokens = article.paragraphs[0].split(" ")
    return " ".join(tokens[:words]) + (" […]" if len(tokens) > words else "")


def listing_page(heading: str, items: Sequence[ListingItem], site: Site, page: int,
                 pages: int, base_path: str, body_class: str = "blog") -> str:
    """Return a listing page (home, archive, author, category) with its pagination."""
    entries = []
    for item in items:
        article = item.article
        entries.append(
            f'<article id="post-{article.post_id}" class="post-{article.post_id} post '
            'type-post status-publish hentry">\n<header class="entry-header">'
            f'<h2 class="entry-title"><a href="{_e(item.url)}" rel="bookmark">'
            f"{_e(article.title)}</a></h2>\n{entry_meta(article, site)}</header>\n"
            f'<div class="entry-summary"><p>{_e(excerpt(article))}</p></div>\n'
            f'<a class="more-link" href="{_e(item.url)}">Lire la suite</a>\n</article>\n')
    numbers = []
    for number in range(max(1, page - 2), min(pages, page + 2) + 1):
        href = site.base_url + (base_path if number == 1 else f"{base_path}page/{number}/")
        if number == page:
            numbers.append(f'<span aria-current="page" class="page-numbers current">{number}'
                           "</span>")
        else:
            numbers.append(f'<a class="page-numbers" href="{href}">{number}</a>')
    if page > 1:
        href = site.base_url + (base_path if page == 2 else f"{base_path}page/{page - 1}/")
        numbers.insert(0, f'<a class="prev page-numbers" href="{href}">« Précédent</a>')
    if page < pages:
        numbers.append(f'<a class="next page-numbers" href="{site.base_url}{base_path}page/'
                       f'{page + 1}/">Suivant »</a>')
    pagination = ('<nav class="navigation pagination" aria-label="Publications">'
                  f'<div class="nav-links">{"".join(numbers)}</div></nav>\n')
    empty = "" if items else "<p>Aucun article ne correspond.</p>\n"
    main = (f'<header class="page-header"><h1 class="page-title">{_e(heading)}</h1></header>\n'
            f'{"".join(entries)}{empty}{pagination}')
    suffix = f" – Page {page}" if page > 1 else ""
    return _page(heading + suffix, body_class, main, site)


def simple_page(title: str, text: str, site: Site, body_class: str = "page") -> str:
    """Return a plain WordPress page (legal notice, members' area, not found)."""
    main = (f'<article class="page type-page"><header class="entry-header">'
            f'<h1 class="entry-title">{_e(title)}</h1></header>'
            f'<div class="entry-content"><p>{_e(text)}</p></div></article>\n')
    return _page(title, body_class, main, site)
