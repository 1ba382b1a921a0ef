"""Small file-system jobs every other module shares: atomic writes, exclusive locks, and
the code's git commit. Nothing here knows about runs or data."""

from __future__ import annotations

import fcntl
import functools
import os
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from . import paths


class Locked(RuntimeError):
    """Another process holds the lock."""


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def share_like_the_user(path: Path) -> None:
    """Give a file or folder made by tempfile (0600 / 0700) the permissions the user's umask
    gives anything else, so a group sharing a runs folder on a cluster can read it."""
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~umask())


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half
    of one (temporary file in the same folder, fsync, rename); permissions follow the umask."""
    atomic_write_all([(path, data)])


def atomic_write_all(contents: list[tuple[Path, bytes | str]]) -> None:
    """`atomic_write` for several files that belong together (the checkpoints of a stack of
    runs): every temporary file is written and synced before the first rename, so a kill
    leaves them all old or all new, but for the renames' microseconds."""
    written = []
    try:
        for path, data in contents:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            written.append((Path(tmp), path))
            share_like_the_user(Path(tmp))
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
        for tmp, path in written:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        raise


def remove_temporaries(folder: Path) -> int:
    """Delete the temporary files `atomic_write` left in `folder` when a process died
    between writing and renaming (kill -9 runs no clean-up). Only for a folder whose lock
    the caller holds: another writer's temporary file would be pulled from under it."""
    stale = list(Path(folder).glob(".tmp-*")) if Path(folder).is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


@contextmanager
def exclusive(lock_path: Path, what: str):
    """Hold an exclusive, non-blocking lock on `lock_path` for the block; a second process
    gets `Locked` with a message naming `what` is busy."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    f = open(lock_path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)  # the holder's line, read through our own handle (the path may be gone by now)
        holder = f.read().strip() or "another process"
        f.close()
        raise Locked(f"{what} is in use by another process ({holder}); wait for it or stop it") from None
    except BaseException:
        f.close()
        raise
    try:
        # who holds it, for the message above; the kernel releases the lock when the holder dies
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {socket.gethostname()}")
        f.flush()
        yield
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


@contextmanager
def waiting_lock(lock_path: Path):
    """Hold an exclusive lock on `lock_path`, waiting for another holder to finish."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def held(lock_path: Path) -> bool:
    """Whether another process holds the lock at `lock_path` now (a check only: it does not
    take the lock over or rewrite the holder's name in the file)."""
    with open(lock_path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=paths.PACKAGE_ROOT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(short: bool = False) -> str | None:
    """The commit the checkout paperlib runs from is at now (None outside a git clone)."""
    return _git("rev-parse", *(["--short"] if short else []), "HEAD") or None


def _library_changed() -> bool:
    """Whether tracked files of the library differ from the checkout's commit."""
    return bool(_git("status", "--porcelain", "--untracked-files=no", "--", "paperlib"))


@functools.lru_cache(maxsize=1)
def code_version() -> str | None:
    """The commit of the code this process runs, read once per process ("+dirty" when the
    library's tracked files differed from it): what a run's config.json records. A
    long-lived worker keeps the code it imported while the checkout moves on, so HEAD read
    when a later run starts would name code the worker never ran; processes that live long
    read it when they start (runs._worker_init, reproduce)."""
    commit = git_commit()
    return None if commit is None else commit + ("+dirty" if _library_changed() else "")


def load_yaml(text: str):
    """yaml.safe_load, except that a key given twice in one mapping is an error (safe_load
    keeps the last silently: `seed: 0` then `seed: 1` would train seed 1 without a word)."""
    import yaml

    class UniqueKeys(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node, deep)

    UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return yaml.load(text, Loader=UniqueKeys)
