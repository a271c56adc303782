"""The French corpus seeded into the tests' real WordPress, with its ground truth.

Texts come from the replica's writer (same vocabulary, same French typography), but the
facts are chosen here so that every case the crawler and parser must get right on a real
WordPress is present: several accounts whose byline names differ from the account (accents,
compound names, apostrophes), several years and categories, the platform's byline and
boilerplate lines as separate paragraphs, joined by ``<br>`` or with ``<strong>`` labels and
no-break spaces, a post whose byline date differs from WordPress's own date, a very long post,
comments imitating the byline; and what must never be archived (password-protected, private,
draft, scheduled and trashed posts, a page, attachment pages).

WordPress "texturizes" what it prints (``'`` becomes ``’``, ``--`` a dash...): the texts
here are already in their printed form, so the ground truth is what a reader sees.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from archive.replica.corpus import TextWriter

SITE_TITLE = "Notre Continent"
BOILERPLATE = (
    "La plateforme NOTRECONTINENT.COM permet à tous de diffuser gratuitement et librement les "
    "informations et opinions provenant des citoyens. Les particuliers, associations, ONG ou "
    "professionnels peuvent créer un compte et publier leurs articles"
)
FAKE_BYLINE = "Article écrit par : Un Lecteur Malin"
CATEGORIES = ("Politique", "Société", "Économie", "Culture", "Sport", "Santé")
# WordPress accounts (login, display name): the byline names below never equal these.
ACCOUNTS = (
    ("redaction-nc", "Rédaction NC"),
    ("contributeurs", "Contributeurs"),
    ("mdiallo", "M. Diallo"),
    ("equipe-web", "Équipe Web"),
)
BYLINES = (
    "Aïssatou N’Diaye", "Jean-Baptiste Mendy", "Marie-Thérèse Ba-Diallo", "Ndèye Fatou Sène",
    "Mamadou Lamine Diallo", "Élise Lefèvre", "Koffi N’Guessan", "Hélène Da Silva",
)
LAYOUTS = ("paragraphs", "br", "strong")
POSTS = 40
LONG_POST = 7
SHIFTED_DATE_POST = 11
COMMENTED_POSTS = (2, 5, 9, 14, 23)
FAKE_BYLINE_POST = 5
ATTACHMENT_POSTS = (3, 16)
# The seed script replaces this with the address of the post's attachment page.
ATTACHMENT_LINK = "{attachment}"


@dataclass(frozen=True)
class SeedComment:
    """A reader comment (approved, shown under the post; never part of the article)."""

    author: str
    text: str
    date_gmt: datetime


@dataclass(frozen=True)
class SeedPost:
    """One post as inserted into WordPress, with what the archive must hold for it."""

    slug: str
    title: str
    author: str
    account: str
    published: date
    date_gmt: datetime
    categories: tuple[str, ...]
    paragraphs: tuple[str, ...]
    layout: str
    comments: tuple[SeedComment, ...] = ()
    status: str = "publish"
    password: str = ""
    post_type: str = "post"
    attachment: str = ""

    @property
    def body(self) -> str:
        """Return the article text as the archive must hold it."""
        return "\n\n".join(self.paragraphs)

    @property
    def path(self) -> str:
        """Return the pretty permalink path of a published post."""
        return f"/{self.date_gmt:%Y/%m/%d}/{self.slug}/"

    def content(self) -> str:
        """Return the post's HTML content: body paragraphs then the platform's lines."""
        body = "\n".join(
            f'<p><a href="{ATTACHMENT_LINK}">{text}</a></p>' if text == self.attachment
            else f"<p>{text}</p>" for text in self.paragraphs)
        return f"{body}\n{byline_block(self.layout, self.author, self.published)}"

    def as_seed(self) -> dict[str, object]:
        """Return the post as the seed script reads it."""
        return {
            "slug": self.slug, "title": self.title, "content": self.content(),
            "account": self.account, "date_gmt": f"{self.date_gmt:%Y-%m-%d %H:%M:%S}",
            "categories": list(self.categories), "status": self.status,
            "password": self.password, "type": self.post_type,
            "attachment": self.attachment,
            "comments": [{"author": c.author, "content": c.text,
                          "date_gmt": f"{c.date_gmt:%Y-%m-%d %H:%M:%S}"}
                         for c in self.comments],
        }


@dataclass(frozen=True)
class SeedCorpus:
    """Everything the seed script inserts: public posts and what must never be archived."""

    posts: tuple[SeedPost, ...]
    hidden: tuple[SeedPost, ...] = field(default=())

    def post(self, slug: str) -> SeedPost:
        """Return the public post with SLUG."""
        for post in self.posts:
            if post.slug == slug:
                return post
        raise KeyError(slug)

    def as_seed(self) -> dict[str, object]:
        """Return the whole corpus as the seed script reads it (JSON-ready)."""
        return {
            "title": SITE_TITLE,
            "accounts": [{"login": login, "name": name} for login, name in ACCOUNTS],
            "categories": list(CATEGORIES),
            "posts": [post.as_seed() for post in self.posts + self.hidden],
        }


def byline_block(layout: str, author: str, published: date) -> str:
    """Return the platform's byline, date and boilerplate lines in one of its layouts."""
    day = f"{published:%d/%m/%Y}"
    tail = f'{BOILERPLATE} <a href="/prive/inscription/">Cliquez-ici</a>.'
    if layout == "br":
        return (f"<p>Article écrit par: {author}<br>\nMis en ligne : {day}<br>\n—<br>\n"
                f"{tail}</p>")
    if layout == "strong":
        return (f"<p><strong>Article écrit par\u00a0:</strong> {author}</p>\n"
                f"<p><strong>Mis en ligne\u00a0:</strong> {day}</p>\n<p>—</p>\n<p>{tail}</p>")
    return (f"<p>Article écrit par : {author}</p>\n<p>Mis en ligne : {day}</p>\n<p>—</p>\n"
            f"<p>{tail}</p>")


