"""The shared file-system jobs: atomic writes leave old or new files and no temporaries,
locks are exclusive, say who holds them and are released however the block ends."""

import os
import socket
import stat
import threading

import pytest

from paperlib import files


def test_an_atomic_write_replaces_the_file_with_the_umasks_permissions_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "deep" / "r.json"  # its folder is made
    files.atomic_write(path, "old")
    files.atomic_write(path, b"new")
    assert path.read_text() == "new"
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]
    # tempfile makes 0600 files: the written one has what the umask gives any other file
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~files.umask()


def test_a_failed_group_write_leaves_every_file_old_and_no_temporary(tmp_path):
    first, blocker = tmp_path / "a" / "ckpt.pt", tmp_path / "b"
    files.atomic_write(first, "old")
    blocker.write_text("a file where the second file's folder should be")
    with pytest.raises(OSError):
        files.atomic_write_all([(first, "new"), (blocker / "ckpt.pt", "new")])
    assert first.read_text() == "old"  # nothing renamed before every temporary file was written
    assert [p.name for p in first.parent.iterdir()] == ["ckpt.pt"]  # the first's temporary file removed


def test_remove_temporaries_deletes_only_what_atomic_write_leaves_behind(tmp_path):
    (tmp_path / ".tmp-abc").write_text("x")
    (tmp_path / ".tmp-def").write_text("y")
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    (tmp_path / "tmp-not-ours").write_text("z")
    assert files.remove_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl", "tmp-not-ours"]
    assert files.remove_temporaries(tmp_path / "missing") == 0


def test_a_held_lock_is_refused_naming_what_and_who_holds_it(tmp_path):
    lock = tmp_path / "run" / "lock"
    for _ in range(2):  # taken twice: the holder line is rewritten, not appended to
        with files.exclusive(lock, "run X"):
            with pytest.raises(files.Locked) as info:
                with files.exclusive(lock, "run X"):
                    pytest.fail("a second holder got the lock")
    holder = f"pid {os.getpid()} on {socket.gethostname()}"
    assert str(info.value) == f"run X is in use by another process ({holder}); wait for it or stop it"
    assert lock.read_text() == holder


def test_a_lock_is_released_when_its_block_raises(tmp_path):
    lock = tmp_path / "lock"
    with pytest.raises(KeyError):
        with files.exclusive(lock, "run"):
            raise KeyError("training failed")
    assert not files.held(lock)
    with files.exclusive(lock, "run"):  # free again
        pass


def test_held_tells_without_taking_the_lock_or_rewriting_its_holder(tmp_path):
    lock = tmp_path / "lock"
    with files.exclusive(lock, "run"):
        before = lock.read_text()
        assert files.held(lock)
        assert files.held(lock)  # the check took nothing over
        assert lock.read_text() == before
    assert not files.held(lock)


def test_a_waiting_lock_excludes_and_waits_for_the_holder(tmp_path):
    lock = tmp_path / "lock"
    with files.waiting_lock(lock):
        with pytest.raises(files.Locked):
            with files.exclusive(lock, "the index"):
                pass
    got = []

    def wait_then_note():
        with files.waiting_lock(lock):
            got.append(1)

    with files.exclusive(lock, "the index"):
        waiter = threading.Thread(target=wait_then_note)
        waiter.start()
        waiter.join(0.3)
        assert not got  # still waiting while the lock is held
    waiter.join()
    assert got == [1]


def test_a_busy_lock_whose_file_is_removed_meanwhile_is_still_locked_and_other_flock_errors_close_it(
        tmp_path, monkeypatch):
    """The holder's line was read by path: a lock file removed between the open and the
    read (a run folder cleaned up) gave FileNotFoundError, not Locked. A flock that fails
    otherwise (ENOLCK on some network file systems) left the file open."""
    import builtins
    import errno

    lock = tmp_path / "lock"
    lock.write_text("pid 1 on elsewhere")
    opened = []

    def tracked_open(*args, **kwargs):
        opened.append(builtins.open(*args, **kwargs))
        return opened[-1]

    def busy_and_removed(f, op):
        lock.unlink()
        raise BlockingIOError(errno.EAGAIN, "busy")

    monkeypatch.setattr(files, "open", tracked_open, raising=False)
    monkeypatch.setattr(files.fcntl, "flock", busy_and_removed)
    with pytest.raises(files.Locked, match=r"run X is in use by another process \(pid 1 on elsewhere\)"):
        with files.exclusive(lock, "run X"):
            pass

    def no_locks(f, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(files.fcntl, "flock", no_locks)
    with pytest.raises(OSError, match="No locks available"):
        with files.exclusive(lock, "run X"):
            pass
    assert len(opened) == 2 and all(f.closed for f in opened)
