"""The replica's corpus and vocabulary: deterministic, cheap per article, French news-like."""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from datetime import UTC, date

import pytest

from archive.authors import author_key
from archive.replica.corpus import (
    AUTHORS,
    CATEGORIES,
    FAKE_BYLINE,
    VARIANTS,
    Corpus,
)
from archive.replica.vocabulary import PEOPLE, PLACES, vocabulary

PLATFORM_TEXT = re.compile(r"Article écrit par|Mis en ligne|NOTRECONTINENT|Cliquez-ici|^—$",
                           re.IGNORECASE | re.MULTILINE)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus(60)


def test_vocabulary_holds_at_least_50000_distinct_forms() -> None:
    forms = vocabulary().forms
    assert len(set(forms)) == len(forms)
    assert len(forms) >= 50_000


def test_vocabulary_is_zipfian_with_a_long_tail() -> None:
    words = vocabulary()
    assert words.forms[0] == "de"
    assert words.probability(1) > 0.02
    assert words.probability(1) > 100 * words.probability(1000)
    sample = Counter(words.words(random.Random(3), 200_000))
    top, count = sample.most_common(1)[0]
    assert top == "de" and count > 0.02 * 200_000
    hapaxes = sum(1 for n in sample.values() if n == 1)
    assert len(sample) > 15_000
    assert hapaxes > 0.3 * len(sample)


def test_vocabulary_holds_real_inflections_accents_and_compounds() -> None:
    forms = set(vocabulary().forms)
    for form in ("armée", "armées", "élection", "élections", "électoral", "électoraux",
                 "coréens", "nord-coréens", "nord-coréenne", "gouvernement", "présidente",
                 "déclarer", "déclaré", "déclarait", "déclarent", "protège", "appelle",
                 "cessez-le-feu", "porte-parole"):
        assert form in forms, form
    proper = set(vocabulary().proper_nouns)
    for name in ("Sénégal", "Dakar", "Pyongyang", "Séoul", "États-Unis", "Kim Jong-un",
                 "Lee Seong-kweun", "Macky Sall", "Abidjan"):
        assert name in proper, name
    assert "Ukraine" in PLACES and "Kim Jong-un" in PEOPLE


def test_same_seed_gives_the_same_article_and_another_seed_another() -> None:
    assert Corpus(60, seed=7).article(12) == Corpus(60, seed=7).article(12)
    assert Corpus(60, seed=7).article(12).body != Corpus(60, seed=8).article(12).body


def test_article_does_not_depend_on_corpus_size() -> None:
    assert Corpus(60).article(5) == Corpus(100_000).article(5)


def test_article_carries_its_ground_truth(corpus: Corpus) -> None:
    for i in range(corpus.size):
        article = corpus.article(i)
        assert article.post_id == i + 1
        assert article.path == f"/{article.published:%Y/%m/%d}/{article.slug}/"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", article.slug)
        assert date(2015, 1, 1) <= article.published <= date(2025, 12, 31)
        assert article.published_at.tzinfo is not None
        assert article.published_at.utcoffset() == UTC.utcoffset(None)
        assert article.modified_at >= article.published_at
        assert 1 <= len(article.categories) <= 2
        assert set(article.categories) <= set(CATEGORIES)
        assert 3 <= len(article.paragraphs) <= 8
        assert article.body == "\n\n".join(article.paragraphs)
        assert article.canonical_url == (
            f"https://{article.edition}.notrecontinent.com{article.path}")


def test_bodies_read_like_french_news(corpus: Corpus) -> None:
    articles = corpus.articles()
    words = [len(article.body.split()) for article in articles]
    assert 350 <= statistics.median(words) <= 600
    text = "\n".join(article.body for article in articles)
    assert re.search(r"\b[ldnsc]'[a-zéèêàâîôh]", text)
    assert re.search(r"\b(?:[ldnsc]|qu|jusqu|lorsqu)’[a-zéèêàâîôh]", text)
    assert "\u00a0:" in text and "\u00a0?" in text
    assert "«\u00a0" in text and "\u00a0»" in text
    assert re.search(r"\b[a-zé]+-[a-zé]+\b", text)
    assert re.search(r"[ÉÈÀÎ]", text)
    assert re.search(r"[éèêàç]", text)


def test_titles_and_bodies_never_hold_the_platform_lines(corpus: Corpus) -> None:
    for article in corpus.articles():
        assert not PLATFORM_TEXT.search(article.title)
        assert not PLATFORM_TEXT.search(article.body)
        assert not any(p.startswith(("Par ", "Publié")) for p in article.paragraphs)


def test_every_variant_appears_in_every_edition_of_the_default_corpus(corpus: Corpus) -> None:
    for edition in corpus.editions:
        variants = {corpus.article(i).variant for i in corpus.in_edition(edition)}
        assert variants == set(VARIANTS), edition


def test_account_variant_names_another_wordpress_account(corpus: Corpus) -> None:
    for article in corpus.articles():
        if article.variant == "account":
            assert article.wp_author != article.author
        if article.variant in ("jsonld", "meta", "entrymeta", "visible"):
            assert article.wp_author == article.author


def test_authors_are_many_accented_and_compound() -> None:
    assert len({author_key(name) for name in AUTHORS}) == len(AUTHORS) >= 400
    assert "Aïssatou N'Diaye" in AUTHORS and "Jean-Baptiste Mendy" in AUTHORS
    assert any(len(name.split()) >= 3 for name in AUTHORS)
    small = {Corpus(60).entry(i).author for i in range(60)}
    large = {Corpus(5000).entry(i).author for i in range(5000)}
    assert 10 <= len(small) < len(large)
    assert len(large) >= 250
    counts = Counter(Corpus(5000).entry(i).author for i in range(5000))
    assert counts.most_common(1)[0][1] > 10 * statistics.median(counts.values())


def test_about_one_article_in_ten_has_a_fake_byline_in_a_comment() -> None:
    corpus = Corpus(200)
    fakes = [a for a in corpus.articles() if any(FAKE_BYLINE in c.text for c in a.comments)]
    assert 8 <= len(fakes) <= 40


def test_any_article_of_a_100k_corpus_is_built_without_the_others() -> None:
    corpus = Corpus(100_000)
    article = corpus.article(99_999)
    assert article.post_id == 100_000
    assert corpus._order is None


def test_listings_helpers_are_newest_first_and_consistent(corpus: Corpus) -> None:
    newest = corpus.newest_first()
    stamps = [corpus.article(i).published_at for i in newest]
    assert stamps == sorted(stamps, reverse=True)
    edition = corpus.in_edition("ci")
    assert edition and all(corpus.article(i).edition == "ci" for i in edition)
    article = corpus.article(edition[0])
    assert edition[0] in corpus.by_author(article.author_slug, "ci")
    month = corpus.by_month(article.published.year, article.published.month)
    assert edition[0] in month
    assert corpus.on_day(article.published).count(edition[0]) == 1