def _printed(text: str) -> str:
    # What wptexturize would print: typographic apostrophes. The writer emits no straight
    # double quotes, "--" or "...", which WordPress would also rewrite.
    return text.replace("'", "’")


def _slug(index: int, title: str) -> str:
    from archive.authors import author_slug

    return "-".join(author_slug(title).split("-")[:6] + [str(index)])


def _post(index: int, rng: random.Random, *, status: str = "publish", password: str = "",
          post_type: str = "post", year: int | None = None) -> SeedPost:
    writer = TextWriter(rng)
    title = _printed(writer.title())
    count = 60 if index == LONG_POST else rng.randint(3, 6)
    paragraphs = tuple(_printed(writer.paragraph(rng.randint(40, 90))) for _ in range(count))
    attachment = ""
    if index in ATTACHMENT_POSTS and not post_type == "page":
        attachment = f"Photo {index} de la place de l’Indépendance"
        paragraphs = (*paragraphs, attachment)
    moment = datetime(year or 2019 + index % 7, 1 + index % 12, 1 + index % 27,
                      7 + index % 12, index % 60, tzinfo=UTC)
    published = moment.date()
    if index == SHIFTED_DATE_POST:
        # The byline says a day earlier than WordPress's own date: the byline wins.
        published = (moment - timedelta(days=1)).date()
    comments: list[SeedComment] = []
    if index in COMMENTED_POSTS:
        for number in range(2):
            text = _printed(writer.sentence())
            if index == FAKE_BYLINE_POST and number == 0:
                text = f"{text}\n{FAKE_BYLINE}"
            comments.append(SeedComment(rng.choice(("Moussa", "Awa D.", "Un citoyen")), text,
                                        moment + timedelta(hours=2 + number)))
    first = CATEGORIES[index % len(CATEGORIES)]
    categories = (first,) if index % 3 else (first, CATEGORIES[(index + 2) % len(CATEGORIES)])
    return SeedPost(
        slug=_slug(index, title), title=title, author=BYLINES[index % len(BYLINES)],
        account=ACCOUNTS[index % len(ACCOUNTS)][0], published=published, date_gmt=moment,
        categories=categories, paragraphs=paragraphs, layout=LAYOUTS[index % len(LAYOUTS)],
        comments=tuple(comments), status=status, password=password, post_type=post_type,
        attachment=attachment)


def build_corpus(size: int = POSTS, seed: int = 9) -> SeedCorpus:
    """Return the seeded corpus: SIZE public posts plus one of each kind never archived."""
    posts = tuple(_post(i, random.Random(f"{seed}:{i}")) for i in range(size))
    hidden_kinds = (
        {"password": "secret"}, {"status": "private"}, {"status": "draft"},
        {"status": "future", "year": 2099}, {"status": "trash"}, {"post_type": "page"},
    )
    hidden = tuple(
        _post(size + n, random.Random(f"{seed}:hidden:{n}"), **kind)  # type: ignore[arg-type]
        for n, kind in enumerate(hidden_kinds))
    return SeedCorpus(posts, hidden)


def new_post(index: int, seed: int = 9) -> SeedPost:
    """Return a post not in the seeded corpus, to publish during a test."""
    return _post(POSTS + 100 + index, random.Random(f"{seed}:new:{index}"), year=2026)
