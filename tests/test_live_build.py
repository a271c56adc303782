"""The live build a search reader finds at every search: what ``current_build`` finds, with a
``readlink`` instead of a ``realpath`` while ``current`` points at the same build."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from indexer.location import LiveBuild, current_build, current_link, swap_current


def _build(index_dir: Path, name: str) -> Path:
    build = index_dir / "builds" / name
    build.mkdir(parents=True)
    return build


def test_no_current_link_means_no_live_build(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    live = LiveBuild(index_dir)
    assert live() is None
    assert current_build(index_dir) is None


def test_a_plain_directory_named_current_is_no_live_build(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    current_link(index_dir).mkdir(parents=True)
    assert LiveBuild(index_dir)() is None


def test_the_build_current_points_at_is_found_as_its_real_path(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build = _build(index_dir, "20261207T120000Z-1")
    swap_current(index_dir, build)
    live = LiveBuild(index_dir)
    assert live() == current_build(index_dir) == build.resolve()
    assert live() == build.resolve()  # asked again: the same, without resolving it again


def test_a_swapped_build_is_seen_at_the_next_call(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = _build(index_dir, "20261207T120000Z-1")
    second = _build(index_dir, "20261207T120000Z-2")
    swap_current(index_dir, first)
    live = LiveBuild(index_dir)
    assert live() == first.resolve()
    swap_current(index_dir, second)
    assert live() == second.resolve()
    swap_current(index_dir, first)
    assert live() == first.resolve()


def test_a_removed_live_build_is_no_live_build(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build = _build(index_dir, "20261207T120000Z-1")
    swap_current(index_dir, build)
    live = LiveBuild(index_dir)
    assert live() == build.resolve()
    shutil.rmtree(build)
    assert live() is None
    assert current_build(index_dir) is None
    build.mkdir()  # the same name again (a restored backup): found again
    assert live() == current_build(index_dir) == build.resolve()


def test_a_dangling_link_is_no_live_build(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    os.symlink("builds/nowhere", current_link(index_dir))
    assert LiveBuild(index_dir)() is None


def test_an_index_reached_through_a_symlink_gives_the_real_path(tmp_path: Path) -> None:
    real = tmp_path / "data" / "index"
    build = _build(real, "20261207T120000Z-1")
    swap_current(real, build)
    (tmp_path / "mounted").symlink_to(tmp_path / "data")
    through = tmp_path / "mounted" / "index"
    assert LiveBuild(through)() == current_build(through) == build.resolve()


@pytest.mark.parametrize("target", ["builds/a", "builds/b"])
def test_any_link_target_is_resolved_as_current_build_resolves_it(tmp_path: Path,
                                                                  target: str) -> None:
    index_dir = tmp_path / "index"
    _build(index_dir, "a")
    _build(index_dir, "b")
    os.symlink(target, current_link(index_dir))
    assert LiveBuild(index_dir)() == current_build(index_dir) == (index_dir / target).resolve()


def test_a_release_switched_in_with_the_same_build_is_read_from_the_new_release(
        tmp_path: Path) -> None:
    # On a web host the index is reached through the publish directory's ``current``; two
    # releases of one build (an incremental run between them) hold the same link text.
    publish = tmp_path / "publish"
    releases = []
    for name in ("20261207T120000Z-1", "20261207T130000Z-1"):
        index_dir = publish / "releases" / name / "index"
        swap_current(index_dir, _build(index_dir, "20261201T000000Z-1"))
        releases.append(index_dir)

    def switch_to(release: Path) -> None:
        staged = publish / "current.new"
        staged.symlink_to(release.parent.relative_to(publish))
        os.replace(staged, publish / "current")

    switch_to(releases[0])
    live = LiveBuild(publish / "current" / "index")
    assert live() == current_build(releases[0]) == releases[0].resolve() / "builds" / \
        "20261201T000000Z-1"
    switch_to(releases[1])
    assert live() == current_build(releases[1]) == releases[1].resolve() / "builds" / \
        "20261201T000000Z-1"
    shutil.rmtree(releases[0].parent)  # the old release pruned: still the new one
    assert live() == releases[1].resolve() / "builds" / "20261201T000000Z-1"
