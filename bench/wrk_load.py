"""Drive the web benchmark's searches with Debian's ``wrk`` instead of Python clients.

The load generator shares the machine's cores with the server, so every millisecond of CPU
it spends on an answer is taken from the server: wrk (C, one event loop a thread, no
inflating of gzip bodies) reads an answer for a small fraction of what the Python clients
spend. ``bench/web.py --client wrk`` writes a Lua script, the pool of searches and each
client's drawn sequence into a temporary folder and runs wrk on them:

- connection ``c`` of wrk plays the Python client of seed ``c``: the same searches in the
  same order (``chooser``), the connections of a wrk thread taking turns at its sequences
  (wrk builds requests a thread at a time, not a connection at a time);
- the Lua ``response`` callback counts the answers a worker already held
  (``X-Archive-Cache: hit``), those nginx served from its cache (``X-Proxy-Cache``) and each
  status; ``done`` prints them with wrk's own counts and latency percentiles as one JSON line.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

WRK = "wrk"
# The line of wrk's output that carries the script's JSON (printed by ``done``).
RESULT_MARK = "WRK-RESULT "
# How many requests a second each sequence is drawn for: beyond it a sequence starts again
# from its beginning (counted, and printed as ``wrapped``). Four times the best rate seen.
DRAWN_RATE = 4000

# {host}, {pool}, {draws} and {threads} are filled in by write_script (braces of Lua doubled).
SCRIPT = """\
-- Written by bench/web.py --client wrk: the benchmark's searches, each answer counted.
local threads = {{}}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

