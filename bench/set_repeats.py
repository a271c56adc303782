"""Count how many drawn answers of the web benchmark would find their matched set's parts kept.

    python bench/set_repeats.py [--articles 100000] [--requests 13000] [--pool 6000]

A results page's total, facets and associated words depend only on its matched set (the
query and the filters), not on its sort, page, page size or folded copies. This replays the
draws of ``bench/web.py``'s sixteen clients (their seeds, uniform and Zipf mixes) for a run's
count of requests, the two workers each getting half the clients' connections: an answer is
drawn when no worker's kept pages hold its address yet (the shared pages hold the whole pool
in 30 s), and it finds its set's parts when its worker drew another answer of the same set
before (with the associated words when it needs them). It prints, per mix and per size of
such a keep (least recently used, per worker), the share of drawn answers that would, and the
share one unbounded keep shared by the workers would serve.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.replica.corpus import Corpus  # noqa: E402
from bench.web import QUERY_POOL, chooser, search_mix  # noqa: E402

# The parameters of a search address that change its page but not its matched set.
PAGE_PARAMETERS = frozenset({"tri", "page", "taille", "mots", "replier"})
CLIENTS = 16
WORKERS = 2
KEEP_SIZES = (256, 1024, 4096)


def set_of(path: str) -> tuple[tuple[str, str], ...]:
    """Return the part of PATH's search that decides its matched set (query and filters)."""
    params = parse_qsl(urlsplit(path).query)
    return tuple(sorted((k, v) for k, v in params if k not in PAGE_PARAMETERS))


def needs_words(path: str) -> bool:
    """Whether PATH's answer shows associated words (the results page, or the API asked)."""
    url = urlsplit(path)
    return url.path == "/recherche" or ("mots", "1") in parse_qsl(url.query)


@dataclass
class Repeats:
    """What one replay of draws found."""

    requests: int = 0
    drawn: int = 0      # answers no kept page held
    set_kept: int = 0   # of those, whose set's total and facets the worker had computed
    all_kept: int = 0   # ... and the associated words too, when the answer shows them


def replay(draws: Iterable[tuple[int, str]], keep_size: int | None) -> Repeats:
    """Replay DRAWS ((worker, path) in arrival order) against a keep of KEEP_SIZE sets per
    worker (None: unbounded)."""
    found = Repeats()
    pages: set[str] = set()
    keeps: dict[int, OrderedDict[tuple[tuple[str, str], ...], bool]] = {}
    for worker, path in draws:
        found.requests += 1
        if path in pages:
            continue
        pages.add(path)
        found.drawn += 1
        keep = keeps.setdefault(worker, OrderedDict())
        key, words = set_of(path), needs_words(path)
        had_words = keep.get(key)
        if had_words is not None:
            found.set_kept += 1
            found.all_kept += had_words or not words
            keep.move_to_end(key)
        keep[key] = bool(had_words) or words
        while keep_size is not None and len(keep) > keep_size:
            keep.popitem(last=False)
    return found


def benchmark_draws(paths: list[str], mix: str, requests: int) -> list[tuple[int, str]]:
    """Return REQUESTS (worker, path) draws of bench/web.py's clients, in a random interleaving
    (client c's connection on worker c % WORKERS)."""
    clients = [chooser(paths, mix, seed) for seed in range(CLIENTS)]
    order = random.Random(1)
    draws = []
    for _ in range(requests):
        client = order.randrange(CLIENTS)
        draws.append((client % WORKERS, clients[client]()))
    return draws


def main() -> None:
    """Print the shares for the uniform and Zipf mixes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=13_000,
                        help="requests of the run replayed (a 30-s uniform run: 13,000)")
    parser.add_argument("--pool", type=int, default=QUERY_POOL)
    args = parser.parse_args()
    paths = search_mix(Corpus(size=args.articles), args.pool)
    print(f"pool of {len(paths)} searches: {len(set(paths))} addresses, "
          f"{len({set_of(p) for p in paths})} matched sets")
    for mix in ("uniform", "zipf"):
        draws = benchmark_draws(paths, mix, args.requests)
        for size in (*KEEP_SIZES, None):
            found = replay(draws, size)
            drawn = max(1, found.drawn)
            print(f"{mix:<8} {found.requests} requests, keep of "
                  f"{'unbounded' if size is None else size:>9} sets a worker: "
                  f"{found.drawn} drawn, set's total and facets kept {found.set_kept} "
                  f"({found.set_kept / drawn:.1%}), with the words it shows {found.all_kept} "
                  f"({found.all_kept / drawn:.1%})")
        shared = replay(((0, path) for _, path in draws), None)
        print(f"{mix:<8} one unbounded keep shared by the workers: set's total and facets kept "
              f"{shared.set_kept} ({shared.set_kept / max(1, shared.drawn):.1%})")


if __name__ == "__main__":
    main()
