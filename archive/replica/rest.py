"""The replica's WordPress REST API (``/wp-json/wp/v2/posts``), answering like WordPress does.

Supported: ``per_page`` (1-100), ``page``, ``orderby`` (date, modified, id, title, slug),
``order``, ``after``, ``before``, ``modified_after``, ``modified_before``, ``author``,
``categories``, ``_embed`` (author and ``wp:term``), ``_fields``; ``X-WP-Total`` and
``X-WP-TotalPages`` headers; WordPress's error bodies (``rest_invalid_param``,
``rest_post_invalid_page_number``, ``rest_not_logged_in``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any

from archive.authors import author_slug
from archive.replica.corpus import AUTHORS, CATEGORIES, GENERIC_ACCOUNTS, ReplicaArticle
from archive.replica.corpus import category_slug as _category_slug
from archive.replica.state import ReplicaState
from archive.replica.stories import STORY_AUTHORS
from archive.replica.theme import content_html, excerpt

_ORDERBY = ("date", "modified", "id", "title", "slug")


class RestError(Exception):
    """A REST request WordPress would refuse, with its status and JSON body."""

    def __init__(self, status: int, code: str, message: str, data: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message, "data": {"status": status, **(data or {})}}


def not_logged_in() -> RestError:
    """Return the 401 WordPress answers when the REST API is closed to visitors."""
    return RestError(401, "rest_not_logged_in",
                     "Vous n’êtes actuellement pas connecté.")


def account_id(account: str) -> int:
    """Return the WordPress user id of an account (generic accounts and the stories' authors
    come after the seeded authors)."""
    if account in GENERIC_ACCOUNTS:
        return 1000 + GENERIC_ACCOUNTS.index(account)
    if account in STORY_AUTHORS:
        return 2000 + STORY_AUTHORS.index(account)
    return AUTHORS.index(account) + 2


def category_id(name: str) -> int:
    """Return the WordPress term id of a category (1 is "Non classé")."""
    return CATEGORIES.index(name) + 2


def _wp_date(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def post_json(article: ReplicaArticle, base_url: str, embed: bool) -> dict[str, Any]:
    """Return the REST representation of one post."""
    user = account_id(article.wp_author)
    data: dict[str, Any] = {
        "id": article.post_id,
        "date": _wp_date(article.published_at),
        "date_gmt": _wp_date(article.published_at),
        "guid": {"rendered": f"{base_url}/?p={article.post_id}"},
        "modified": _wp_date(article.modified_at),
        "modified_gmt": _wp_date(article.modified_at),
        "slug": article.slug,
        "status": "publish",
        "type": "post",
        "link": base_url + article.path,
        "title": {"rendered": escape(article.title, quote=False)},
        "content": {"rendered": content_html(article), "protected": False},
        "excerpt": {"rendered": f"<p>{escape(excerpt(article, 55))}</p>\n", "protected": False},
        "author": user,
        "comment_status": "open",
        "format": "standard",
        "categories": [category_id(name) for name in article.categories],
        "tags": [],
        "_links": {
            "self": [{"href": f"{base_url}/wp-json/wp/v2/posts/{article.post_id}"}],
            "author": [{"embeddable": True, "href": f"{base_url}/wp-json/wp/v2/users/{user}"}],
        },
    }
    if embed:
        slug = author_slug(article.wp_author)
        data["_embedded"] = {
            "author": [{"id": user, "name": article.wp_author, "slug": slug,
                        "link": f"{base_url}/author/{slug}/"}],
            "wp:term": [
                [{"id": category_id(name), "link": f"{base_url}/category/"
                  f"{_category_slug(name)}/", "name": name, "slug": _category_slug(name),
                  "taxonomy": "category"} for name in article.categories],
                [],
            ],
        }
    return data


def _integer(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise RestError(400, "rest_invalid_param", f"Paramètre(s) non valide(s) : {name}",
                        {"params": {name: f"{name} doit être entre {low} et {high}"}})
    return value


def _moment(query: Mapping[str, str], name: str) -> int | None:
    text = query.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise RestError(400, "rest_invalid_param", f"Paramètre(s) non valide(s) : {name}",
                        {"params": {name: "Date non valide."}}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _ids(query: Mapping[str, str], name: str) -> set[int] | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return {int(part) for part in text.split(",") if part}
    except ValueError:
        raise RestError(400, "rest_invalid_param",
                        f"Paramètre(s) non valide(s) : {name}") from None


def list_posts(state: ReplicaState, edition: str, query: Mapping[str, str], base_url: str
               ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Answer ``GET /wp-json/wp/v2/posts``: the page of posts and the paging headers."""
    per_page = _integer(query, "per_page", 10, 1, 100)
    page = _integer(query, "page", 1, 1, 10**9)
    orderby = query.get("orderby", "date")
    order = query.get("order", "desc")
    if orderby not in _ORDERBY or order not in ("asc", "desc"):
        raise RestError(400, "rest_invalid_param", "Paramètre(s) non valide(s) : orderby, order")
    after, before = _moment(query, "after"), _moment(query, "before")
    modified_after = _moment(query, "modified_after")
    modified_before = _moment(query, "modified_before")
    authors, categories = _ids(query, "author"), _ids(query, "categories")
    corpus = state.corpus

    def keep(i: int) -> bool:
        published = state.published_timestamp(i)
        if after is not None and published <= after:
            return False
        if before is not None and published >= before:
            return False
        if modified_after is not None or modified_before is not None:
            modified = state.modified_timestamp(i)
            if modified_after is not None and modified <= modified_after:
                return False
            if modified_before is not None and modified >= modified_before:
                return False
        if authors is not None and account_id(corpus.entry(i).wp_author) not in authors:
            return False
        if categories is not None and not categories & {
                category_id(name) for name in corpus.entry(i).categories}:
            return False
        return True

    chosen = [i for i in state.listed(edition) if keep(i)]
    keys: dict[str, Callable[[int], Any]] = {
        "date": lambda i: (state.published_timestamp(i), i),
        "modified": lambda i: (state.modified_timestamp(i), i),
        "id": lambda i: i,
        "title": lambda i: (corpus.title(i).casefold(), i),
        "slug": lambda i: (corpus.slug(i), i),
    }
    if orderby != "date" or order != "desc":
        chosen.sort(key=keys[orderby], reverse=order == "desc")
    total = len(chosen)
    pages = math.ceil(total / per_page)
    if page > max(pages, 1):
        raise RestError(400, "rest_post_invalid_page_number",
                        "Le nombre de pages demandé est plus grand que le nombre de pages "
                        "disponibles.")
    embed = "_embed" in query
    fields = [name for name in query.get("_fields", "").split(",") if name]
    posts = []
    for i in chosen[(page - 1) * per_page: page * per_page]:
        data = post_json(state.article(i), base_url, embed)
        if fields:
            data = _only_fields(data, fields, embed)
        posts.append(data)
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    return posts, headers


