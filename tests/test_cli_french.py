"""The command line speaks one language, French, with every option name scripts already use.

Help screens, click's own usage errors, every product error with its documented exit code, the
crawl's summary, counts that agree in number, decimals and dates: all in French. Option names
and JSON keys stay as they were (machines read them).
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import click
import pytest
from french_text import english_words
from search_fixtures import archive_and_index, article
from web_servers import free_port

from archive import french
from archive.cli import COMMANDS
from archive.click_french import MESSAGES, PLURALS
from archive.config import SETTINGS, Settings
from archive.crawler import Crawler
from archive.replica import Corpus, serve_replica
from archive.replica.faults import Faults
from archive.store import Archive

RunCli = Callable[..., tuple[int, str, str]]
STATE = re.compile(r"^(used|partial|absent|failed|refused|not needed)\b")
ROOT = Path(__file__).resolve().parents[1]

@pytest.mark.parametrize("command", ["", *sorted(COMMANDS)])
def test_every_help_screen_is_french(run_cli: RunCli, command: str) -> None:
    code, out, err = run_cli(*filter(None, [command]), "--help")
    assert code == 0, err
    assert out.startswith("Utilisation : python -m archive")
    assert "\nOptions :\n" in out
    assert "Afficher cette aide et quitter." in out
    assert english_words(out) == [], out


def test_top_level_help_lists_commands_and_exit_codes_in_french(run_cli: RunCli) -> None:
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "\nCommandes :\n" in out and "Codes de sortie :" in out
    assert "8  index, collecte ou publication verrouillé" in out
    assert "130  interrompu (Ctrl-C)" in out
    assert "clés en anglais" in out  # machines read --json: its keys do not change


def test_click_catalogue_has_every_message_click_can_print() -> None:
    """A click release that adds a message fails here until the message has its French."""
    singular, plural = set(), set()
    for source in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)
                     and isinstance(a.value, str)]
            if node.func.id == "_" and texts:
                singular.add(texts[0])
            elif node.func.id == "ngettext" and len(texts) == 2:
                plural.add((texts[0], texts[1]))
    assert singular - set(MESSAGES) == set()
    assert plural - set(PLURALS) == set()
    assert "required" in MESSAGES  # passed to _() through a variable, so not seen above


@pytest.mark.parametrize(("args", "says"), [
    (("nope",), "erreur : La commande « nope » n'existe pas."),
    (("search", "--nope"), "erreur : L'option « --nope » n'existe pas."),
    (("crawl",), "erreur : Argument manquant 'ADRESSES...'."),
    (("hide", "3"), "erreur : Option manquante '--reason' / '--motif'."),
    (("search", "x", "--limit", "0"), "0 n'est pas dans l'intervalle 1<=x<=100."),
    (("search", "x", "--limit", "dix"), "« dix » n'est pas un nombre valide."),
    (("search", "x", "--sort", "titre"), "« titre » n'est pas l'une des valeurs"),
    (("crawl", "--report", "/", "http://127.0.0.1:9/"), "Fichier « / » : c'est un répertoire."),
    (("search", "x", "--since", "15/03/2024"), "--since « 15/03/2024 » n'est pas une date"),
])
def test_usage_mistakes_are_told_in_french_with_exit_2(run_cli: RunCli, args: tuple[str, ...],
                                                       says: str) -> None:
    code, out, err = run_cli(*args)
    assert code == 2
    assert out == ""
    assert says in err, err
    assert "Traceback" not in err and english_words(err) == [], err


def test_product_errors_are_told_in_french_with_their_exit_codes(
    run_cli: RunCli, data_dir: Path, tmp_path: Path
) -> None:
    page = tmp_path / "court.html"
    page.write_text("<html><head><title>Brève</title></head><body><p>Trois mots seulement.</p>"
                    "</body></html>", encoding="utf-8")
    closed = f"http://127.0.0.1:{free_port()}/"
    cases = [
        (("parse", str(page)), 3, "erreur : pas un article : "),
        (("parse", str(tmp_path / "absente.html")), 4, "fichier ou répertoire introuvable"),
        (("parse", closed), 4, "connexion impossible"),
        (("parse", "http://[::1"), 2, "erreur : adresse invalide : http://[::1"),
        (("crawl", closed, "--no-index"), 5, "erreur : aucun site n'a répondu"),
        (("search", "santé"), 7, "erreur : aucun index de recherche"),
    ]
    for args, exit_code, says in cases:
        code, _, err = run_cli(*args)
        assert (code, err.count("\n")) == (exit_code, 1), (args, err)
        assert says in err and english_words(err) == [], err
    (data_dir / "archive.sqlite3").write_bytes(b"pas une base SQLite" * 100)
    code, _, err = run_cli("reparse")
    assert code == 6 and "(ce n'est pas une base SQLite)" in err and english_words(err) == [], err


class RawSite:
    """A loopback server that answers robots.txt properly and every other request with PAYLOAD
    (bytes that are not HTTP, a body cut short, a gzip body that is not gzip)."""

    ROBOTS = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 22\r\n"
              b"Connection: close\r\n\r\nUser-agent: *\nAllow: /")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.closing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:  # until close() wakes it up
            client, _ = self.listener.accept()
            with client:
                if self.closing.is_set():
                    return
                asked = client.recv(65536).split(b"\r\n")[0]
                client.sendall(self.ROBOTS if b" /robots.txt " in asked else self.payload)

    def close(self) -> None:
        self.closing.set()
        # Closing a listening socket does not wake a thread waiting in accept(): a last
        # connection does.
        socket.create_connection(self.listener.getsockname(), timeout=30).close()
        self.thread.join(timeout=30)
        self.listener.close()


@pytest.mark.parametrize(("payload", "kind", "says"), [
    (b"\x00\xff pas du HTTP\r\n\r\n", "truncated", "réponse hors du protocole HTTP"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncourt", "truncated",
     "réponse hors du protocole HTTP"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
     b"Content-Length: 10\r\n\r\npas du gzip", "bad_encoding", "corps compressé endommagé"),
])
def test_a_site_sending_garbage_is_reported_in_french(settings: Settings, payload: bytes,
                                                      kind: str, says: str) -> None:
    site = RawSite(payload)
    try:
        with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
            report = Crawler(archive, [site.url], settings, backoff=0.01).run()
    finally:
        site.close()
    assert report.status == "partial"
    details = {error["kind"]: error["detail"] for error in report.errors}
    assert says in details[kind], details
    assert "(détail technique : " in details[kind]  # the library's words, for an expert
    assert [d for d in details.values() if english_words(d)] == []
    assert english_words(report.summary()) == []


def test_unreadable_sitemap_xml_is_located_in_french() -> None:
    from lxml import etree

    with pytest.raises(etree.XMLSyntaxError) as raised:
        etree.fromstring(b"<urlset>\n<url><loc>a&b</loc></url></urlset>")
    said = french.xml_problem(raised.value)
    assert said.startswith("XML mal formé ligne 2, colonne ")
    assert said.endswith("(détail technique : EntityRef: expecting ';')")


def test_unusable_setting_is_explained_in_french(run_cli: RunCli) -> None:
    code, _, err = run_cli("search", "x", env={"ARCHIVE_CRAWL_DELAY": "bientôt"})
    assert code == 2
    assert err.startswith("erreur : ARCHIVE_CRAWL_DELAY='bientôt' n'est pas utilisable "
                          "(« bientôt » n'est pas un nombre) ; Secondes entre deux requêtes")


def test_readme_settings_table_says_what_each_setting_declares() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        row = re.search(rf"^\|\s*`{setting.env}`\s*\|[^|]*\|\s*(.+?)\s*\|$", readme, re.M)
        assert row and row.group(1).startswith(setting.help), setting.env


def test_search_prints_dates_in_french_and_each_snippet_on_one_line(
    run_cli: RunCli, data_dir: Path
) -> None:
    archive_and_index(data_dir, [
        article("marche", "Le marché de Sandaga", "Le marché\nde Sandaga\n\nrouvre ses portes "
                "après les travaux, disent les commerçants du marché.",
                published=date(2024, 3, 1)),
    ])
    code, out, err = run_cli("search", "marché")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("1 résultat pour « marché »")
    assert "Moussa Diop · 1er mars 2024 · Sénégal · https://" in lines[3]
    assert "[marché] de Sandaga rouvre ses portes après les travaux" in lines[4]
    assert len(lines) == 5
    code, out, _ = run_cli("search", "marché", "--json")
    hit = json.loads(out)["hits"][0]
    assert hit["published"] == "2024-03-01" and "title_html" in hit  # machines keep their keys


def test_old_option_names_and_their_french_aliases_give_the_same_search(
    run_cli: RunCli, data_dir: Path
) -> None:
    archive_and_index(data_dir, [
        article(f"pluie-{i}", f"Pluie {i}", f"La pluie tombe sur Dakar, jour {i}.",
                published=date(2024, 1, 1 + i), author="Awa Ndiaye" if i % 2 else "Ibou Fall")
        for i in range(6)
    ])
    english = run_cli("search", "pluie", "--author", "Awa Ndiaye", "--since", "2024-01-02",
                      "--until", "2024-01-06", "--sort", "oldest", "--limit", "2", "--status",
                      "unchanged", "--json")
    french_ = run_cli("search", "pluie", "--auteur", "Awa Ndiaye", "--depuis", "2024-01-02",
                      "--jusqua", "2024-01-06", "--tri", "anciens", "--nombre", "2", "--statut",
                      "inchange", "--json")
    assert english[0] == french_[0] == 0, english[2] + french_[2]
    assert [h["id"] for h in json.loads(english[1])["hits"]] == \
        [h["id"] for h in json.loads(french_[1])["hits"]]
    assert json.loads(english[1])["total"] == 3


def test_search_says_which_filters_left_nothing_when_the_words_alone_find_articles(
    run_cli: RunCli, data_dir: Path
) -> None:
    archive_and_index(data_dir, [
        article("pluie", "Pluie sur Dakar", "La pluie tombe sur Dakar depuis ce matin.",
                published=date(2024, 1, 15)),
    ])
    code, out, err = run_cli("search", "pluie", "--since", "2030-01-01", "--status", "retire")
    assert code == 0, err
    assert out.splitlines()[1] == ("Sans filtre, « pluie » donne 1 résultat ; aucun ne passe les "
                                   "filtres --since « 2030-01-01 » --status « retire ».")
    code, out, _ = run_cli("search", "neige", "--since", "2030-01-01")
    assert code == 0 and out.startswith("0 résultat pour « neige »")
    assert len(out.splitlines()) == 1  # the words alone find nothing: no filter is blamed


def test_crawl_summary_is_french_and_names_a_partial_run(run_cli: RunCli, tmp_path: Path) -> None:
    served = serve_replica(Corpus(6, editions=("sn",)))
    try:
        code, out, err = run_cli("crawl", served.url, "--delay", "0", "--max-articles", "1",
                                 "--report", str(tmp_path / "run.json"))
    finally:
        served.stop()
    assert code == 0, err
    summary, index_line = out.splitlines()
    assert re.fullmatch(r"1 article archivé de 1 site : 1 nouveau, 0 modifié, 0 inchangé, "
                        r"0 retiré ; 0 erreur \(rapport : .+\) \[collecte partielle\]", summary)
    assert re.match(r"index : reconstruction complète : 1 ajouté, 0 mis à jour, "
                    r"0 marqué retiré, 0 invalide ignoré en \d+,\d s ; ", index_line)
    report = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert report["status"] == "partial"  # machines read the report's keys and values
    assert "arrêtée après 1 article (--max-articles)" in report["notes"]
    assert any(note.startswith("listes incomplètes : ") for note in report["notes"])
    assert [english_words(note) for note in report["notes"]] == [[]] * len(report["notes"])
    assert english_words(err) == [], err


def test_crawl_report_gives_page_problems_in_french(settings: Settings) -> None:
    served = serve_replica(Corpus(40, editions=("sn",)), faults=Faults.all(slow_seconds=0.3),
                           listing_page_size=10)
    try:
        with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
            report = Crawler(archive, [served.url], settings, backoff=0.02).run()
    finally:
        served.stop()
    assert {"server_error", "truncated", "oversized", "redirect_loop", "not_found",
            "malformed_xml"} <= {error["kind"] for error in report.errors}  # kinds: machines'
    details = [error["detail"] for error in report.errors] + report.notes
    assert [detail for detail in details if english_words(detail)] == []
    # Each channel's state word (used, partial, failed...) stays English: machines read it.
    channels = [STATE.sub("", said) for site in report.sites for said in site["channels"].values()]
    assert [said for said in channels if english_words(said)] == []


def test_serve_says_in_french_where_it_listens(data_dir: Path) -> None:
    archive_and_index(data_dir, [article("pluie", "Pluie", "La pluie tombe sur Dakar.")])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "archive", "--data-dir", str(data_dir), "serve", "--port",
         str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        said = [server.stderr.readline() for _ in range(2)]  # ours, then the server's, bound
        assert said[0].endswith(f"servi sur http://127.0.0.1:{port}/\n"), said
        assert "serveur de développement" in said[1], said
        assert f"à l'écoute sur http://127.0.0.1:{port} ; Ctrl-C pour arrêter" in said[1], said
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as answer:
            assert answer.status == 200
    finally:
        server.terminate()
        _, rest = server.communicate(timeout=30)
    requests = re.compile(r'\[[^]]*\] "[^"]*"')  # the access log's date and request line
    assert english_words("".join(said) + requests.sub("", rest)) == []


def test_serve_debug_says_its_reloader_and_debugger_lines_in_french(data_dir: Path) -> None:
    archive_and_index(data_dir, [article("pluie", "Pluie", "La pluie tombe sur Dakar.")])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "archive", "--data-dir", str(data_dir), "serve", "--debug",
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    said: list[str] = []
    try:
        assert server.stderr is not None
        for _ in range(12):  # the reloader's child starts the debugger, then gives its code
            said.append(server.stderr.readline())
            if "code du débogueur" in said[-1] or "PIN" in said[-1]:
                break
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=30)
    assert said[0] == f"servi sur http://127.0.0.1:{port}/ (rechargement et débogueur)\n"
    assert " * débogueur actif\n" in said and "code du débogueur" in said[-1], said
    assert english_words("".join(said)) == [], said


@pytest.mark.parametrize("command", ["serve", "demo", "replica"])
def test_a_port_already_taken_is_told_in_french_with_exit_2(run_cli: RunCli,
                                                            command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, out, err = run_cli(command, "--port", port)
    assert (code, out) == (2, ""), err
    assert f"erreur : le port {port} de 127.0.0.1 est déjà pris" in err
    assert err.count("\n") == 1 and english_words(err) == [], err


def test_counts_agree_and_numbers_and_dates_are_written_the_french_way() -> None:
    assert [french.count(n, "erreur") for n in (0, 1, 2)] == ["0 erreur", "1 erreur",
                                                               "2 erreurs"]
    assert french.count(12345, "article nouveau", "articles nouveaux") == \
        "12\u202f345 articles nouveaux"
    assert french.decimal(0.62) == "0,6" and french.decimal(1234.5) == "1\u202f234,5"
    assert french.day(date(2024, 3, 1)) == "1er mars 2024"
    assert french.moment(datetime(2026, 12, 6, 9, 5, tzinfo=UTC)) == \
        "6 décembre 2026 à 9 h 05 UTC"
    assert french.os_reason(FileNotFoundError(2, "No such file or directory")) == \
        "fichier ou répertoire introuvable"