function init(args)
  local headers = {{["Host"] = "{host}", ["Accept-Encoding"] = "gzip"}}
  local pool = {{}}
  for line in io.lines("{pool}") do
    pool[#pool + 1] = wrk.format("GET", line, headers)
  end
  -- This thread's connections play the clients of seeds thread_number, + {threads}, ...
  sequences, positions = {{}}, {{}}
  local seed = 0
  for line in io.lines("{draws}") do
    if seed % {threads} == thread_number then
      local sequence = {{}}
      for n in line:gmatch("%d+") do
        sequence[#sequence + 1] = pool[tonumber(n) + 1]
      end
      sequences[#sequences + 1] = sequence
      positions[#positions + 1] = 1
    end
    seed = seed + 1
  end
  turn, wrapped, held, proxy_held, statuses = 0, 0, 0, 0, {{}}
end

function request()
  turn = turn % #sequences + 1
  local sequence, position = sequences[turn], positions[turn]
  if position > #sequence then
    position, wrapped = 1, wrapped + 1
  end
  positions[turn] = position + 1
  return sequence[position]
end

-- nginx's cache statuses of an answer it served from its cache (REVALIDATED: after a 304).
local proxy_hits = {{HIT = true, REVALIDATED = true, STALE = true, UPDATING = true}}

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  local proxy, archive = nil, nil
  for name, value in pairs(headers) do
    local lower = name:lower()
    if lower == "x-proxy-cache" then proxy = value
    elseif lower == "x-archive-cache" then archive = value end
  end
  if proxy_hits[proxy] then
    proxy_held = proxy_held + 1
  elseif archive == "hit" then
    held = held + 1
  end
end

function done(summary, latency, requests)
  local total_held, total_proxy, total_wrapped, total_statuses = 0, 0, 0, {{}}
  for _, thread in ipairs(threads) do
    total_held = total_held + thread:get("held")
    total_proxy = total_proxy + thread:get("proxy_held")
    total_wrapped = total_wrapped + thread:get("wrapped")
    for status, n in pairs(thread:get("statuses")) do
      total_statuses[status] = (total_statuses[status] or 0) + n
    end
  end
  local parts = {{}}
  for status, n in pairs(total_statuses) do
    parts[#parts + 1] = string.format('"%s": %d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    '{mark}{{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"held": %d, "proxy_held": %d, "wrapped": %d, "statuses": {{%s}}}}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout,
    total_held, total_proxy, total_wrapped, table.concat(parts, ", ")))
end
"""


@dataclass
class WrkRound:
    """What one wrk round measured (latencies in milliseconds)."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    socket_errors: dict[str, int]
    statuses: dict[int, int]
    held: int
    proxy_held: int
    wrapped: int
    cpu_seconds: float
    output: str = field(repr=False)


def write_script(folder: Path, paths: list[str], draw: Callable[[int], Callable[[], str]],
                 clients: int, threads: int, seconds: float, host: str) -> Path:
    """Write wrk's Lua script, the pool of PATHS and each client's drawn sequence into FOLDER
    (client c's sequence drawn by ``draw(c)``, as the Python client of seed c draws) and
    return the script's path."""
    index = {path: n for n, path in enumerate(paths)}
    per_client = max(100, math.ceil(seconds * DRAWN_RATE / clients))
    pool = folder / "pool.txt"
    pool.write_text("".join(f"{path}\n" for path in paths), encoding="ascii")
    draws = folder / "draws.txt"
    with draws.open("w", encoding="ascii") as out:
        for seed in range(clients):
            pick = draw(seed)
            out.write(" ".join(str(index[pick()]) for _ in range(per_client)) + "\n")
    script = folder / "searches.lua"
    script.write_text(SCRIPT.format(host=host, pool=pool, draws=draws, threads=threads,
                                    mark=RESULT_MARK), encoding="ascii")
    return script


def start_round(script: Path, port: int, clients: int, threads: int,
                seconds: float, timeout: float) -> subprocess.Popen[str]:
    """Start wrk with SCRIPT against 127.0.0.1:PORT: CLIENTS connections over THREADS
    threads for SECONDS, each request given up after TIMEOUT seconds."""
    return subprocess.Popen(
        [WRK, "--threads", str(threads), "--connections", str(clients),
         "--duration", f"{max(1, round(seconds))}s", "--timeout", f"{max(1, round(timeout))}s",
         "--latency", "--script", str(script), f"http://127.0.0.1:{port}/"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_round(wrk: subprocess.Popen[str], cpu_before: float, grace: float) -> WrkRound:
    """Wait for WRK to end (GRACE seconds at most) and return what it measured; CPU_BEFORE is
    ``children_cpu()`` taken before it started."""
    output, errors = wrk.communicate(timeout=grace)
    cpu = children_cpu() - cpu_before
    if wrk.returncode != 0:
        raise SystemExit(f"wrk failed ({wrk.returncode}): {errors.strip()[-2000:]}")
    return parse_output(output, cpu)


def parse_output(output: str, cpu_seconds: float) -> WrkRound:
    """Return the round that wrk's OUTPUT (its text, then the script's JSON line) reports."""
    line = next((line for line in output.splitlines() if line.startswith(RESULT_MARK)), None)
    if line is None:
        raise SystemExit(f"wrk printed no result line:\n{output[-2000:]}")
    found = json.loads(line[len(RESULT_MARK):])
    sockets = {name: int(found[name]) for name in ("connect", "read", "write", "timeout")}
    statuses = {int(status): int(n) for status, n in found["statuses"].items()}
    # Every answer but a 200 is an error, as for the Python clients; so is every socket error
    # (wrk counts its statuses above 399 apart, already among those answers).
    failed_answers = sum(n for status, n in statuses.items() if status != 200)
    return WrkRound(
        requests=int(found["requests"]), seconds=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1000, p95_ms=found["p95_us"] / 1000,
        p99_ms=found["p99_us"] / 1000, max_ms=found["max_us"] / 1000,
        errors=failed_answers + sum(sockets.values()), socket_errors=sockets,
        statuses=statuses, held=int(found["held"]), proxy_held=int(found["proxy_held"]),
        wrapped=int(found["wrapped"]), cpu_seconds=cpu_seconds, output=output)


def children_cpu() -> float:
    """Return the CPU seconds this process's finished children have used (wrk's, once it
    has ended and been waited for)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def wait_for(wrk: subprocess.Popen[str], seconds: float, sample: Callable[[], None]) -> None:
    """Call SAMPLE about once a second while WRK runs, for SECONDS at most."""
    deadline = time.monotonic() + seconds
    while wrk.poll() is None and time.monotonic() < deadline:
        sample()
        time.sleep(1.0)
