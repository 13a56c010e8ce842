"""Write a file so that it is, at every instant, wholly old or wholly new (`kharden fix -i`, `-o DIR`, reports).

`write_atomic` writes a temporary file beside the target, fsyncs it, renames it over the target with `os.replace`
(atomic on POSIX and Windows within one filesystem) and fsyncs the directory so the rename survives a power cut.
A crash or `kill -9` at any moment leaves the target untouched or fully replaced, never half-written.
`write_files` writes a run's files (`fix -i`, `fix -o DIR`): each directory made and resolved once.

Deliberate choices (see SECURITY.md):
- Symlinks are written *through*: the link's final target gets the new content and the link stays a link, so
  a manifest kept in a shared directory and linked from elsewhere is hardened where it lives. The temporary file is
  made in the target's directory (a rename cannot cross filesystems).
- Mode bits are kept; the owner and group are kept where the OS permits (as root, or the same user). Hard links,
  extended attributes and ACLs are not kept: the rename gives the path a new inode, as every editor's save does.
  A new file is created with mode 0666 less the umask, as any program's `open` makes it.
- A file whose content would not change is not rewritten (its mtime and inode stay).
- Temporary files are named `.<name>.kharden-<pid>-<random>.tmp`: hidden, never a manifest suffix, and carrying the
  writer's process id. `sweep_stale_temps` removes only files of this pattern whose writer is no longer running, so a
  concurrent kharden run in the same directory is left alone. `write_atomic` sweeps each directory once per process,
  so the run after a crash cleans up what the crashed run left.
"""

from __future__ import annotations

import os
import re
import secrets
import stat

from kharden.errors import KhardenError

TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.kharden-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")
_swept: set[str] = set()
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def write_files(texts: dict[str, str], *, durable: bool, make_dirs: bool = False) -> None:
    """Write each path's text atomically (`write_atomic`), in order. `make_dirs` (`-o DIR`): a missing directory
    is made, once per directory however many files go there; each directory is also resolved (symlinks) once."""
    real_dirs: dict[str, str] = {}
    for path, text in texts.items():
        directory = os.path.dirname(path) or "."
        real = real_dirs.get(directory)
        if real is None:
            if make_dirs:
                try:
                    os.makedirs(directory, exist_ok=True)
                except OSError as e:
                    raise KhardenError(f"cannot write: {e.strerror or e}", file=path) from None
            real = real_dirs[directory] = os.path.realpath(directory)
        try:
            _write_atomic(path, text, False, durable, real)
        except OSError as e:
            raise KhardenError(f"cannot write: {e.strerror or e}", file=path) from None


def write_atomic(path: str, text: str | bytes, *, bom: bool = False, durable: bool = True) -> bool:
    """Replace the content of `path` atomically. True if written, False if the content was already the same.

    `text` is encoded as UTF-8 with no newline translation (CRLF stays CRLF); `bom` prepends a UTF-8 byte-order
    mark (kharden's Source notes whether the input had one). `durable=False` (`fix -o DIR`: copies, the originals
    untouched) keeps the rename, so a reader sees the whole old file or the whole new one, but skips the two fsyncs
    that make it survive a power cut: after one, the user still has the originals to run again from (2,000 files:
    4,002 fsyncs made `-o DIR` cost 3.1x the wall time of one file). A file that cannot be written (no permission on the
    directory, disk full, ...) is a KhardenError naming it, and the original is left as it was.
    """
    try:
        return _write_atomic(path, text, bom, durable, None)
    except OSError as e:
        raise KhardenError(f"cannot write: {e.strerror or e}", file=path) from None


def _write_atomic(path: str, text: str | bytes, bom: bool, durable: bool, real_dir: str | None) -> bool:
    data = text.encode("utf-8") if isinstance(text, str) else text
    if bom:
        data = b"\xef\xbb\xbf" + data
    target, st = _resolve(path, real_dir)  # write through symlinks: the link stays a link
    directory = os.path.dirname(target) or "."
    if directory not in _swept:
        _swept.add(directory)
        sweep_stale_temps(directory)
    if st is not None and not stat.S_ISREG(st.st_mode):
        # A device, FIFO or directory: a rename would replace the node itself (as root, even /dev/stdout's tty).
        raise KhardenError("not a regular file: --in-place rewrites files only", file=path)
    if st is not None and st.st_size == len(data) and _read(target) == data:
        return False
    fd, tmp = _temporary(directory, os.path.basename(target), st is None)
    try:
        try:
            _write_all(fd, data)
            if st is not None:
                _copy_metadata(fd, st)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if durable:
        _fsync_directory(directory)
    return True


def _resolve(path: str, real_dir: str | None) -> tuple[str, os.stat_result | None]:
    """(the path a write lands on, its stat or None when it does not exist). One lstat when the path is not a
    link and its directory's real path is known (`write_files`); a link is followed to its end (os.path.realpath)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        target = os.path.realpath(path)
        try:
            return target, os.stat(target)
        except FileNotFoundError:
            return target, None
    if real_dir is None:
        real_dir = os.path.realpath(os.path.dirname(path) or ".")
    return os.path.join(real_dir, os.path.basename(path)), st


def _temporary(directory: str, name: str, new: bool) -> tuple[int, str]:
    """A new temporary file beside the target, open for writing: (fd, path). A new target's temporary file is made
    with mode 0666 less the umask (what it keeps); a replacement's 0600 until the old file's mode is copied."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.kharden-{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, _CREATE, 0o666 if new else 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy_metadata(fd: int, st: os.stat_result) -> None:
    """Give the temporary file the target's owner (where permitted) and mode."""
    if hasattr(os, "fchown") and (st.st_uid, st.st_gid) != _owner(fd):
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # not root: the file becomes ours, as with any editor's save; the mode is still kept
    os.fchmod(fd, stat.S_IMODE(st.st_mode))  # after chown, which may clear set-id bits


def _owner(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_uid, st.st_gid


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _fsync_directory(directory: str) -> None:
    """Make the rename durable. Not possible (nor needed) on Windows, where directories cannot be opened."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def sweep_stale_temps(directory: str) -> list[str]:
    """Remove kharden's own temporary files in `directory` left by a run that no longer exists; return their paths.

    Only regular files matching TEMP_PATTERN are considered, and only when the process id in the name is not a
    running process (a live concurrent kharden run keeps its temporary file).
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = TEMP_PATTERN.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        if int(match["pid"]) != os.getpid() and _running(int(match["pid"])):
            continue
        _unlink_quietly(entry.path)
        removed.append(entry.path)
    return removed


def _running(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill(pid, 0) would terminate it on Windows; there, stale files stay for the user
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but is not ours (or cannot tell): leave its file alone
    return True
