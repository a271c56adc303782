"""The replica's seeded corpus: article *i* is built from its own RNG, in O(1), on demand.

Nothing is stored per article: ``Corpus.article(i)`` derives everything from ``(seed, i)``, so
article 5 is the same in a corpus of 60 and in one of 100,000, and a 100,000-article corpus
costs nothing until it is listed. Listings use a lazily built index of small integers
(publication time, edition, account) computed from the cheap per-article ``entry``.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from archive.authors import author_slug
from archive.replica.stories import STORIES, Story
from archive.replica.vocabulary import INSTITUTIONS, PLACES, Vocabulary, elide, vocabulary

DEFAULT_SEED = 20_250_430
DEFAULT_EDITIONS = ("sn", "ci", "cm")
VARIANTS = (
    "paragraphs", "strong", "br", "jsonld", "meta", "entrymeta", "visible", "account",
    "boilerdiv",
)
PLATFORM_LINE_VARIANTS = frozenset({"paragraphs", "strong", "br", "account", "boilerdiv"})
CATEGORIES = (
    "Politique", "Société", "Économie", "International", "Culture", "Sport", "Santé",
    "Environnement", "Éducation", "Faits divers",
)
GENERIC_ACCOUNTS = ("redaction-nc", "contributeurs-nc", "equipe-web")
FIRST_DAY = date(2015, 1, 1)
LAST_DAY = date(2025, 12, 31)
AUTHOR_POOL_SIZE = 420
FAKE_BYLINE = "Article écrit par : Un Lecteur Malin"

_FIRST_NAMES = (
    "Aïssatou", "Mamadou", "Fatou", "Jean-Baptiste", "Awa", "Ousmane", "Khady", "Moussa",
    "Mariama", "Ibrahima", "Aminata", "Cheikh", "Ndèye", "Abdoulaye", "Coumba", "Serigne",
    "Yacine", "Babacar", "Marie-Claire", "Koffi", "Adjoua", "Kouassi", "Aya", "Yao",
    "Affoué", "Jean-Pierre", "Élise", "Hélène", "Célestin", "Théodore", "Geneviève",
    "Françoise", "Jérôme", "Noël", "Zoé", "Chloé", "Raphaël", "Joël", "Anaïs", "Rokhaya",
    "Seydou", "Boubacar", "Salimata", "Oumou", "Désiré", "Thérèse", "Émile", "Joséphine",
    "Paul-Henri", "Marie-Thérèse", "Sophie", "Astou", "Penda", "Modou", "Souleymane",
    "Bineta", "Ramatoulaye", "Saliou", "Arona", "Nafissatou", "Ghislain", "Loïc",
)
_SECOND_NAMES = ("Bintou", "Lamine", "Mbaye", "Fall", "Sidy", "Aïda", "Kiné", "Moustapha")
_LAST_NAMES = (
    "N'Diaye", "Ndiaye", "Diop", "Mendy", "Sène", "Diallo", "Fall", "Faye", "Sarr", "Gueye",
    "Ba", "Sow", "Cissé", "Touré", "Camara", "Koné", "Kouamé", "Kouadio", "Yao", "N'Guessan",
    "Traoré", "Coulibaly", "Ouédraogo", "Sawadogo", "Dembélé", "Keïta", "Mbaye", "Niang",
    "Thiam", "Sy", "Dieng", "Badji", "Sagna", "Diatta", "Tchakounté", "Nkoulou", "Mbarga",
    "Essomba", "Ngo Bassa", "Fotso", "Kamga", "Lefèvre", "Dupré", "Bérenger", "Mercier",
    "Gomis", "Da Silva", "Ba-Diallo", "Diop-Sall", "Lô", "Dramé", "Sané", "Kanté", "Bâ",
    "Tall", "Wade", "Cissokho", "Ehouman", "Aké", "Bédié", "Gbagbo", "Zadi", "Obiang",
)
_COMMENTERS = (
    "Moussa", "lecteur_dakar", "Awa D.", "Kouassi", "Un citoyen", "Fatou", "Jean", "Ibou",
    "Mariam K.", "patriote221", "Yves", "Adama",
)
_QUOTE_VERBS = (
    "a déclaré", "a affirmé", "a indiqué", "estime", "a souligné", "a rappelé", "prévient",
    "a expliqué", "selon",
)
_NEWS_FRAMES = (
    "{lieu}\u00a0: {clause}.",
    "Selon {source}, {clause}.",
    "{personne} a {pp} ce {jour} que {clause}.",
    "Le {titre} {personne} a {pp} {clause}.",
    "À {lieu}, {clause}.",
    "D’après {source}, près de {nombre} personnes {clause}.",
    "{clause}, a-t-il {pp} {jour} soir.",
    "Depuis {annee}, {clause}.",
    "{clause}, selon {source}.",
    "Ce {jour}, {clause}.",
    "Interrogé par {source}, {personne} a {pp} que {clause}.",
    "En {annee}, {clause}, rappelle {source}.",
)
_TITLES = ("président", "ministre", "député", "maire", "porte-parole", "chef de l’État",
           "secrétaire général", "gouverneur")
_PARTICIPLES = ("déclaré", "annoncé", "affirmé", "indiqué", "expliqué", "rappelé",
                "souligné", "dénoncé", "estimé", "confirmé", "précisé", "assuré")
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_SOURCES = (
    "les services de renseignement", "l’agence {institution}", "le ministère de l’Intérieur",
    "des sources concordantes", "le porte-parole du gouvernement", "un communiqué officiel",
    "la {institution}", "nos confrères de la presse locale", "les autorités sanitaires",
)
_FORBIDDEN = re.compile(
    r"écrit par|mis en ligne|notrecontinent|cliquez|lire aussi|publié le|"
    r"\bcorrectif\b|\bmise à jour\b",
    re.IGNORECASE,
)
_FORBIDDEN_OPENERS = frozenset({"par", "publié", "mis", "article", "lire", "la plateforme"})


@dataclass(frozen=True)
class ReplicaComment:
    """One reader comment under an article (never part of the article's body)."""

    author: str
    text: str
    posted_at: datetime


@dataclass(frozen=True)
class ArticleEntry:
    """The cheap facts of article *i* (no text): enough to list, sort and route it."""

    index: int
    post_id: int
    edition: str
    variant: str
    author: str
    wp_author: str
    categories: tuple[str, ...]
    published_at: datetime
    modified_at: datetime


@dataclass(frozen=True)
class ReplicaArticle:
    """One article of the replica with its ground truth (what the parser must return)."""

    post_id: int
    edition: str
    slug: str
    path: str
    title: str
    author: str
    wp_author: str
    published: date
    published_at: datetime
    modified_at: datetime
    categories: tuple[str, ...]
    paragraphs: tuple[str, ...]
    variant: str
    comments: tuple[ReplicaComment, ...] = ()

    @property
    def body(self) -> str:
        """Return the article text as the parser must return it."""
        return "\n\n".join(self.paragraphs)

    @property
    def index(self) -> int:
        """Return the 0-based position of the article in its corpus."""
        return self.post_id - 1

    @property
    def canonical_url(self) -> str:
        """Return the article's address on the real platform."""
        return f"https://{self.edition}.notrecontinent.com{self.path}"

    @property
    def author_slug(self) -> str:
        """Return the slug of the WordPress account (``/author/SLUG/``)."""
        return author_slug(self.wp_author)


def article_path(published: date, slug: str) -> str:
    """Return the WordPress date permalink of an article."""
    return f"/{published:%Y/%m/%d}/{slug}/"


def category_slug(name: str) -> str:
    """Return the slug of a category name (``/category/SLUG/``)."""
    return author_slug(name)


def _authors() -> tuple[str, ...]:
    rng = random.Random("replica-authors")
    names = ["Sophie Diop", "Aïssatou N'Diaye", "Jean-Baptiste Mendy", "Fatou Bintou Sène",
             "Mamadou Lamine Diallo"]
    keys = {author_slug(name) for name in names}
    while len(names) < AUTHOR_POOL_SIZE:
        first = rng.choice(_FIRST_NAMES)
        if rng.random() < 0.2:
            first = f"{first} {rng.choice(_SECOND_NAMES)}"
        name = f"{first} {rng.choice(_LAST_NAMES)}"
        if author_slug(name) not in keys:
            keys.add(author_slug(name))
            names.append(name)
    return tuple(names)


AUTHORS = _authors()
_AUTHOR_CUMULATIVE = tuple(itertools.accumulate(1.0 / (rank + 1.5) for rank in
                                                range(1, len(AUTHORS) + 1)))
_CATEGORY_CUMULATIVE = tuple(itertools.accumulate(1.0 / rank for rank in
                                                  range(1, len(CATEGORIES) + 1)))
_SPAN_SECONDS = ((LAST_DAY - FIRST_DAY).days + 1) * 86_400


def _pick(cumulative: Sequence[float], unit: float) -> int:
    return min(bisect.bisect_left(cumulative, unit * cumulative[-1]), len(cumulative) - 1)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return str(rng.randint(1960, 2025))
    if kind < 0.7:
        return str(rng.randint(2, 950))
    if kind < 0.9:
        return f"{rng.randint(1, 99)}\u00a0{rng.randint(0, 999):03d}"
    return f"{rng.randint(1, 80)},{rng.randint(1, 9)}\u00a0%"


class TextWriter:
    """Writes French news-like sentences, paragraphs and titles from one RNG."""

    def __init__(self, rng: random.Random, words: Vocabulary | None = None):
        self.rng = rng
        self.words = words or vocabulary()

    def _clause(self, low: int, high: int) -> str:
        rng = self.rng
        tokens = self.words.words(rng, rng.randint(low, high))
        if rng.random() < 0.35:
            tokens.insert(rng.randrange(len(tokens) + 1), self.words.proper_noun(rng))
        if rng.random() < 0.05:
            tokens.insert(rng.randrange(len(tokens) + 1), _number(rng))
        tokens = elide(tokens, rng)
        for position in range(1, len(tokens) - 2):
            if rng.random() < 0.06:
                tokens[position] += ","
        return " ".join(tokens)

    def sentence(self) -> str:
        """Return one sentence with French punctuation (no-break spaces, guillemets)."""
        rng = self.rng
        shape = rng.random()
        if shape < 0.1:
            quote = _capitalise(self._clause(6, 18))
            return f"«\u00a0{quote}\u00a0», {rng.choice(_QUOTE_VERBS)} {self.words.person(rng)}."
        text = _capitalise(self._clause(8, 24))
        if shape < 0.15:
            return f"{text}\u00a0: {self._clause(4, 10)}."
        if shape < 0.18:
            return f"{text}\u00a0; {self._clause(4, 10)}."
        if shape < 0.21:
            return f"{text}\u00a0?"
        if shape < 0.23:
            return f"{text}\u00a0!"
        if shape < 0.28:
            return f"{text} «\u00a0{self._clause(2, 5)}\u00a0»."
        if shape < 0.5:
            return self._news_frame()
        return f"{text}."

    def _news_frame(self) -> str:
        rng = self.rng
        frame = rng.choice(_NEWS_FRAMES)
        slots = {
            "personne": self.words.person(rng),
            "titre": rng.choice(_TITLES),
            "pp": rng.choice(_PARTICIPLES),
            "jour": rng.choice(_WEEKDAYS),
            "lieu": rng.choice(PLACES),
            "source": rng.choice(_SOURCES).format(institution=rng.choice(INSTITUTIONS)),
            "nombre": _number(rng),
            "annee": str(rng.randint(1990, 2025)),
            "clause": self._clause(6, 16),
        }
        return _capitalise(frame.format(**slots))

    def paragraph(self, budget: int) -> str:
        """Return a paragraph of about BUDGET words, never one the parser could mistake."""
        while True:
            sentences: list[str] = []
            count = 0
            while count < budget:
                sentence = self.sentence()
                sentences.append(sentence)
                count += sentence.count(" ") + 1
            text = " ".join(sentences)
            opener = text.split(" ", 1)[0].strip("«\u00a0").lower()
            if not _FORBIDDEN.search(text) and opener not in _FORBIDDEN_OPENERS:
                return text

    def title(self) -> str:
        """Return a news title (some open with a place or a name and a colon)."""
        rng = self.rng
        while True:
            tokens = elide(self.words.words(rng, rng.randint(5, 10)), rng)
            text = " ".join(tokens)
            if rng.random() < 0.4:
                text = f"{self.words.proper_noun(rng)}\u00a0: {text}"
            elif rng.random() < 0.3:
                text = f"{text} {self.words.proper_noun(rng)}"
            text = _capitalise(text)
            if not _FORBIDDEN.search(text):
                return text


@lru_cache(maxsize=65_536)
def _title(seed: int, i: int) -> str:
    # Listings, sitemaps, sidebars and slug lookups all ask for titles: keep recent ones.
    return TextWriter(random.Random(f"{seed}:{i}:title")).title()


class Corpus:
    """A deterministic corpus of SIZE French articles spread over EDITIONS.

    With STORIES, the first articles are the readable ones of ``archive.replica.stories``
    (those of an edition the corpus serves); the seeded ones follow, unchanged.
    """

    def __init__(self, size: int = 60, seed: int = DEFAULT_SEED,
                 editions: Sequence[str] = DEFAULT_EDITIONS, *, stories: bool = False):
        if size < 1:
            raise ValueError("a corpus holds at least one article")
        if not editions:
            raise ValueError("a corpus needs at least one edition")
        self.size = size
        self.seed = seed
        self.editions = tuple(editions)
        self.stories: tuple[Story, ...] = tuple(
            story for story in STORIES if story.edition in self.editions) if stories else ()
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, ReplicaArticle] = OrderedDict()
        self._order: list[int] | None = None
        self._published_ts: list[int] | None = None
        self._accounts: list[str] | None = None
        self._modified_ts: list[int] = []
        self._ascending: list[int] = []

    def __repr__(self) -> str:
        stories = ", stories=True" if self.stories else ""
        return f"Corpus(size={self.size}, seed={self.seed}, editions={self.editions!r}{stories})"

    def story(self, i: int) -> Story | None:
        """Return the readable story article I is, or None for a seeded article."""
        return self.stories[i] if i < len(self.stories) else None

    def _check(self, i: int) -> None:
        if not 0 <= i < self.size:
            raise IndexError(f"article {i} is outside this corpus of {self.size}")

    def _units(self, i: int) -> list[float]:
        digest = hashlib.blake2b(f"{self.seed}:{i}".encode(), digest_size=40).digest()
        return [int.from_bytes(digest[k:k + 4], "big") / 2**32 for k in range(0, 40, 4)]

    def entry(self, i: int) -> ArticleEntry:
        """Return the cheap facts of article I (no text generated)."""
        self._check(i)
        units = self._units(i)
        variant = VARIANTS[i % len(VARIANTS)]
        story = self.story(i)
        if story is not None:
            wp_author = story.author
            if variant == "account":
                wp_author = GENERIC_ACCOUNTS[i % len(GENERIC_ACCOUNTS)]
            return ArticleEntry(i, i + 1, story.edition, variant, story.author, wp_author,
                                story.categories, story.published_at, story.published_at)
        edition = self.editions[(i // len(VARIANTS)) % len(self.editions)]
        day = int(units[0] * _SPAN_SECONDS) // 86_400
        seconds = 6 * 3600 + int(units[1] * 16 * 3600)
        published_at = datetime.combine(FIRST_DAY, datetime.min.time(), UTC) + timedelta(
            days=day, seconds=seconds)
        author = AUTHORS[_pick(_AUTHOR_CUMULATIVE, units[2])]
        wp_author = author
        generic = GENERIC_ACCOUNTS[int(units[3] * 1000) % len(GENERIC_ACCOUNTS)]
        if variant == "account" or (variant in PLATFORM_LINE_VARIANTS and units[3] < 0.15):
            wp_author = generic
        first = _pick(_CATEGORY_CUMULATIVE, units[4])
        categories: tuple[str, ...] = (CATEGORIES[first],)
        if units[5] < 0.3:
            second = (first + 1 + int(units[6] * (len(CATEGORIES) - 1))) % len(CATEGORIES)
            categories = (CATEGORIES[first], CATEGORIES[second])
        modified_at = published_at
        if units[7] < 0.35:
            modified_at = published_at + timedelta(seconds=60 + int(units[8] * 20 * 86_400))
        return ArticleEntry(i, i + 1, edition, variant, author, wp_author, categories,
                            published_at, modified_at)

    def title(self, i: int) -> str:
        """Return the title of article I (cheap: its own small RNG)."""
        self._check(i)
        story = self.story(i)
        return story.title if story is not None else _title(self.seed, i)

    def slug(self, i: int) -> str:
        """Return the permalink slug of article I, derived from its title."""
        words = author_slug(self.title(i)).split("-")
        return "-".join(words[:9])

    def path(self, i: int) -> str:
        """Return the permalink path of article I as first published."""
        return article_path(self.entry(i).published_at.date(), self.slug(i))

    def article(self, i: int) -> ReplicaArticle:
        """Return article I (0-based), always the same for a given seed and editions."""
        with self._lock:
            cached = self._cache.get(i)
            if cached is not None:
                self._cache.move_to_end(i)
                return cached
        article = self._build(i)
        with self._lock:
            self._cache[i] = article
            if len(self._cache) > 2048:
                self._cache.popitem(last=False)
        return article

    def _build(self, i: int) -> ReplicaArticle:
        entry = self.entry(i)
        story = self.story(i)
        if story is not None:
            slug = self.slug(i)
            return ReplicaArticle(
                post_id=entry.post_id, edition=entry.edition, slug=slug,
                path=article_path(entry.published_at.date(), slug), title=story.title,
                author=entry.author, wp_author=entry.wp_author,
                published=entry.published_at.date(), published_at=entry.published_at,
                modified_at=entry.modified_at, categories=entry.categories,
                paragraphs=story.paragraphs, variant=entry.variant,
            )
        rng = random.Random(f"{self.seed}:{i}:body")
        writer = TextWriter(rng)
        total = int(min(950, max(220, rng.lognormvariate(math.log(450), 0.3))))
        count = rng.randint(3, 8)
        shares = [rng.uniform(0.6, 1.4) for _ in range(count)]
        paragraphs = tuple(
            writer.paragraph(max(12, int(total * share / sum(shares)))) for share in shares)
        comments = []
        fake = rng.random() < 0.1
        for number in range(max(int(fake), rng.choice((0, 0, 1, 1, 2, 3)))):
            text = writer.sentence()
            if fake and number == 0:
                text = f"{text}\n{FAKE_BYLINE}"
            posted = entry.published_at + timedelta(minutes=30 + rng.randint(0, 5000))
            comments.append(ReplicaComment(rng.choice(_COMMENTERS), text, posted))
        slug = self.slug(i)
        return ReplicaArticle(
            post_id=entry.post_id, edition=entry.edition, slug=slug,
            path=article_path(entry.published_at.date(), slug), title=self.title(i),
            author=entry.author, wp_author=entry.wp_author, published=entry.published_at.date(),
            published_at=entry.published_at, modified_at=entry.modified_at,
            categories=entry.categories, paragraphs=paragraphs, variant=entry.variant,
            comments=tuple(comments),
        )

    def articles(self) -> list[ReplicaArticle]:
        """Return every article (for small corpora: this builds them all)."""
        return [self.article(i) for i in range(self.size)]

    def _index(self) -> tuple[list[int], list[int], list[str]]:
        with self._lock:
            if self._order is None or self._published_ts is None or self._accounts is None:
                stamps: list[int] = []
                modified: list[int] = []
                accounts: list[str] = []
                slugs: dict[str, str] = {}
                for i in range(self.size):
                    entry = self.entry(i)
                    stamps.append(int(entry.published_at.timestamp()))
                    modified.append(int(entry.modified_at.timestamp()))
                    if entry.wp_author not in slugs:
                        slugs[entry.wp_author] = author_slug(entry.wp_author)
                    accounts.append(slugs[entry.wp_author])
                self._accounts = accounts
                self._modified_ts = modified
                self._order = sorted(range(self.size), key=lambda k: (-stamps[k], -k))
                self._ascending = [stamps[i] for i in reversed(self._order)]
                self._published_ts = stamps
            return self._order, self._published_ts, self._accounts

    def on_day(self, day: date) -> list[int]:
        """Return the indexes of the articles first published on DAY."""
        order = self._index()[0]
        start = int(datetime.combine(day, datetime.min.time(), UTC).timestamp())
        low = bisect.bisect_left(self._ascending, start)
        high = bisect.bisect_left(self._ascending, start + 86_400)
        size = len(order)
        return [order[size - 1 - k] for k in range(low, high)]

    def modified_timestamp(self, i: int) -> int:
        """Return the corpus modification time of article I as a POSIX timestamp."""
        self._index()
        return self._modified_ts[i]

    def newest_first(self) -> list[int]:
        """Return every article index, newest publication first (built once, then shared)."""
        return self._index()[0]

    def published_timestamp(self, i: int) -> int:
        """Return the first publication time of article I as a POSIX timestamp."""
        return self._index()[1][i]

    def account_slug(self, i: int) -> str:
        """Return the slug of article I's WordPress account, from the shared index."""
        return self._index()[2][i]

    def edition_of(self, i: int) -> str:
        """Return the edition of article I without building anything."""
        if i < len(self.stories):
            return self.stories[i].edition
        return self.editions[(i // len(VARIANTS)) % len(self.editions)]

    def in_edition(self, edition: str) -> list[int]:
        """Return the indexes of EDITION's articles, newest first."""
        return [i for i in self.newest_first() if self.edition_of(i) == edition]

    def by_author(self, slug: str, edition: str | None = None) -> list[int]:
        """Return the indexes of the articles of the WordPress account SLUG, newest first."""
        accounts = self._index()[2]
        return [i for i in self.newest_first()
                if accounts[i] == slug and (edition is None or self.edition_of(i) == edition)]

    def by_month(self, year: int, month: int, edition: str | None = None) -> list[int]:
        """Return the indexes of the articles published in YEAR-MONTH, newest first."""
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        low, high = int(start.timestamp()), int(end.timestamp())
        stamps = self._index()[1]
        return [i for i in self.newest_first() if low <= stamps[i] < high
                and (edition is None or self.edition_of(i) == edition)]


def page_of(items: Sequence[int], page: int, page_size: int) -> list[int]:
    """Return page PAGE (1-based) of ITEMS."""
    start = (page - 1) * page_size
    return list(items[start:start + page_size])


def page_count(total: int, page_size: int) -> int:
    """Return how many pages TOTAL items fill (at least one)."""
    return max(1, math.ceil(total / page_size))
