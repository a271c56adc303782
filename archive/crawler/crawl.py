"""One crawl run: discover every site, fetch what is new or changed, archive it, report.

The run's queue lives in the archive (``Archive.enqueue``/``pending``/``mark_done``), so a run
killed at any point is resumed by the next one without losing or repeating an article. Fetching
and parsing happen in a small worker pool; every archive write happens on the calling thread,
one transaction per URL (an ``Archive`` belongs to one thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import zip_longest
from pathlib import Path

import httpx

from archive.config import Settings
from archive.crawler.deadline import DeadlineTransport
from archive.crawler.discovery import SiteDiscoverer, SiteDiscovery, read_robots
from archive.crawler.editions import MAX_SITES, edition_matcher, editions_linked
from archive.crawler.fetcher import Fetcher, FetchResult, user_agent
from archive.crawler.inflate import ACCEPT_ENCODING
from archive.crawler.politeness import HostScheduler
from archive.crawler.report import CrawlReport, RunJournal
from archive.crawler.rest_facts import apply_rest_facts, rest_facts
from archive.crawler.revisits import RevisitCandidate, plan_revisits
from archive.crawler.robots import RobotsRules
from archive.crawler.runlock import CrawlLock
from archive.crawler.urls import is_article_url, links_in, seed_site, site_of
from archive.errors import NotAnArticle, PageRefused, SiteUnreachable, StoreError
from archive.french import os_reason
from archive.models import Article, RestFacts
from archive.store import COMPLETE, Archive, FetchState, FrontierItem

PARTIAL = "partial"
"""The status of a run whose listings did not cover every site (no withdrawal by absence)."""

ProgressCallback = Callable[[int, int], None]
"""Called with (URLs done, URLs known so far) as the run advances."""


@dataclass
class _Task:
    item: FrontierItem
    conditional: FetchState | None


@dataclass
class _Done:
    item: FrontierItem
    fetch: FetchResult | None = None
    article: Article | None = None
    problem: tuple[str, str] | None = None
    links: list[str] = field(default_factory=list)
    parse_cpu: float = 0.0
    disagreements: list[dict[str, str]] = field(default_factory=list)


def crawl(
    seeds: Sequence[str],
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    progress: ProgressCallback | None = None,
    max_articles: int | None = None,
    report_path: Path | None = None,
) -> CrawlReport:
    """Crawl the sites of SEEDS into the archive of SETTINGS and return the run report.

    Raises CrawlLocked, before anything is written, while another crawl of it is running.
    """
    sites = list(dict.fromkeys(seed_site(seed) for seed in seeds))
    try:
        with (CrawlLock(settings.database_path.parent),
              Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive):
            crawler = Crawler(
                archive, sites, settings, client=client, progress=progress,
                max_articles=max_articles,
            )
            return crawler.run(report_path)
    except OSError as exc:
        # The run's journal and report (the archive's own files raise StoreError already).
        raise StoreError(
            f"impossible d'écrire dans {settings.database_path.parent} ({os_reason(exc)}) ; "
            "libérez de l'espace disque et relancez la collecte : elle reprend où elle s'est "
            "arrêtée",
            path=str(settings.database_path.parent)) from exc


class Crawler:
    """Runs one crawl over SITES into ARCHIVE; use once, via ``run``."""

    def __init__(
        self,
        archive: Archive,
        sites: Sequence[str],
        settings: Settings,
        *,
        client: httpx.Client | None = None,
        progress: ProgressCallback | None = None,
        max_articles: int | None = None,
        backoff: float = 0.5,
        retry_after_cap: float = 60.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.archive = archive
        self.seeds = list(sites)
        self.sites = list(sites)
        self.site_set = frozenset(self.sites)
        self.settings = settings
        self.progress = progress
        self.max_articles = max_articles
        self.scheduler = HostScheduler(settings.crawl_delay)
        self.robots: dict[str, RobotsRules] = {}
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(10.0, read=30.0),
            follow_redirects=False,
            transport=DeadlineTransport(
                limits=httpx.Limits(max_connections=settings.crawl_concurrency + 2)),
        )
        self.client.headers["User-Agent"] = user_agent(settings.contact_url)
        # Only what the fetcher decodes itself, under the page cap.
        self.client.headers["Accept-Encoding"] = ACCEPT_ENCODING
        self.fetcher = Fetcher(
            self.client, self.scheduler, max_bytes=settings.max_page_bytes,
            refuse=self._refusal, backoff=backoff, retry_after_cap=retry_after_cap,
        )
        self._withdrawn_urls: set[str] = set()
        self._archived_sites: set[str] = set()
        self.clock = clock or _utc_now
        self._unsignalled: dict[str, tuple[datetime, date | None]] = {}
        self._revisits: set[str] = set()
        self._rest: dict[str, RestFacts] = {}
        self._withheld: set[str] = set()
        self._known = 0
        self._done = 0
        self._requested = 0

    # ---- the run

    def run(self, report_path: Path | None = None) -> CrawlReport:
        """Discover, fetch and archive; finish the run and write its report."""
        try:
            return self._run(report_path)
        finally:
            if self._own_client:
                self.client.close()

    def _run(self, report_path: Path | None) -> CrawlReport:
        archive = self.archive
        run_id, resumed = self._start_or_resume()
        started = archive.crawl_state.run(run_id)
        report = CrawlReport(
            run_id=run_id, seeds=list(self.seeds), resumed=resumed,
            started_at=started.started_at if started else datetime.now(UTC),
        )
        journal = RunJournal(self.settings.reports_dir / f"crawl-{run_id}.journal.jsonl")
        if resumed:
            counts, errors, self._done = journal.load(archive.crawl_state.done_urls(run_id))
            report.counts.update(counts)
            report.errors.extend(errors)
            report.notes.append(f"resumed run {run_id} after an interruption")
        cpu = {"parse": 0.0, "store": 0.0}
        report.cpu_seconds = cpu
        try:
            found = self._discover(run_id, report)
            complete = all(site.complete for site in found)
            stopped = self._drain(run_id, report, journal, cpu)
            status = COMPLETE if complete and not stopped else PARTIAL
            if stopped:
                report.notes.append(f"stopped after {self.max_articles} articles (--max-articles)")
            if status == COMPLETE:
                self._withdraw_unlisted(run_id, report)
            else:
                report.notes.append(
                    "listings incomplete: no article withdrawn for being unlisted this run"
                )
            report.status = status
            report.finished_at = datetime.now(UTC)
            archive.crawl_state.finish_run(run_id, status=status, counts=dict(report.counts),
                               errors=report.errors)
            report.write(report_path or self.settings.reports_dir / f"crawl-{run_id}.json")
            journal.remove()
        finally:
            journal.close()
        return report

    def _start_or_resume(self) -> tuple[int, bool]:
        archive = self.archive
        unfinished = archive.crawl_state.unfinished_run()
        if unfinished is not None:
            previous = archive.crawl_state.run(unfinished)
            if previous is not None and sorted(previous.seeds) == sorted(self.sites):
                return unfinished, True
            archive.crawl_state.finish_run(unfinished, status="abandoned", counts={}, errors=[])
        return archive.crawl_state.start_run(self.sites), False

    # ---- discovery

    def _discover(self, run_id: int, report: CrawlReport) -> list[SiteDiscovery]:
        found = [SiteDiscovery(site) for site in self.sites]
        with ThreadPoolExecutor(self.settings.crawl_concurrency) as pool:
            list(pool.map(self._discover_site, found))
            editions = self._discover_editions(found, pool)
        if not any(site.reachable for site in found):
            if not report.resumed:
                # A resumed run stays open: its queue is kept for when the site answers again.
                self.archive.crawl_state.finish_run(run_id, status="unreachable", counts={},
                                                    errors=[])
            raise SiteUnreachable(
                "aucun site n'a répondu : " + ", ".join(self.sites)
                + " (vérifiez l'adresse et votre connexion, puis relancez la collecte)",
                url=self.sites[0],
            )
        listed: list[tuple[str, str, str | None]] = []
        for group in zip_longest(*(site.articles.items() for site in found)):
            listed.extend((url, "article", hint) for url, hint in (g for g in group if g))
        queued = self._plan_revisits(listed, report)
        self.archive.crawl_state.enqueue(run_id, queued)
        self.archive.crawl_state.mark_listed(run_id, (url for url, _, _ in listed))
        crawled = {site.site for site in found if site.reachable and site.robots is not None
                   and (site.robots.allow_all or site.robots.parsed is not None)}
        rechecks = self._rechecks(run_id, {url for url, _, _ in listed}, crawled)
        new_editions = [site for site in editions if site not in self._archived_sites]
        report.editions = {"given": list(self.seeds), "found": editions, "new": new_editions}
        report.notes.extend(f"new edition found: {site}" for site in new_editions)
        self._known = len(queued) + rechecks
        report.counts["discovered"] += len(listed)
        for site in found:
            for url, post in site.rest_posts.items():
                self._rest[url] = rest_facts(post.modified, post.title, site.categories_of(url))
            self._withheld.update(site.withheld)
            report.counts["withheld"] += len(site.withheld)
            report.sites.append(site.to_json())
            report.counts["skipped_by_robots"] += site.skipped_by_robots
            report.notes.extend(site.notes)
            for problem in site.errors:
                report.error(problem["url"], problem["kind"], problem["detail"])
            if not site.reachable:
                report.error(site.site, "unreachable", "the site did not answer robots.txt")
        return found

    def _plan_revisits(self, listed: list[tuple[str, str, str | None]],
                       report: CrawlReport) -> list[tuple[str, str, str | None]]:
        """Return what to queue: every listed URL except the archived articles nothing dates,
        of which only the revisit budget's most overdue follow (new articles come first)."""
        self._unsignalled = self.archive.crawl_state.unsignalled_articles()
        candidates = [RevisitCandidate(url, *self._unsignalled[url])
                      for url, _, hint in listed if hint is None and url in self._unsignalled]
        plan = plan_revisits(candidates, self.clock(), self.settings.revisit_schedule,
                             self.settings.revisit_budget)
        self._revisits = set(plan.chosen)
        report.revisits = plan.to_json()
        unsignalled = {candidate.url for candidate in candidates}
        first = [item for item in listed if item[0] not in unsignalled]
        return first + [(url, "article", None) for url in plan.chosen]

    def _discover_editions(self, found: list[SiteDiscovery],
                           pool: ThreadPoolExecutor) -> list[str]:
        """Add the editions the sites' home pages link to (and theirs), each its own site."""
        is_edition = edition_matcher(self.settings.edition_hosts)
        added: list[str] = []
        frontier = list(found)
        while frontier and len(self.sites) < MAX_SITES:
            batch: list[str] = []
            for site in frontier:
                if site.home_page is not None:
                    batch.extend(editions_linked(site.home_page, site.site + "/", is_edition,
                                                 [*self.sites, *batch]))
            batch = batch[: MAX_SITES - len(self.sites)]
            if not batch:
                break
            self.sites.extend(batch)
            self.site_set = frozenset(self.sites)
            frontier = [SiteDiscovery(site) for site in batch]
            list(pool.map(self._discover_site, frontier))
            found.extend(frontier)
            added.extend(batch)
        return added

    def _discover_site(self, found: SiteDiscovery) -> None:
        try:
            self._discover_channels(found)
        except Exception as exc:  # noqa: BLE001 - one site's surprise must not stop the others
            found.error(found.site, "internal", f"discovery stopped: {type(exc).__name__}: {exc}")

    def _discover_channels(self, found: SiteDiscovery) -> None:
        rules, answer = read_robots(self.fetcher, found.site)
        found.requests += 1
        if rules is None:
            return
        found.robots = rules
        self.robots[found.site] = rules
        self.scheduler.set_delay(found.site, rules.crawl_delay)
        if answer.error == "offsite":
            found.error(found.site, "offsite_redirect",
                        f"{found.site} redirects elsewhere ({answer.detail}): crawl the address "
                        "it redirects to instead")
            return
        if not rules.allow_all and rules.parsed is None:
            found.error(f"{found.site}/robots.txt", "robots_unavailable", rules.note)
            return
        SiteDiscoverer(self.fetcher, found).run()

    def _rechecks(self, run_id: int, listed: set[str], crawled: set[str]) -> int:
        """Queue archived articles no listing named (a 404/410 tells they were withdrawn)."""
        queued: list[tuple[str, str, str | None]] = []
        foreign: set[str] = set()
        for article in self.archive.reads.iter_addresses():
            url = article.fetched_url or article.url
            site = site_of(url)
            self._archived_sites.add(site)
            if site not in self.site_set:
                foreign.add(site)
                continue
            if article.withdrawn:
                self._withdrawn_urls.add(url)
            elif url not in listed and site in crawled:
                queued.append((url, "recheck", None))
        self._foreign_sites = foreign
        return self.archive.crawl_state.enqueue(run_id, queued) if queued else 0

    def _withdraw_unlisted(self, run_id: int, report: CrawlReport) -> None:
        if self._foreign_sites:
            report.notes.append(
                "the archive also holds articles of " + ", ".join(sorted(self._foreign_sites))
                + ": withdrawal by absence skipped (crawl every site in one run to enable it)"
            )
            return
        withdrawn = self.archive.articles.withdraw_unlisted(
            run_id, after_runs=self.settings.withdraw_after_runs, when=datetime.now(UTC)
        )
        report.counts["withdrawn"] += len(withdrawn)

    # ---- fetching and archiving

    def _drain(
        self, run_id: int, report: CrawlReport, journal: RunJournal, cpu: dict[str, float]
    ) -> bool:
        """Process the run's queue until empty; return True if stopped by --max-articles."""
        cap = self.settings.crawl_concurrency
        in_flight: dict[Future[_Done], str] = {}
        busy_sites: set[str] = set()
        waiting: list[FrontierItem] = []
        with ThreadPoolExecutor(cap) as pool:
            try:
                while True:
                    limit_reached = self._limit_reached()
                    if not waiting and not in_flight:
                        if limit_reached:
                            return bool(self.archive.crawl_state.pending(run_id, limit=1))
                        waiting = self.archive.crawl_state.pending(run_id, limit=500)
                        if not waiting:
                            return False
                    if limit_reached:
                        waiting.clear()
                    for item in list(waiting):
                        if len(in_flight) >= cap or self._limit_reached():
                            break
                        site = site_of(item.url)
                        if site in busy_sites:
                            continue
                        waiting.remove(item)
                        task = self._plan(item)
                        if task is None:
                            self._finish(run_id, _Done(item), report, journal, cpu)
                            continue
                        self._requested += 1
                        busy_sites.add(site)
                        in_flight[pool.submit(self._work, task)] = site
                    if not in_flight:
                        continue
                    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in finished:
                        busy_sites.discard(in_flight.pop(future))
                        self._finish(run_id, future.result(), report, journal, cpu)
            except BaseException:
                for future in in_flight:
                    future.cancel()
                raise

    def _limit_reached(self) -> bool:
        return self.max_articles is not None and self._requested >= self.max_articles

    def _plan(self, item: FrontierItem) -> _Task | None:
        """Decide how to fetch ITEM: None when the listing shows it unchanged (no request)."""
        state = self.archive.crawl_state.fetch_state(item.url)
        withdrawn = item.url in self._withdrawn_urls
        if withdrawn and item.kind != "article":
            return None
        if (item.hint is None and item.kind != "recheck" and not withdrawn
                and item.url in self._unsignalled and item.url not in self._revisits):
            return None  # archived, nothing says it changed, not due this run
        if (state is not None and not withdrawn and item.hint is not None
                and state.hint == item.hint and state.status in (200, 304)
                and state.article_id is not None):
            return None
        return _Task(item, None if withdrawn else state)

    def _work(self, task: _Task) -> _Done:
        """Fetch and parse one URL (runs in a worker thread; touches no archive)."""
        from archive.parser import parse_page

        done = _Done(task.item)
        state = task.conditional
        try:
            done.fetch = self.fetcher.fetch(
                task.item.url,
                etag=state.etag if state else None,
                last_modified=state.last_modified if state else None,
            )
            capture = done.fetch.capture
            if capture is None or capture.status != 200:
                return done
            started = time.thread_time()
            try:
                done.article = parse_page(
                    capture.body, capture.final_url or capture.url, capture.header("content-type")
                )
            except PageRefused as exc:
                done.problem = ("refused", str(exc))
            except NotAnArticle as exc:
                done.problem = ("not_article", str(exc))
            facts = self._rest.get(task.item.url)
            if done.article is not None and facts is not None:
                done.article, done.disagreements = apply_rest_facts(done.article, facts)
            done.links = [
                link for link in links_in(capture.body, capture.url, self.site_set)
                if is_article_url(link) and link not in self._withheld
            ]
            done.parse_cpu = time.thread_time() - started
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop the crawl
            done.problem = ("internal", f"{type(exc).__name__}: {exc}")
        return done

    def _finish(
        self, run_id: int, done: _Done, report: CrawlReport, journal: RunJournal,
        cpu: dict[str, float],
    ) -> None:
        """Archive one outcome (one transaction), count it, journal it, advance the progress."""
        started = time.thread_time()
        cpu["parse"] += done.parse_cpu
        counts, error = self._archive_outcome(run_id, done, journal)
        cpu["store"] += time.thread_time() - started
        report.counts.update(counts)
        report.disagreements.extend(done.disagreements)
        for note in done.fetch.notes if done.fetch else []:
            report.notes.append(f"{done.item.url}: {note}")
        if error is not None:
            report.errors.append(error)
            report.counts["errors"] += 1
        self._done += 1
        if self.progress is not None:
            self.progress(self._done, max(self._known, self._done))

    def _archive_outcome(
        self, run_id: int, done: _Done, journal: RunJournal
    ) -> tuple[list[str], dict[str, str] | None]:
        archive = self.archive
        url = done.item.url
        fetch = done.fetch
        counts: list[str] = []
        error: dict[str, str] | None = None
        with archive.transaction():
            if fetch is None:
                if done.problem is not None:
                    error = _problem(url, *done.problem)
                    outcome = "error"
                else:
                    counts, outcome = ["not_requested", "unchanged"], "not_requested"
            elif fetch.capture is None:
                outcome = fetch.error or "error"
                if fetch.error == "robots":
                    counts = ["skipped_by_robots"]
                else:
                    error = _problem(url, fetch.error or "fetch_failed", fetch.detail)
                    archive.crawl_state.record_fetch(url, status=None, error=fetch.error,
                                         fetched_at=datetime.now(UTC))
            else:
                counts, outcome, error = self._archive_capture(run_id, done)
            archive.crawl_state.mark_done(run_id, url, outcome)
            if done.links:
                new = archive.crawl_state.enqueue(run_id, ((link, "link",
                                                            None) for link in done.links))
                if new:
                    counts.append("discovered")
                    self._known += new
            # Journalled before the commit: a kill between the two leaves the URL to do again
            # and its journal line replaced then (the journal keeps each URL's last line),
            # while the other order could lose the counts of an outcome already committed.
            journal.record(url, [*counts, *(["errors"] if error else [])], error)
        return counts, error

    def _archive_capture(
        self, run_id: int, done: _Done
    ) -> tuple[list[str], str, dict[str, str] | None]:
        archive = self.archive
        url = done.item.url
        assert done.fetch is not None and done.fetch.capture is not None
        capture = done.fetch.capture
        status = capture.status
        when = capture.fetched_at
        validators = {"etag": capture.header("etag"),
                      "last_modified": capture.header("last-modified")}
        if status == 304:
            archive.crawl_state.record_fetch(url, status=304, hint=done.item.hint, fetched_at=when)
            return ["not_modified", "unchanged"], "not_modified", None
        if status in (404, 410):
            archive.crawl_state.record_fetch(url, status=status, fetched_at=when)
            article_id = archive.articles.mark_withdrawn(url, when=when, reason=f"HTTP {status}")
            if article_id is not None:
                return ["withdrawn"], "withdrawn", None
            return [], "gone", _problem(url, "not_found", f"HTTP {status}")
        if status != 200:
            archive.crawl_state.record_fetch(url, status=status, error=f"HTTP {status}",
                                             fetched_at=when)
            return [], "error", _problem(url, "http_status", f"HTTP {status}")
        capture_id = archive.captures.store_capture(capture, run_id)
        if done.article is None:
            kind, detail = done.problem or ("not_article", "no article found")
            if kind == "not_article":
                archive.crawl_state.record_fetch(url, status=200, hint=done.item.hint,
                                                 fetched_at=when,
                                     **validators)
                return ["fetched", "not_article"], "not_article", None
            archive.crawl_state.record_fetch(url, status=200, error=kind, fetched_at=when)
            return ["fetched"], "error", _problem(url, kind, detail)
        claimed = self._claimed_by_another_site(done.article)
        if claimed is not None:
            archive.crawl_state.record_fetch(url, status=200, error="canonical_conflict",
                                             fetched_at=when)
            return ["fetched"], "error", _problem(url, "canonical_conflict", claimed)
        saved = archive.articles.save_article(done.article, capture_id=capture_id, seen_at=when)
        facts = self._rest.get(url)
        if facts is not None:
            archive.crawl_state.record_rest_facts(capture.url, facts, when=when)
        archive.crawl_state.record_fetch(url, status=200, hint=done.item.hint, fetched_at=when,
                                         **validators)
        return ["fetched", saved.outcome], saved.outcome, None

    # ---- rules

    def _claimed_by_another_site(self, article: Article) -> str | None:
        """Say why ARTICLE may not be saved: its canonical names another site's article."""
        canonical = article.canonical_url
        if not canonical or site_of(canonical) == site_of(article.url):
            return None
        existing = self.archive.reads.get_article_by_url(canonical)
        owner = existing.fetched_url if existing is not None else None
        if owner is None or site_of(owner) == site_of(article.url):
            return None
        return (f"the page declares the canonical address {canonical}, which is the article "
                f"archived from {site_of(owner)}: not archived (a page of one site never "
                "becomes a version of another site's article)")

    def _refusal(self, url: str) -> str | None:
        """Return why URL must not be fetched ("offsite", "robots"), or None."""
        site = site_of(url)
        if site not in self.site_set:
            return "offsite"
        if url == f"{site}/robots.txt":
            return None
        rules = self.robots.get(site)
        if rules is None or not rules.allows(url):
            return "robots"
        return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _problem(url: str, kind: str, detail: str) -> dict[str, str]:
    return {"url": url, "kind": kind, "detail": detail}

