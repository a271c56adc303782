"""Specification of the parser's rules: platform lines, fallback order, cleaning, decoding,
and what is not an article."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import NotAnArticle
from archive.models import Article
from archive.parser import parse_page
from archive.parser.decode import decode_html

URL = "https://sn.notrecontinent.com/2024/03/12/un-article/"
TEXT = (
    "<p>Les habitants du quartier ont manifesté samedi contre les coupures d’eau répétées, "
    "qui durent depuis plus de trois semaines.</p>\n"
    "<p>La société nationale promet un retour à la normale avant la fin du mois.</p>\n"
)
BOILERPLATE = (
    "La plateforme NOTRECONTINENT.COM permet à tous de diffuser gratuitement et librement les "
    "informations et opinions provenant des citoyens. Les particuliers, associations, ONG ou "
    "professionnels peuvent créer un compte et publier leurs articles "
    '<a href="/inscription/">Cliquez-ici</a>.'
)
PLATFORM_LINES = (
    "<p>Article écrit par : Awa Ndiaye</p>\n<p>Mis en ligne : 12/03/2024</p>\n<p>—</p>\n"
    f"<p>{BOILERPLATE}</p>\n"
)


def page(
    content: str = TEXT + PLATFORM_LINES,
    *,
    head: str = "",
    before: str = "",
    after: str = "",
    body_class: str = "post-template-default single single-post postid-7",
    lang: str = ' lang="fr-FR"',
    title: str = "<title>Coupures d’eau à Pikine – Notre Continent</title>",
) -> bytes:
    """Return an article page of a plain WordPress theme holding CONTENT."""
    return (
        f'<!DOCTYPE html><html{lang}><head><meta charset="utf-8">{title}{head}</head>'
        f'<body class="{body_class}"><header class="site-header"><nav><a href="/">Accueil</a>'
        f'</nav></header><main id="main"><article class="post">{before}'
        f'<div class="entry-content">{content}</div>{after}</article></main>'
        '<aside id="secondary"><h2>Articles récents</h2><ul><li><a href="/2024/03/11/x/">'
        "Un autre article</a></li></ul></aside><footer class=\"site-footer\">© Notre Continent"
        "</footer></body></html>"
    ).encode()


def parse(body: bytes, url: str = URL, content_type: str | None = None) -> Article:
    return parse_page(body, url, content_type)


# --- platform conventions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "byline",
    [
        "<p>Article écrit par : Awa Ndiaye</p>",
        "<p>Article écrit par\u00a0: Awa Ndiaye</p>",
        "<p>Article écrit par\u202f:\u00a0Awa Ndiaye</p>",
        "<p>Article écrit par: Awa Ndiaye</p>",
        "<p>Article écrit par :Awa Ndiaye</p>",
        "<p>Article écrit par&nbsp;:&nbsp;Awa Ndiaye</p>",
        "<p><strong>Article écrit par :</strong> Awa Ndiaye</p>",
        "<p><strong>Article écrit par : Awa Ndiaye</strong></p>",
        "<div>Dernière phrase.<br>Article écrit par : Awa Ndiaye<br>Mis en ligne : 1/3/2024</div>",
    ],
)
def test_byline_is_read_whatever_the_colon_spacing_and_markup(byline: str) -> None:
    article = parse(page(TEXT + byline + "<p>Mis en ligne : 12/03/2024</p>"))
    assert article.author == "Awa Ndiaye"
    assert article.sources["author"] == "platform-byline"
    assert "Article écrit par" not in article.body
    assert "Mis en ligne" not in article.body


def test_text_before_a_byline_between_br_stays_in_the_body() -> None:
    content = (
        TEXT + "<p>Dernière phrase de l’article.<br>Article écrit par : Awa Ndiaye<br>"
        f"Mis en ligne : 12/03/2024<br>—<br>{BOILERPLATE}</p>"
    )
    article = parse(page(content))
    assert article.body.endswith("avant la fin du mois.\n\nDernière phrase de l’article.")
    assert article.author == "Awa Ndiaye"
    assert article.published == date(2024, 3, 12)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("03/04/2024", date(2024, 4, 3)),
        ("12/01/2024", date(2024, 1, 12)),
        ("1/2/2023", date(2023, 2, 1)),
        ("31/12/2019", date(2019, 12, 31)),
    ],
)
def test_platform_date_is_day_first(line: str, expected: date) -> None:
    article = parse(page(TEXT + f"<p>Article écrit par : A B</p><p>Mis en ligne : {line}</p>"))
    assert article.published == expected
    assert article.sources["published"] == "platform-date"


def test_platform_words_in_the_middle_of_a_sentence_are_article_text() -> None:
    sentence = "<p>Le registre a été mis en ligne : 12/03/2024 marque son ouverture au public.</p>"
    article = parse(page(TEXT + sentence), url="https://sn.notrecontinent.com/?p=42")
    assert article.body.endswith(sentence[3:-4])
    assert article.published is None


def test_byline_and_date_on_one_line_are_both_read() -> None:
    line = "<p>Article écrit par : Awa Ndiaye Mis en ligne : 05/06/2024</p>"
    article = parse(page(TEXT + line))
    assert (article.author, article.published) == ("Awa Ndiaye", date(2024, 6, 5))
    assert article.body.endswith("avant la fin du mois.")


def test_an_impossible_platform_date_falls_through_to_the_next_rule() -> None:
    head = '<meta property="article:published_time" content="2024-02-28T10:00:00+00:00">'
    article = parse(page(TEXT + "<p>Mis en ligne : 31/02/2024</p>", head=head))
    assert article.published == date(2024, 2, 28)
    assert article.sources["published"] == "meta:article:published_time"


@pytest.mark.parametrize(
    "closing",
    [
        f"<p>—</p><p>{BOILERPLATE}</p>",
        f"<div class='nc'><div>—</div><div><span>{BOILERPLATE}</span></div></div>",
        f"<p>—<br>{BOILERPLATE}</p>",
        f"<p>{BOILERPLATE}</p>",
    ],
)
def test_boilerplate_and_its_dash_line_are_removed_wherever_they_sit(closing: str) -> None:
    article = parse(page(TEXT + closing))
    assert article.body.endswith("avant la fin du mois.")
    assert "NOTRECONTINENT" not in article.body
    assert "—" not in article.body


def test_boilerplate_before_the_text_does_not_cut_the_article() -> None:
    article = parse(page(f"<p>{BOILERPLATE}</p>" + TEXT))
    assert article.body.startswith("Les habitants du quartier")
    assert article.body.endswith("avant la fin du mois.")


def test_platform_lines_at_the_top_do_not_cut_the_text_after_them() -> None:
    content = "<p>Article écrit par : Awa Ndiaye<br>Mis en ligne : 12/03/2024</p>" + TEXT
    article = parse(page(content))
    assert article.author == "Awa Ndiaye"
    assert article.body.startswith("Les habitants du quartier")
    assert article.body.endswith("avant la fin du mois.")


# --- fallbacks, in order, with their recorded source -------------------------------------------

JSON_LD = (
    '<script type="application/ld+json">'
    + json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": "Titre JSON-LD",
        "datePublished": "2024-03-10T23:30:00+00:00", "dateModified": "2024-03-15T08:00:00+00:00",
        "author": {"@type": "Person", "name": "Auteur JSON-LD"}, "articleSection": ["Ld"],
    })
    + "</script>"
)
META = (
    '<meta name="author" content="Auteur Meta">'
    '<meta property="article:published_time" content="2024-03-09T10:00:00+01:00">'
    '<meta property="article:modified_time" content="2024-03-16T09:00:00+01:00">'
    '<meta property="article:section" content="Meta">'
)
ENTRY_META = (
    '<h1 class="entry-title">Titre entry-title</h1><div class="entry-meta">'
    '<time class="updated" datetime="2024-03-17T09:00:00+00:00">17 mars</time>'
    '<time class="entry-date published" datetime="2024-03-08T09:00:00+00:00">8 mars</time>'
    ' par <span class="author vcard"><a class="url fn n" href="/author/e/">Auteur Entry</a>'
    '</span> <a href="/category/e/" rel="category tag">Entry</a></div>'
)
VISIBLE = "<p>Publié le 7 mars 2024</p><p>Par Auteur Visible</p>"
BYLINE = "<p>Article écrit par : Auteur Plateforme</p><p>Mis en ligne : 12/03/2024</p>"


@pytest.mark.parametrize(
    ("sources", "author", "published", "author_rule", "published_rule"),
    [
        ({"byline", "jsonld", "meta", "entry", "visible"}, "Auteur Plateforme", date(2024, 3, 12),
         "platform-byline", "platform-date"),
        ({"jsonld", "meta", "entry", "visible"}, "Auteur JSON-LD", date(2024, 3, 10),
         "json-ld:author", "json-ld:datePublished"),
        ({"meta", "entry", "visible"}, "Auteur Meta", date(2024, 3, 9),
         "meta:author", "meta:article:published_time"),
        ({"entry", "visible"}, "Auteur Entry", date(2024, 3, 8),
         "entry-meta:span.author.vcard", "entry-meta:time.entry-date.published"),
        ({"visible"}, "Auteur Visible", date(2024, 3, 7), "visible:Par", "visible:Publié le"),
    ],
)
def test_author_and_date_follow_the_written_down_fallback_order(
    sources: set[str], author: str, published: date, author_rule: str, published_rule: str
) -> None:
    head = (JSON_LD if "jsonld" in sources else "") + (META if "meta" in sources else "")
    before = ENTRY_META if "entry" in sources else ""
    content = (VISIBLE if "visible" in sources else "") + TEXT
    content += BYLINE if "byline" in sources else ""
    article = parse(page(content, head=head, before=before))
    assert (article.author, article.published) == (author, published)
    assert article.sources["author"] == author_rule
    assert article.sources["published"] == published_rule
    assert "Publié le" not in article.body and "Par Auteur" not in article.body


def test_json_ld_date_is_the_date_as_written_in_its_own_time_zone() -> None:
    article = parse(page(TEXT, head=JSON_LD))
    assert article.published == date(2024, 3, 10)
    assert article.modified == datetime(2024, 3, 15, 8, 0, tzinfo=UTC)


def test_json_ld_author_given_by_reference_in_a_graph_is_resolved() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Article", "headline": "T", "author": {"@id": "#p1"},
         "datePublished": "2023-05-06T07:00:00-01:00"},
        {"@type": "Person", "@id": "#p1", "name": "Mariama Bâ"},
    ]}
    head = f'<script type="application/ld+json">{json.dumps(graph)}</script>'
    article = parse(page(TEXT, head=head))
    assert article.author == "Mariama Bâ"
    assert article.published == date(2023, 5, 6)


def test_broken_json_ld_is_ignored() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "author": </script>'
    head += '<script type="application/ld+json">' + "[" * 5000 + "</script>"
    assert parse(page(TEXT + BYLINE, head=head)).author == "Auteur Plateforme"


def test_title_follows_its_fallback_order() -> None:
    og = '<meta property="og:title" content="Titre OG – Notre Continent">'
    assert parse(page(before=ENTRY_META, head=og + JSON_LD)).title == "Titre entry-title"
    found = parse(page(head=og + JSON_LD))
    assert (found.title, found.sources["title"]) == ("Titre OG", "og:title")
    found = parse(page(head=JSON_LD))
    assert (found.title, found.sources["title"]) == ("Titre JSON-LD", "json-ld:headline")
    found = parse(page())
    assert (found.title, found.sources["title"]) == ("Coupures d’eau à Pikine", "title")


def test_modified_and_categories_follow_their_fallback_order() -> None:
    both = parse(page(head=META + JSON_LD, before=ENTRY_META))
    assert both.modified == datetime(2024, 3, 16, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert both.categories == ("Entry",)
    ld_only = parse(page(head=JSON_LD))
    assert ld_only.categories == ("Ld",)
    assert ld_only.sources["modified"] == "json-ld:dateModified"
    entry_only = parse(page(before=ENTRY_META))
    assert entry_only.modified == datetime(2024, 3, 17, 9, 0, tzinfo=UTC)
    assert entry_only.sources["categories"] == "a[rel~=category]"


@pytest.mark.parametrize(
    ("url", "head", "edition", "rule"),
    [
        ("https://ci.notrecontinent.com/2024/03/12/a/", "", "ci", "url-host"),
        ("http://127.0.0.1:8001/2024/03/12/a/",
         '<link rel="canonical" href="https://cm.notrecontinent.com/2024/03/12/a/">', "cm",
         "canonical"),
        ("file:///tmp/a.html",
         '<meta property="og:url" content="https://sn.notrecontinent.com/2024/03/12/a/">', "sn",
         "og:url"),
        ("https://www.notrecontinent.com/2024/03/12/a/", "", None, None),
    ],
)
def test_edition_comes_from_the_host_then_canonical_then_og_url(
    url: str, head: str, edition: str | None, rule: str | None
) -> None:
    article = parse(page(head=head), url=url)
    assert article.edition == edition
    assert article.sources.get("edition") == rule


def test_language_from_html_lang_then_french_stop_words_else_none() -> None:
    assert parse(page()).language == "fr"
    found = parse(page(lang=""))
    assert (found.language, found.sources["language"]) == ("fr", "stop-words")
    english = "<p>The residents of the district protested on Saturday against the water cuts, " \
        "which have lasted for more than three weeks now, the company said.</p>"
    assert parse(page(english, lang="")).language is None


# --- the body: furniture out, white space as specified -----------------------------------------


def test_reader_comment_with_a_fake_byline_never_wins() -> None:
    fake = (
        '<div id="comments" class="comments-area"><ol class="comment-list"><li class="comment">'
        "<p>Article écrit par : Un Lecteur Malin</p><p>Mis en ligne : 01/01/2001</p>"
        "<p>Publié le 1 janvier 2001 par Un Lecteur</p></li></ol></div>"
    )
    with_byline = parse(page(after=fake))
    assert with_byline.author == "Awa Ndiaye"
    without_any = parse(page(TEXT, after=fake), url="https://sn.notrecontinent.com/?p=42")
    assert without_any.author is None and without_any.published is None
    with_meta = parse(page(TEXT, after=fake, head=META))
    assert with_meta.author == "Auteur Meta"
    for article in (with_byline, without_any, with_meta):
        assert "Lecteur" not in article.body


def test_sidebar_share_related_and_lire_aussi_are_not_body_text() -> None:
    content = (
        TEXT.replace("</p>\n<p>", "</p><p><strong>À lire aussi :</strong> "
                     '<a href="/2024/01/01/a/">Un article lié</a></p><p>', 1)
        + '<div class="box"><h3>Lire aussi</h3><ul><li><a href="/2024/01/02/b/">Autre lien</a>'
        "</li></ul></div>"
        '<div class="sharedaddy"><h3>Partager :</h3><a href="#">Facebook</a></div>'
        '<div class="jp-relatedposts"><h3>Similaire</h3><a href="#">Encore un</a></div>'
        + BYLINE
    )
    article = parse(page(content))
    for phrase in ("Lire aussi", "lire aussi", "Un article lié", "Autre lien", "Partager",
                   "Facebook", "Similaire", "Articles récents", "Accueil", "© Notre"):
        assert phrase not in article.body
    assert article.body.count("\n\n") == 1


def test_no_break_spaces_are_kept_and_ascii_white_space_collapsed() -> None:
    content = (
        "<p>  Il a dit\u00a0: «\u00a0Non\u00a0!\u00a0»   et\n\t  puis\u202frien. </p>"
        "<p>Second   paragraphe,\r\n  bien   long   pour   compter.</p>" + BYLINE
    )
    article = parse(page(content))
    assert article.body == (
        "Il a dit\u00a0: «\u00a0Non\u00a0!\u00a0» et puis\u202frien.\n\n"
        "Second paragraphe, bien long pour compter."
    )


# --- decoding -----------------------------------------------------------------------------------

ACCENTED = "<html><head>{meta}</head><body><p>Élève à l’école, déjà célèbre</p></body></html>"


def test_http_charset_wins_over_meta_charset() -> None:
    body = ACCENTED.format(meta='<meta charset="utf-8">').encode("cp1252")
    text, encoding = decode_html(body, "text/html; charset=windows-1252")
    assert (encoding, "Élève à l’école" in text) == ("windows-1252", True)


def test_byte_order_mark_wins_over_meta_charset() -> None:
    body = b"\xef\xbb\xbf" + ACCENTED.format(meta='<meta charset="windows-1252">').encode()
    text, encoding = decode_html(body, "text/html")
    assert encoding == "utf-8" and "Élève à l’école" in text and not text.startswith("\ufeff")


def test_meta_charset_wins_over_detection() -> None:
    # In ISO-8859-15, byte A4 is "€"; detection would have said windows-1252 and read "¤".
    page_text = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
                 'charset=ISO-8859-15"></head><body><p>Œuvre à 5 € pièce</p></body></html>')
    text, encoding = decode_html(page_text.encode("iso8859-15"), None)
    assert encoding == "iso8859-15" and "Œuvre à 5 € pièce" in text


def test_undeclared_windows_1252_is_detected() -> None:
    body = ACCENTED.format(meta="").encode("cp1252")
    text, encoding = decode_html(body, None)
    assert (encoding, "Élève à l’école, déjà célèbre" in text) == ("windows-1252", True)


def test_header_claiming_utf8_for_windows_1252_bytes_falls_through() -> None:
    body = ACCENTED.format(meta='<meta charset="utf-8">').encode("cp1252")
    text, encoding = decode_html(body, "text/html; charset=UTF-8")
    assert (encoding, "Élève à l’école" in text) == ("windows-1252", True)


def test_header_claiming_latin1_for_utf8_bytes_falls_through() -> None:
    body = ACCENTED.format(meta="").encode("utf-8")
    text, encoding = decode_html(body, "text/html; charset=iso-8859-1")
    assert (encoding, "Élève à l’école" in text) == ("utf-8", True)


def test_windows_1252_page_parses_with_its_accents() -> None:
    body = page().decode().replace('charset="utf-8"', 'charset="windows-1252"').encode("cp1252")
    article = parse(body)
    assert article.author == "Awa Ndiaye"
    assert "coupures d’eau répétées" in article.body


# --- what is not an article ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://sn.notrecontinent.com/",
        "https://sn.notrecontinent.com/page/3/",
        "https://sn.notrecontinent.com/author/awa-ndiaye/",
        "https://sn.notrecontinent.com/author/awa-ndiaye/page/2/",
        "https://sn.notrecontinent.com/category/societe/",
        "https://sn.notrecontinent.com/2024/",
        "https://sn.notrecontinent.com/2024/03/",
        "https://sn.notrecontinent.com/2024/03/12/",
        "https://sn.notrecontinent.com/feed/",
    ],
)
def test_archive_shaped_addresses_are_not_articles(url: str) -> None:
    with pytest.raises(NotAnArticle) as caught:
        parse(page(), url=url)
    assert caught.value.message.startswith(f"pas un article : {url} est ")
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("body_class", "what"),
    [("home blog", "une page de liste"), ("archive author author-awa", "une archive d'auteur"),
     ("archive category category-societe", "une archive de catégorie"),
     ("archive date", "une archive par date"), ("error404", "une page 404")],
)
def test_wordpress_body_classes_of_archives_are_not_articles(body_class: str, what: str) -> None:
    with pytest.raises(NotAnArticle, match=what):
        parse(page(body_class=body_class), url="file:///tmp/page.html")


def test_a_not_found_title_is_not_an_article() -> None:
    body = page(title="<title>Page non trouvée – Notre Continent</title>", body_class="")
    with pytest.raises(NotAnArticle, match="une page 404"):
        parse(body)


def test_many_article_elements_make_a_listing_with_its_link_count() -> None:
    cards = "".join(
        f'<article><h2><a href="/2024/03/{day:02d}/a{day}/">Titre {day}</a></h2>{TEXT}</article>'
        for day in range(1, 6)
    )
    body = f"<html><body><main>{cards}</main></body></html>".encode()
    with pytest.raises(NotAnArticle,
                       match=r"une page de liste \(5 entrées d'articles, 5 liens d'articles"):
        parse(body, url="file:///tmp/x.html")


def test_a_page_served_as_an_image_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle, match="autre chose qu'une page HTML"):
        parse(page(), content_type="image/jpeg")


def test_short_paragraphs_that_merely_start_like_share_labels_stay() -> None:
    content = "<p>Partager les richesses du sol, voilà le défi.</p><p>Partager :</p>" + TEXT
    article = parse(page(content))
    assert article.body.startswith("Partager les richesses du sol, voilà le défi.\n\nLes")


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", b"\x00\x01\x02", b"<html><body></body></html>",
     b"<html><body><nav>Accueil</nav><p>Trop court.</p></body></html>"],
)
def test_empty_pages_are_not_articles(body: bytes) -> None:
    with pytest.raises(NotAnArticle) as caught:
        parse(body)
    assert "\n" not in caught.value.message


# --- robustness ---------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from([
    "<p>", "</p>", "<div class='entry-content'>", "</div>", "<article>", "<br>",
    "Article écrit par : ", "Mis en ligne : 31/02/2024", "Mis en ligne : 01/01/2020", "—",
    BOILERPLATE, "<script>", "</script>", '<script type="application/ld+json">{"@type":',
    "<!--", "-->", "<meta charset='utf-16'>", "<html lang='fr'>", "<body class='home'>",
    "Publié le 31 février 2024", "Par Jean", "\x00", "\ufeff", "&nbsp;", "&#0;", "<h1>",
    "<![CDATA[", "<?xml version='1.0' encoding='utf-8'?>", "texte ordinaire et long " * 3,
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.sampled_from([None, "text/html; charset=utf-8",
                                                  "text/html; charset=bogus", "text/html"]))
def test_any_bytes_give_an_article_or_not_an_article(body: bytes, content_type: str | None) -> None:
    try:
        article = parse(body, content_type=content_type)
    except NotAnArticle as exc:
        assert "\n" not in exc.message
    else:
        assert isinstance(article.body, str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, max_size=40), st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_any_broken_markup_gives_an_article_or_not_an_article(
    fragments: list[str], encoding: str
) -> None:
    body = "".join(fragments).encode(encoding, "replace")
    try:
        article = parse(body, url="http://127.0.0.1:8001/2024/03/12/a/")
    except NotAnArticle as exc:
        assert "\n" not in exc.message
    else:
        assert "NOTRECONTINENT.COM" not in article.body


# --- what is not a public article (issue 9) -----------------------------------------------------

PASSWORD_FORM = (
    '<form action="https://sn.notrecontinent.com/wp-login.php?action=postpass"'
    ' class="post-password-form" method="post"><p>Ce contenu est protégé par un mot de passe.'
    ' Pour le voir, veuillez saisir votre mot de passe ci-dessous :</p>'
    '<p><input name="post_password" type="password"></p></form>'
)


def test_password_protected_post_is_not_an_article_and_says_why() -> None:
    body = page(
        "<p>Posted in Société by redac-sn, un texte que le thème imprime autour du formulaire"
        " et qui suffirait à passer pour un article.</p>" + PASSWORD_FORM,
        title="<title>Protégé&nbsp;: Le rapport – Notre Continent</title>",
        body_class="post-template-default single single-post postid-9 post-password-required",
    )
    with pytest.raises(NotAnArticle) as caught:
        parse(body)
    message = caught.value.message
    assert "un article protégé par un mot de passe" in message and "\n" not in message
    assert "post-password-required" in message and "un formulaire de mot de passe" in message
    assert "Protégé" in message


def test_the_password_form_alone_marks_a_protected_post() -> None:
    with pytest.raises(NotAnArticle, match=r"un article protégé par un mot de passe "
                                           r"\(un formulaire de mot de passe\)"):
        parse(page(TEXT + PASSWORD_FORM))


def test_a_protected_title_alone_is_only_supporting_evidence() -> None:
    article = parse(page(title="<title>Protégé : un mot qui commence un titre</title>"))
    assert article.author == "Awa Ndiaye"


@pytest.mark.parametrize(
    ("body_class", "what"),
    [("page-template-default page page-id-2", "une page WordPress, pas un article"),
     ("attachment attachment-template-default single single-attachment postid-5 attachmentid-5",
      "une page de pièce jointe")],
)
def test_wordpress_pages_and_attachment_pages_are_not_articles(body_class: str, what: str) -> None:
    with pytest.raises(NotAnArticle, match=what):
        parse(page(body_class=body_class))


@pytest.mark.parametrize(
    ("url", "what"),
    [(URL + "?replytocom=12", "une adresse de réponse à un commentaire"),
     (URL + "?feed=rss2", "un flux"),
     ("https://sn.notrecontinent.com/?page_id=2", "une page WordPress, pas un article"),
     ("https://sn.notrecontinent.com/?attachment_id=5", "une page de pièce jointe"),
     ("https://sn.notrecontinent.com/?cat=3", "une archive de catégorie")],
)
def test_wordpress_query_addresses_that_are_not_posts(url: str, what: str) -> None:
    with pytest.raises(NotAnArticle, match=what):
        parse(page(), url=url)


def test_a_plain_permalink_is_a_post_not_the_home_page() -> None:
    article = parse(page(), url="https://sn.notrecontinent.com/?p=1234")
    assert article.author == "Awa Ndiaye"


def test_an_xml_feed_served_as_html_is_not_an_article() -> None:
    feed = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Notre Continent</title>'
    with pytest.raises(NotAnArticle, match=r"un flux \(un document XML <rss>\)"):
        parse(feed + b"<item><description>" + TEXT.encode() + b"</description></item></rss>")


# --- metadata that does not depend on the theme -------------------------------------------------


def test_title_loses_the_site_name_the_page_declares_not_a_hard_coded_one() -> None:
    renamed = '<meta property="og:site_name" content="Le Continent Citoyen">'
    article = parse(page(head=renamed, title="<title>Coupures | Le Continent Citoyen</title>"))
    assert (article.title, article.sources["title"]) == ("Coupures", "title")
    article = parse(page(title="<title>Coupures d’eau – Un Autre Nom</title>"))
    assert article.title == "Coupures d’eau"
    article = parse(page(title="<title>Guerre en Ukraine : le bilan</title>"))
    assert article.title == "Guerre en Ukraine : le bilan"


def test_modified_is_never_the_publication_moment() -> None:
    same = ('<meta property="article:published_time" content="2024-03-12T08:00:00+00:00">'
            '<meta property="article:modified_time" content="2024-03-12T08:00:00+00:00">')
    assert parse(page(head=same)).modified is None
    classic = ('<time class="entry-date published updated" datetime="2024-03-12T08:00:00+00:00">'
               "12 mars 2024</time>")
    assert parse(page(before=classic)).modified is None


def test_block_theme_categories_come_from_the_posts_own_terms_block() -> None:
    terms = ('<div class="taxonomy-category wp-block-post-terms"><a href="/category/societe/"'
             ' rel="tag">Société</a></div><div class="taxonomy-post_tag wp-block-post-terms">'
             '<a href="/tag/eau/" rel="tag">eau</a></div>')
    loop = ('<ul class="wp-block-post-template"><li><div class="taxonomy-category'
            ' wp-block-post-terms"><a href="/category/sport/" rel="tag">Sport</a></div></li></ul>')
    article = parse(page(after=terms + loop))
    assert article.categories == ("Société",)


# --- a parser that survives real markup --------------------------------------------------------


def test_markers_match_whole_class_words_not_prefixes() -> None:
    text = ('<div class="shareholders-report"><p>Les actionnaires de la société des eaux se'
            " réunissent lundi pour examiner les comptes.</p></div>")
    assert "actionnaires" in parse(page(TEXT + text + PLATFORM_LINES)).body


def test_an_element_holding_most_of_the_text_survives_a_furniture_class() -> None:
    body = (f'<html><head><title>Coupures</title></head><body class="single-post">'
            f'<div id="main" class="sidebar-right">{TEXT}'
            f'{PLATFORM_LINES}<div id="sidebar"><p>Le mot du jour, par la rédaction.</p></div>'
            "</div></body></html>").encode()
    article = parse(body)
    assert "coupures d’eau répétées" in article.body
    assert "mot du jour" not in article.body


def test_the_container_is_chosen_by_text_mass_not_first_match() -> None:
    teaser = '<div class="entry-content"><p>Douze mots pour annoncer un autre article.</p></div>'
    body = (f'<html><head><title>Coupures</title></head><body class="single-post">{teaser}'
            f'<div class="article-body">{TEXT}'
            f"{PLATFORM_LINES}</div></body></html>").encode()
    article = parse(body)
    assert article.sources["body"] == "div.article-content"
    assert "Douze mots" not in article.body


def test_soft_hyphens_and_zero_width_characters_leave_the_text() -> None:
    body = page("<p>La réac&shy;tion du gouver\u00adnement pro&#8203;met un dia\u200blogue"
                " avant la fin du mois, selon le ministre.</p>" + PLATFORM_LINES)
    assert "La réaction du gouvernement promet un dialogue" in parse(body).body


@pytest.mark.parametrize(
    ("markup", "rule"),
    [('<time datetime="2020-05-07T08:00:00+00:00">7 mai</time>', "time[datetime]"),
     ('<span itemprop="datePublished" content="2020-05-07">hier</span>',
      "[itemprop=datePublished]"),
     ("<p>Rédaction de Dakar, le 7 mai 2020</p>", "visible:le DATE"),
     ("<p>jeudi 7 mai 2020</p>", "visible:le DATE"),
     ('<span class="date">07/05/2020</span>', "span.date")],
)
def test_dates_are_found_without_publie_le(markup: str, rule: str) -> None:
    body = page(TEXT + "<p>Article écrit par : Awa Ndiaye</p>", before=markup)
    article = parse(body, url="https://sn.notrecontinent.com/coupures-eau-pikine/")
    assert (article.published, article.sources["published"]) == (date(2020, 5, 7), rule)


def test_a_yoast_graph_webpage_gives_the_date_and_the_address_is_the_last_resort() -> None:
    graph = ('<script type="application/ld+json">{"@graph": [{"@type": "WebPage",'
             ' "datePublished": "2020-05-07T08:00:00+00:00"}]}</script>')
    bare = page(TEXT + "<p>Article écrit par : Awa Ndiaye</p>")
    assert parse(page(TEXT, head=graph), url="https://sn.notrecontinent.com/x/").published \
        == date(2020, 5, 7)
    found = parse(bare, url="https://sn.notrecontinent.com/2021/06/30/x/")
    assert (found.published, found.sources["published"]) == (date(2021, 6, 30), "url:/YYYY/MM/DD/")


def test_a_placeholder_date_falls_through_to_the_next_rule() -> None:
    placeholder = ('<script type="application/ld+json">{"@type": "NewsArticle",'
                   ' "datePublished": "0001-01-01T00:00:00Z"}</script>')
    found = parse(page(TEXT, head=placeholder), url="https://sn.notrecontinent.com/2021/06/30/x/")
    assert found.published == date(2021, 6, 30)


def test_text_after_an_early_end_of_document_is_kept() -> None:
    body = page(TEXT + "</body></html><p>Une dernière phrase écrite après la fin.</p>")
    assert "Une dernière phrase écrite après la fin." in parse(body).body


def test_a_paragraph_that_is_one_link_stays_on_the_platforms_pages_only() -> None:
    link = '<p><a href="/2024/03/12/un-article/photo-3/">Photo 3 de la place de la Nation</a></p>'
    assert "Photo 3 de la place" in parse(page(TEXT + link + PLATFORM_LINES)).body
    foreign = parse(page(TEXT + link), url="https://exemple.org/2024/03/12/un-article/")
    assert "Photo 3 de la place" not in foreign.body
