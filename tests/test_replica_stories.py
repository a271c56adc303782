"""The replica's readable stories: served first, parsed back exactly, edited readably."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from archive.parser import parse_page
from archive.replica import Corpus, ReplicaState, RunningReplica, serve_replica
from archive.replica.corpus import _FORBIDDEN, _FORBIDDEN_OPENERS
from archive.replica.stories import STORIES

CORPUS = Corpus(size=len(STORIES) + 5, stories=True)


@pytest.fixture(scope="module")
def replica() -> Iterator[RunningReplica]:
    with serve_replica(CORPUS) as running:
        yield running


def test_stories_come_first_and_seeded_articles_follow_unchanged() -> None:
    assert [CORPUS.article(i).title for i in range(len(STORIES))] == [s.title for s in STORIES]
    seeded = Corpus(size=len(STORIES) + 5)
    last = len(STORIES) + 4
    assert CORPUS.article(last).body == seeded.article(last).body
    assert Corpus(size=5).article(0).title != STORIES[0].title, "the default corpus is unchanged"


def test_stories_vary_in_author_edition_year_and_topic() -> None:
    assert len(STORIES) >= 24
    assert len({s.author for s in STORIES}) >= 15
    assert {s.edition for s in STORIES} == {"sn", "ci", "cm"}
    assert len({s.published[:4] for s in STORIES}) >= 8
    assert len({c for s in STORIES for c in s.categories}) >= 8


def test_some_stories_share_most_of_their_text_as_copies_do() -> None:
    def words(story: object) -> set[str]:
        return set(" ".join(story.paragraphs).split())  # type: ignore[attr-defined]

    pairs = [(a.title, b.title) for n, a in enumerate(STORIES) for b in STORIES[n + 1:]
             if len(words(a) & words(b)) > 0.7 * min(len(words(a)), len(words(b)))]
    assert len(pairs) >= 2


def test_no_story_paragraph_looks_like_a_platform_line() -> None:
    for story in STORIES:
        for paragraph in story.paragraphs:
            assert not _FORBIDDEN.search(paragraph), paragraph
            assert paragraph.split(" ", 1)[0].lower() not in _FORBIDDEN_OPENERS, paragraph


@pytest.mark.parametrize("index", range(len(STORIES)))
def test_every_story_page_parses_back_to_its_text(replica: RunningReplica, index: int) -> None:
    truth = CORPUS.article(index)
    with httpx.Client(base_url=replica.urls[truth.edition], timeout=10) as client:
        response = client.get(truth.path)
    article = parse_page(response.content, str(response.url), response.headers.get("content-type"))
    assert (article.title, article.author, article.published) == (
        truth.title, truth.author, truth.published)
    assert article.body == truth.body


def test_a_story_edit_corrects_and_removes_sentences_in_readable_french() -> None:
    state = ReplicaState(CORPUS)
    before = state.article(0).body
    after = state.edit(1).body
    assert "140 familles" in before and "212 familles" in after
    assert "porte-parole du gouvernement" in before
    assert "porte-parole du gouvernement" not in after