def _only_fields(data: dict[str, Any], fields: list[str], embed: bool) -> dict[str, Any]:
    """Keep the ``_fields`` asked for, as WordPress does: ``content.protected`` keeps one key
    of ``content``."""
    kept: dict[str, Any] = {}
    for name, value in data.items():
        if name in fields or (name == "_embedded" and embed):
            kept[name] = value
            continue
        nested = [field[len(name) + 1:] for field in fields if field.startswith(name + ".")]
        if nested and isinstance(value, dict):
            kept[name] = {key: item for key, item in value.items() if key in nested}
    return kept


def discovery(base_url: str) -> dict[str, Any]:
    """Answer ``GET /wp-json/``: the site's name and its routes."""
    return {
        "name": "Notre Continent",
        "description": "Le journal citoyen du continent",
        "url": base_url,
        "home": base_url,
        "gmt_offset": "0",
        "timezone_string": "Africa/Dakar",
        "namespaces": ["oembed/1.0", "wp/v2", "wp-site-health/v1"],
        "routes": {
            "/wp/v2/posts": {"namespace": "wp/v2", "methods": ["GET"]},
            "/wp/v2/posts/(?P<id>[\\d]+)": {"namespace": "wp/v2", "methods": ["GET"]},
            "/wp/v2/categories": {"namespace": "wp/v2", "methods": ["GET"]},
            "/wp/v2/users": {"namespace": "wp/v2", "methods": ["GET"]},
        },
    }


def categories_json(base_url: str) -> list[dict[str, Any]]:
    """Answer ``GET /wp-json/wp/v2/categories``."""
    return [{"id": category_id(name), "name": name, "slug": _category_slug(name),
             "taxonomy": "category", "link": f"{base_url}/category/{_category_slug(name)}/"}
            for name in CATEGORIES]
