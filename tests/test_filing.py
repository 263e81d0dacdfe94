"""The content-addressed store never writes outside the data dir."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

from mailbot.filing import SETTLE_FROM, FileStore, extension, safe_filename, sha256

HOSTILE = ["../../etc/x", "..\\..\\win.ini", "a\x00b.pdf", "x" * 300 + ".docx", "/etc/passwd",
           "..", ".", "", "C:\\boot.ini", "活动方案/../../../逃逸.doc", "name.\x00/..jpg"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside(tmp_path, name):
    root = tmp_path / "data"
    store = FileStore(root)
    stored = store.put("files", b"payload " + name.encode("utf-8", "replace"), name)
    target = store.path(stored.path).resolve()
    assert root.resolve() in target.parents
    assert target.read_bytes().startswith(b"payload ")
    assert stored.sha256 == sha256(target.read_bytes())
    assert list(tmp_path.iterdir()) == [root]


@pytest.mark.parametrize("name", HOSTILE)
def test_safe_filename_is_one_component(name):
    safe = safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..") and len(safe.encode()) <= 180


def test_same_content_is_stored_once(tmp_path):
    store = FileStore(tmp_path)
    a = store.put("files", b"same", "一.jpg")
    b = store.put("files", b"same", "二.jpg")
    assert a == b and len(list((tmp_path / "files").rglob("*.jpg"))) == 1


def test_extension_keeps_chinese_names_readable():
    assert extension("活动方案-四川师范大学.DOCX") == ".docx"
    assert extension("无扩展名") == ""
    assert safe_filename("活动方案-四川师范大学.docx") == "活动方案-四川师范大学.docx"


def test_a_staged_blob_is_in_place_only_once_settled(tmp_path):
    store = FileStore(tmp_path / "data")
    mail = b"From: a@b\r\n\r\nhi\r\n"
    staged = store.stage("raw", mail, ".eml")
    assert (staged.stored.sha256, staged.stored.size) == (sha256(mail), len(mail))
    target = store.path(staged.stored.path)
    assert not target.exists() and (tmp_path / "data").joinpath(staged.tmp).exists()
    assert store.settle(staged) == staged.stored
    assert target.read_bytes() == b"From: a@b\r\n\r\nhi\r\n"
    assert store.settle(staged) == staged.stored  # settling again changes nothing
    again = store.stage("raw", b"From: a@b\r\n\r\nhi\r\n", ".eml")  # the same mail twice
    store.settle(again)
    leftovers = [p.name for p in target.parent.iterdir()]
    assert leftovers == [target.name]


def test_settling_a_discarded_blob_fails_loudly(tmp_path):
    store = FileStore(tmp_path / "data")
    staged = store.stage("raw", b"x", ".eml")
    (tmp_path / "data").joinpath(staged.tmp).unlink()
    with pytest.raises(FileNotFoundError):
        store.settle(staged)


def test_sweep_removes_only_old_temp_files(tmp_path):
    import os
    import time

    store = FileStore(tmp_path / "data")
    kept = store.put("raw", b"a record", ".eml")
    old = store.stage("raw", b"staged, then the process was killed", ".eml")
    fresh = store.stage("raw", b"staged by a run still going", ".eml")
    spool = store.spool()
    spool.write(b"half a large mail")
    hour_ago = time.time() - 7200
    for path in (old.tmp, spool.path):
        os.utime(path, (hour_ago, hour_ago))
    assert store.sweep() == 2
    assert store.path(kept.path).exists() and os.path.exists(fresh.tmp)
    assert not os.path.exists(old.tmp) and not os.path.exists(spool.path)
    assert store.sweep() == 0


def _cached_pages(path) -> int:
    """How many of *path*'s pages are in the page cache (mincore on a shared mapping)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype, libc.mmap.argtypes = ctypes.c_void_p, [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    size, page = path.stat().st_size, os.sysconf("SC_PAGE_SIZE")
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
        assert addr not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
        vec = (ctypes.c_ubyte * ((size + page - 1) // page))()
        assert libc.mincore(ctypes.c_void_p(addr), ctypes.c_size_t(size), vec) == 0
        libc.munmap(ctypes.c_void_p(addr), ctypes.c_size_t(size))
    finally:
        os.close(fd)
    return sum(v & 1 for v in vec)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore and fadvise: Linux")
def test_big_blobs_leave_the_page_cache_once_on_disk(tmp_path):
    big = os.urandom(SETTLE_FROM + 123_457)
    plain = tmp_path / "plain"
    plain.write_bytes(big)
    assert _cached_pages(plain) > 0  # written pages stay cached unless dropped
    with open(plain, "rb") as fh:
        os.fsync(fh.fileno())
        os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    if _cached_pages(plain):
        pytest.skip("this file system keeps file pages in memory (tmpfs?)")
    store = FileStore(tmp_path / "data")
    attachment = store.put("files", big, "视频.mp4", durable=False)
    staged = store.stage("raw", b"X" + big, ".eml")
    assert _cached_pages(tmp_path / "data" / staged.stored.path.rpartition("/")[0]
                         / os.path.basename(staged.tmp)) > 0
    original = store.settle(staged)
    small = store.put("files", b"small", "a.txt", durable=False)
    assert _cached_pages(store.path(attachment.path)) == 0
    assert _cached_pages(store.path(original.path)) == 0
    assert store.path(attachment.path).read_bytes() == big  # dropped from memory, not lost
    assert store.path(original.path).read_bytes() == b"X" + big
    assert _cached_pages(store.path(small.path)) == 1  # a small one is left as written
