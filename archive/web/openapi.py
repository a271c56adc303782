"""The OpenAPI 3.1 document of the JSON API, the Atom feed and the exports.

Built from the same limits as the validation (``indexer.results``, ``archive.web.params``), so
the two cannot drift; a test holds its result schemas to the API's answers.
"""

from __future__ import annotations

from typing import Any

from archive import __version__
from archive.web.params import (
    MAX_AUTHOR_CHARS,
    MAX_CATEGORY_CHARS,
    MAX_EDITION_CHARS,
    MAX_EXCLUSIONS,
)
from indexer import results as limits

_ERROR = {"$ref": "#/components/schemas/Error"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}


def search_parameters() -> list[dict[str, Any]]:
    """Return the query parameters shared by every search endpoint."""
    return [
        {"name": "q", "in": "query", "description": "Texte cherché (syntaxe : voir /aide).",
         "schema": {"type": "string", "maxLength": limits.MAX_QUERY_CHARS}},
        {"name": "auteur", "in": "query", "description": "Nom d'auteur, toute graphie.",
         "schema": {"type": "string", "maxLength": MAX_AUTHOR_CHARS}},
        {"name": "edition", "in": "query", "description": "Édition (code du pays : sn, ci, cm…).",
         "schema": {"type": "string", "maxLength": MAX_EDITION_CHARS}},
        {"name": "categorie", "in": "query", "description": "Catégorie (rubrique), toute casse.",
         "schema": {"type": "string", "maxLength": MAX_CATEGORY_CHARS}},
        *({"name": f"sauf_{name}", "in": "query", "explode": True,
           "description": f"{label} à exclure (répétable).",
           "schema": {"type": "array", "maxItems": MAX_EXCLUSIONS,
                      "items": {"type": "string", "maxLength": limit}}}
          for name, label, limit in (("auteur", "Auteur", MAX_AUTHOR_CHARS),
                                     ("edition", "Édition", MAX_EDITION_CHARS),
                                     ("categorie", "Catégorie", MAX_CATEGORY_CHARS))),
        {"name": "du", "in": "query", "description": "Date de publication minimale, incluse.",
         "schema": {"type": "string", "format": "date"}},
        {"name": "au", "in": "query", "description": "Date de publication maximale, incluse.",
         "schema": {"type": "string", "format": "date"}},
        {"name": "tri", "in": "query", "description": "Ordre des résultats.",
         "schema": {"type": "string", "enum": list(limits.SORT_NAMES), "default": "pertinence"}},
        {"name": "page", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": limits.MAX_PAGE, "default": 1}},
        {"name": "mots", "in": "query",
         "description": "1 : ajouter les mots associés (les plus surreprésentés dans les "
                        "résultats) ; la page de résultats les montre toujours.",
         "schema": {"type": "string", "enum": ["0", "1"], "default": "0"}},
        {"name": "taille", "in": "query", "description": "Résultats par page.",
         "schema": {"type": "integer", "minimum": 1, "maximum": limits.MAX_PAGE_SIZE,
                    "default": limits.DEFAULT_PAGE_SIZE}},
    ]


def _without(*names: str) -> list[dict[str, Any]]:
    return [p for p in search_parameters() if p["name"] not in names]


def _compare_parameters() -> list[dict[str, Any]]:
    return [
        {"name": "q", "in": "query", "explode": True,
         "description": "Une recherche à comparer (jusqu'à trois).",
         "schema": {"type": "array", "maxItems": 3,
                    "items": {"type": "string", "maxLength": limits.MAX_QUERY_CHARS}}},
        {"name": "mesure", "in": "query",
         "description": "nombre d'articles, ou part des articles publiés ce mois-là.",
         "schema": {"type": "string", "enum": ["nombre", "part"], "default": "nombre"}},
    ]


def _responses(ok: dict[str, Any], *extra: int) -> dict[str, Any]:
    found: dict[str, Any] = {"200": ok}
    for status in (400, 404, 410, 503):
        if status in extra or status in (400, 503):
            found[str(status)] = {"description": "Erreur", "content": {
                "application/json": {"schema": _ERROR}}}
    return found


_EXPORT_TEXT = {"name": "texte", "in": "query", "required": False,
                "description": "1 : ajoute le texte de chaque article.",
                "schema": {"type": "string", "enum": ["0", "1"]}}


def openapi_document(server_url: str) -> dict[str, Any]:
    """Return the OpenAPI document, with SERVER_URL as the server."""
    json_ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Archive Notre Continent",
            "version": __version__,
            "description": "Recherche plein texte dans l'archive des articles de Notre Continent. "
                           "Lecture seule ; les textes sont ceux de la plateforme.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/search": {"get": {
                "operationId": "search",
                "summary": "Une page de résultats, avec facettes et suggestion.",
                "parameters": search_parameters(),
                "responses": _responses({"description": "Résultats", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SearchResult"}}
                }}),
            }},
            "/recherche": {"get": {
                "operationId": "search_page",
                "summary": "La page de résultats (HTML), mêmes paramètres que /api/search.",
                "parameters": search_parameters(),
                "responses": _responses({"description": "Page", "content": {
                    "text/html": {"schema": {"type": "string"}}}}),
            }},
            "/api/articles/{article_id}": {"get": {
                "operationId": "article",
                "summary": "Un article archivé, sa citation et toutes ses versions.",
                "parameters": [{"name": "article_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 0}}],
                "responses": _responses(json_ok, 404, 410),
            }},
            "/api/authors": {"get": {
                "operationId": "authors",
                "summary": "Tous les auteurs, avec leur nombre d'articles.",
                "responses": _responses(json_ok),
            }},
            "/recherche.atom": {"get": {
                "operationId": "feed",
                "summary": "Flux Atom des articles les plus récents d'une recherche.",
                "parameters": _without("tri", "page", "mots", "taille"),
                "responses": _responses({"description": "Flux", "content": {
                    "application/atom+xml": {"schema": {"type": "string"}}}}),
            }},
            "/recherche.csv": {"get": {
                "operationId": "export_csv",
                "summary": "Tous les résultats d'une recherche en CSV (une ligne par article).",
                "parameters": [*_without("page", "mots", "taille"), _EXPORT_TEXT, {
                    "name": "sep", "in": "query", "required": False,
                    "description": "Séparateur : « ; » pour les tableurs en français.",
                    "schema": {"type": "string", "enum": [",", ";"]}}],
                "responses": _responses({"description": "CSV", "content": {
                    "text/csv": {"schema": {"type": "string"}}}}),
            }},
            "/recherche.json": {"get": {
                "operationId": "export_json",
                "summary": "Tous les résultats d'une recherche en JSON (citations).",
                "parameters": [*_without("page", "mots", "taille"), _EXPORT_TEXT],
                "responses": _responses(json_ok),
            }},
            "/comparer": {"get": {
                "operationId": "compare",
                "summary": "Jusqu'à trois recherches comparées mois par mois (page HTML, SVG).",
                "parameters": _compare_parameters(),
                "responses": _responses({"description": "Page", "content": {
                    "text/html": {"schema": {"type": "string"}}}}),
            }},
            "/comparer.csv": {"get": {
                "operationId": "compare_csv",
                "summary": "Les séries de la comparaison : nombre et part des articles du mois.",
                "parameters": _compare_parameters()[:1],
                "responses": _responses({"description": "CSV", "content": {
                    "text/csv": {"schema": {"type": "string"}}}}),
            }},
            "/changements.atom": {"get": {
                "operationId": "changes_feed",
                "summary": "Flux Atom des modifications, retraits et retours en ligne constatés.",
                "parameters": [
                    {"name": "type", "in": "query", "required": False, "schema": {
                        "type": "string", "enum": ["modification", "retrait", "retour"]}},
                    {"name": "edition", "in": "query", "required": False,
                     "schema": {"type": "string"}}],
                "responses": _responses({"description": "Flux", "content": {
                    "application/atom+xml": {"schema": {"type": "string"}}}}, 400),
            }},
            "/healthz": {"get": {
                "operationId": "health",
                "summary": "État de l'index et du dernier moissonnage.",
                "responses": _responses(json_ok),
            }},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "properties": {
                    "status": {"type": "integer"}, "title": {"type": "string"},
                    "message": {"type": "string"}}}}},
            "Hit": {"type": "object", "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"},
                "title_html": {"type": "string", "description": "HTML échappé, <mark> seulement"},
                "author": {"type": ["string", "null"]},
                "author_key": {"type": ["string", "null"]},
                "author_url": {"type": ["string", "null"]},
                "published": {"type": ["string", "null"], "format": "date"},
                "edition": {"type": ["string", "null"]}, "withdrawn": {"type": "boolean"},
                "original_url": {"type": "string"}, "archived_url": {"type": "string"},
                "api_url": {"type": "string"},
                "snippet": {"type": "string", "description": "HTML échappé, <mark> seulement"},
                "score": {"type": ["number", "null"]}}},
            "Query": {"type": "object", "description": "La recherche telle que demandée.",
                      "properties": {
                          "q": {"type": "string"}, "auteur": _NULLABLE_STRING,
                          "du": _NULLABLE_DATE, "au": _NULLABLE_DATE,
                          "edition": _NULLABLE_STRING, "categorie": _NULLABLE_STRING,
                          **{f"sauf_{name}": {"type": "array", "items": {"type": "string"}}
                             for name in ("auteur", "edition", "categorie")},
                          "tri": {"type": "string", "enum": list(limits.SORT_NAMES)},
                          "page": {"type": "integer"}, "taille": {"type": "integer"}}},
            "Facets": {"type": "object", "properties": {
                "authors": {"type": "array", "items": {"type": "object", "properties": {
                    "key": {"type": "string"}, "name": {"type": "string"},
                    "count": {"type": "integer"}}}},
                "editions": {"type": "array", "items": {"type": "object", "properties": {
                    "edition": {"type": "string"}, "name": {"type": "string"},
                    "count": {"type": "integer"}}}},
                "categories": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "count": {"type": "integer"}}}},
                "years": {"type": "array", "items": {"type": "object", "properties": {
                    "year": {"type": "integer"}, "count": {"type": "integer"}}}},
                "months": {"type": "array", "items": {"type": "object", "properties": {
                    "year": {"type": "integer"}, "month": {"type": "integer"},
                    "count": {"type": "integer"}}}}}},
            "SearchResult": {"type": "object", "description": (
                "La forme JSON d'une page de résultats, la même que `search --json` ; l'API y "
                "ajoute les adresses des résultats et `links`."), "properties": {
                "query": {"$ref": "#/components/schemas/Query"}, "total": {"type": "integer"},
                "pages": {"type": "integer"}, "took_ms": {"type": "number"},
                "suggestion": _NULLABLE_STRING, "message": _NULLABLE_STRING,
                "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                "facets": {"$ref": "#/components/schemas/Facets"},
                "associated": {"type": "array", "description": (
                    "Mots associés : les plus surreprésentés dans les résultats par rapport à "
                    "toute l'archive (log-vraisemblance G²)."), "items": {
                    "type": "object", "properties": {
                        "word": {"type": "string"}, "count": {"type": "integer"},
                        "score": {"type": "number"}}}},
                "links": {"type": "object", "properties": {
                    name: _NULLABLE_STRING for name in ("self", "html", "atom", "next", "prev")
                }}}},
        }},
    }
