"""What has happened to the replica's corpus since it started: edits, withdrawals, new articles.

One ``ReplicaState`` is shared by every edition's app, so listings, sitemaps, feeds, the REST
API and the article pages all tell the same story. ``state.article(i)`` is the ground truth of
article *i* as it stands now (edited text, later ``modified_at``, new path for late arrivals).
"""

from __future__ import annotations

import heapq
import random
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from archive.errors import InvalidInput
from archive.replica.corpus import Corpus, ReplicaArticle, TextWriter, article_path
from archive.replica.stories import apply_edit

WithdrawalMode = Literal["404", "410", "unlisted"]
WITHDRAWAL_MODES: tuple[str, ...] = ("404", "410", "unlisted")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ReplicaState:
    """The mutable, thread-safe life of a corpus between crawls."""

    def __init__(self, corpus: Corpus, published: int | None = None):
        if published is not None and not 0 <= published <= corpus.size:
            raise InvalidInput(f"le nombre publié doit être compris entre 0 et {corpus.size}")
        self.corpus = corpus
        self.initial = corpus.size if published is None else published
        self._lock = threading.RLock()
        self._added: dict[int, datetime] = {}
        self._edits: dict[int, list[datetime]] = {}
        self._withdrawn: dict[int, str] = {}
        self._version = 0
        self._listed: dict[tuple[int, str | None], list[int]] = {}

    @property
    def version(self) -> int:
        """Return a number that grows on every change (caches key on it)."""
        return self._version

    def _index_of(self, post_id: int) -> int:
        index = post_id - 1
        if not self.is_published(index):
            raise InvalidInput(f"l'article {post_id} n'est pas publié sur la réplique")
        return index

    def is_published(self, i: int) -> bool:
        """Tell whether article I has been published (withdrawn articles included)."""
        return 0 <= i < self.initial or i in self._added

    def status(self, i: int) -> str:
        """Return "published", "unpublished", or the withdrawal mode of article I."""
        if not self.is_published(i):
            return "unpublished"
        return self._withdrawn.get(i, "published")

    def is_listed(self, i: int) -> bool:
        """Tell whether article I appears in listings, sitemaps, feeds and the REST API."""
        return self.is_published(i) and i not in self._withdrawn

    def published_timestamp(self, i: int) -> int:
        """Return when article I was published (late arrivals: when they were added)."""
        added = self._added.get(i)
        if added is not None:
            return int(added.timestamp())
        return self.corpus.published_timestamp(i)

    def modified_timestamp(self, i: int) -> int:
        """Return when article I was last modified."""
        edits = self._edits.get(i)
        if edits:
            return int(edits[-1].timestamp())
        if i in self._added:
            return int(self._added[i].timestamp())
        return self.corpus.modified_timestamp(i)

    def edit_count(self, i: int) -> int:
        """Return how many times article I was edited."""
        return len(self._edits.get(i, ()))

    def article(self, i: int) -> ReplicaArticle:
        """Return the ground truth of article I as it stands now."""
        article = self.corpus.article(i)
        with self._lock:
            added = self._added.get(i)
            edits = list(self._edits.get(i, ()))
        if added is not None:
            article = replace(article, published=added.date(), published_at=added,
                              modified_at=added, path=article_path(added.date(), article.slug))
        if not edits:
            return article
        paragraphs = list(article.paragraphs)
        title = article.title
        story = self.corpus.story(i)
        for number, when in enumerate(edits, start=1):
            if story is not None and number <= len(story.edits):
                title, paragraphs = apply_edit(title, paragraphs, story.edits[number - 1])
                continue
            writer = TextWriter(random.Random(f"{self.corpus.seed}:{i}:edit:{number}"))
            first, _, rest = paragraphs[0].partition(". ")
            paragraphs[0] = f"{writer.sentence()} {rest}".strip() if rest else writer.sentence()
            correction = writer.paragraph(30)
            paragraphs.append(f"Mise à jour du {when:%d/%m/%Y}\u00a0: {correction}")
        return replace(article, title=title, paragraphs=tuple(paragraphs),
                       modified_at=edits[-1])

    def article_by_post_id(self, post_id: int) -> ReplicaArticle:
        """Return the ground truth of the article with POST_ID as it stands now."""
        return self.article(self._index_of(post_id))

    def edit(self, post_id: int, when: datetime | None = None) -> ReplicaArticle:
        """Edit POST_ID (one sentence changed, a dated update paragraph added); return it."""
        index = self._index_of(post_id)
        with self._lock:
            previous = self.modified_timestamp(index)
            moment = (when or _now()).astimezone(UTC)
            if int(moment.timestamp()) <= previous:
                moment = datetime.fromtimestamp(previous + 1, UTC)
            self._edits.setdefault(index, []).append(moment)
            self._changed()
        return self.article(index)

    def withdraw(self, post_id: int, mode: str = "404") -> None:
        """Withdraw POST_ID: its page answers 404 or 410, or stays up but is listed nowhere."""
        if mode not in WITHDRAWAL_MODES:
            raise InvalidInput(f"le mode de retrait est l'un de {', '.join(WITHDRAWAL_MODES)}")
        index = self._index_of(post_id)
        with self._lock:
            self._withdrawn[index] = mode
            self._changed()

    def restore(self, post_id: int) -> None:
        """Bring a withdrawn article back."""
        index = self._index_of(post_id)
        with self._lock:
            self._withdrawn.pop(index, None)
            self._changed()

    def add_articles(self, count: int, when: datetime | None = None) -> list[ReplicaArticle]:
        """Publish the next COUNT articles of the corpus, dated WHEN (default: now), newest last."""
        with self._lock:
            waiting = [i for i in range(self.initial, self.corpus.size) if i not in self._added]
            if count > len(waiting):
                raise InvalidInput(
                    f"il ne reste que {len(waiting)} articles à publier ; construisez le corpus "
                    "plus grand que le nombre publié au départ")
            start = (when or _now()).astimezone(UTC).replace(microsecond=0)
            latest = max(self._added.values(), default=None)
            if latest is not None and start <= latest:
                start = latest + timedelta(seconds=1)
            chosen = waiting[:count]
            for offset, index in enumerate(chosen):
                self._added[index] = start + timedelta(seconds=offset)
            self._changed()
        return [self.article(index) for index in chosen]

    def _changed(self) -> None:
        self._version += 1
        self._listed.clear()

    def listed(self, edition: str | None = None) -> list[int]:
        """Return the listed articles of EDITION (all editions if None), newest first."""
        key = (self._version, edition)
        with self._lock:
            cached = self._listed.get(key)
            if cached is not None:
                return cached
            corpus = self.corpus
            base = (i for i in corpus.newest_first()
                    if i < self.initial and i not in self._withdrawn
                    and (edition is None or corpus.edition_of(i) == edition))
            late = sorted((i for i in self._added if i not in self._withdrawn
                           and (edition is None or corpus.edition_of(i) == edition)),
                          key=lambda i: (-self.published_timestamp(i), -i))
            result = list(heapq.merge(late, base,
                                      key=lambda i: (-self.published_timestamp(i), -i)))
            self._listed[key] = result
            return result

    def find(self, edition: str, path: str) -> int | None:
        """Return the index of EDITION's published article at PATH, or None."""
        parts = path.strip("/").split("/")
        if len(parts) != 4:
            return None
        try:
            day = date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            return None
        with self._lock:
            late = [i for i, when in self._added.items() if when.date() == day]
        candidates = [i for i in self.corpus.on_day(day) if i < self.initial] + late
        for i in candidates:
            if self.corpus.edition_of(i) == edition and self.corpus.slug(i) == parts[3]:
                if i in self._added and self._added[i].date() != day:
                    continue
                return i
        return None
