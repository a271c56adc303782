"""A search-indexed archive of the Notre Continent citizen-journalism platform.

Data flows one way: harvest (``archive.crawler``) -> parse (``archive.parser``) ->
store (``archive.store``) -> index (``indexer``) -> serve (``archive.web``).
"""

__version__ = "0.1.0"
