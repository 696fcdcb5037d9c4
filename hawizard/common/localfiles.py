"""Atomic writes of files on this machine (saved presets, rendered files, run state, reports).

The file appears whole or not at all, with its final mode from the first byte; a file it
replaces is kept beside it with a timestamp. The node side of the same rule lives in
hawizard/sessions/filewrite.py.

Symbolic links are never followed below the directory the caller names: a link at the file's
own name is refused (writing "through" it would truncate or replace whatever it points to, and
keep that file's mode), and so is a link among the subdirectories created or entered below
``root`` (``render -o DIR`` must not write outside DIR because ``DIR/srv1`` is a link). The
walk uses directory descriptors and ``O_NOFOLLOW`` (open(2)), so a link swapped in between a
check and the write is refused too. Failures raise ``LocalWriteError``: an ``InputError`` (the
CLI exits 2 naming the path) that is also an ``OSError`` (for callers that catch those).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import time
from pathlib import Path

from hawizard.common.errors import InputError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class LocalWriteError(InputError, OSError):
    """A local file could not be written; ``str()`` names the path and the reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str, err: int = errno.EIO) -> None:
        OSError.__init__(self, err, reason)
        self.path = str(path)
        self.message = f"cannot write {path}: {reason}"

    def __str__(self) -> str:
        return self.message


def backup_name(path: Path, when: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(when if when is not None else time.time()))
    return path.with_name(f"{path.name}.{stamp}.hawizard~")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _open_root(root: Path) -> int:
    """Open (creating it and its parents if needed) the directory the caller named; links in it are followed."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise LocalWriteError(root, "exists and is not a directory", errno.ENOTDIR) from None
    except OSError as exc:
        raise LocalWriteError(root, _reason(exc), exc.errno or errno.EIO) from None
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise LocalWriteError(root, _reason(exc), exc.errno or errno.EIO) from None


def _enter(dir_fd: int, name: str, shown: Path) -> int:
    """Enter (creating it 0755 if missing) subdirectory ``name`` of ``dir_fd``, never through a link."""
    try:
        os.mkdir(name, 0o755, dir_fd=dir_fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise LocalWriteError(shown, _reason(exc), exc.errno or errno.EIO) from None
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                is_link = stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
            except OSError:
                is_link = False
            if is_link:
                raise LocalWriteError(shown, "is a symbolic link; hawizard does not write through links below "
                                             "the directory you name", errno.ELOOP) from None
            raise LocalWriteError(shown, "exists and is not a directory", errno.ENOTDIR) from None
        raise LocalWriteError(shown, _reason(exc), exc.errno or errno.EIO) from None


def _parent_fd(path: Path, root: Path | None) -> int:
    """A descriptor of ``path``'s directory, reached from ``root`` without following links below it."""
    if root is None:
        return _open_root(path.parent)
    try:
        rel = path.parent.relative_to(root)
    except ValueError:
        raise LocalWriteError(path, f"is not under {root}", errno.EINVAL) from None
    if any(part in ("..", ".") for part in rel.parts):
        raise LocalWriteError(path, f"leaves {root}", errno.EINVAL)
    fd = _open_root(root)
    shown = root
    for part in rel.parts:
        shown = shown / part
        try:
            nxt = _enter(fd, part, shown)
        finally:
            os.close(fd)
        fd = nxt
    return fd


def _same_content(dir_fd: int, name: str, data: bytes, mode: int) -> bool:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != mode or st.st_size != len(data):
            return False
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read() == data
    finally:
        os.close(fd)


def _copy_backup(dir_fd: int, name: str, backup: str) -> None:
    """Keep the file being replaced (content and mode) as ``backup``, beside it."""
    src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        st = os.fstat(src)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for n in range(100):  # a second backup within the same second gets a number
            candidate = backup if n == 0 else backup.replace(".hawizard~", f".{n}.hawizard~")
            try:
                dst = os.open(candidate, flags, stat.S_IMODE(st.st_mode), dir_fd=dir_fd)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, f"too many backups named {backup}")
        backup = candidate
        try:
            os.fchmod(dst, stat.S_IMODE(st.st_mode))
            while chunk := os.read(src, 1 << 20):
                os.write(dst, chunk)
        finally:
            os.close(dst)
        os.utime(backup, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dir_fd, follow_symlinks=False)
    finally:
        os.close(src)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, backup: bool = True,
                 root: Path | None = None) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path. Unchanged content is not rewritten.

    ``root``: the directory the caller was given (``render -o DIR``); the subdirectories between
    it and ``path`` are created as needed and must not be symbolic links. Without ``root``, the
    file's own directory is that root. A symbolic link at ``path`` itself is always refused.
    """
    path = Path(path)
    if root is not None:
        root = Path(root)
    name = path.name
    if not name or name in (".", ".."):
        raise LocalWriteError(path, "is not a file name", errno.EINVAL)
    dir_fd = _parent_fd(path, root)
    try:
        try:
            st = os.lstat(name, dir_fd=dir_fd)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise LocalWriteError(path, _reason(exc), exc.errno or errno.EIO) from None
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise LocalWriteError(path, "is a symbolic link; name the file itself (hawizard does not write "
                                        "through links)", errno.ELOOP)
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise LocalWriteError(path, "exists and is not a regular file", errno.EEXIST)
        if st is not None and _same_content(dir_fd, name, data, mode):
            return path
        tmp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                         dir_fd=dir_fd)
        except OSError as exc:
            raise LocalWriteError(path, _reason(exc), exc.errno or errno.EIO) from None
        try:
            os.fchmod(fd, mode)  # the umask may have narrowed it; never widened beyond mode
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if backup and st is not None:
                _copy_backup(dir_fd, name, backup_name(path).name)
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException as exc:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass
            if isinstance(exc, OSError) and not isinstance(exc, LocalWriteError):
                raise LocalWriteError(path, _reason(exc), exc.errno or errno.EIO) from None
            raise
        return path
    finally:
        os.close(dir_fd)
