"""clockpage.py -- the time a local quorumd serves, read from its shared-memory clock page
without asking the daemon: the page libquorum-clock reads (client/clock-page.h), checked by
the same trust rule before it is mapped, and read under its seqlock.

The page holds an agreement and how to extrapolate it along CLOCK_MONOTONIC; a reading
evaluates it at the instant it was taken, exactly as quorum_clock_page_eval does. The writer
makes the generation odd while it updates the page; a reading copies the page between two
loads of an even, unchanged generation, and takes its CLOCK_MONOTONIC sample inside that
window, so it can never combine one agreement with another's instant.
"""

import collections
import errno
import os
import stat
import struct
import time

DEFAULT_PATH = "/run/quorumd/clock"
MAGIC = 0x4B4C4351  # "QCLK" little-endian
VERSION = 1
PAGE_SIZE = 4096
READ_ATTEMPTS = 10000
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# struct quorum_clock_page in the machine's byte order, with the C compiler's padding made
# explicit (4 bytes after writer_pid, so that ref_mono_ns is 8-aligned): 168 bytes.
LAYOUT = struct.Struct("=11I4x9qQd32s")
FIELDS = (
    "magic", "version", "size", "generation", "status", "drift_ppm", "slew_ppm", "n", "f",
    "accepted", "writer_pid", "ref_mono_ns", "ref_estimate_ns", "ref_earliest_ns",
    "ref_latest_ns", "line_mono_ns", "floor_base_ns", "cap_base_ns", "max_error_ns",
    "drift_ns", "round", "warp_score", "quorum_hash",
)
FIELD_CODES = ("I",) * 11 + ("q",) * 9 + ("Q", "d", "32s")
# Each field's byte offset and size in the page: what the C layout must match
# (tests/tools/clock-page-layout prints the compiler's).
OFFSETS = {}
_pos = 0
for _name, _code in zip(FIELDS, FIELD_CODES):
    if _name == "ref_mono_ns":
        _pos += 4  # the padding
    OFFSETS[_name] = (_pos, struct.calcsize("=" + _code))
    _pos += struct.calcsize("=" + _code)
GENERATION = struct.Struct("=I")
GENERATION_OFFSET = OFFSETS["generation"][0]

Page = collections.namedtuple("Page", FIELDS)


class PageError(Exception):
    """The page cannot be opened or read; str() names the page and why."""


class PageUntrusted(PageError):
    """The page fails the trust rule: someone other than its writer could forge it."""


class NotAClockPage(PageError):
    """The file is not a quorumd clock page of this version."""


class Reading(collections.namedtuple(
        "Reading", "synchronised earliest_ns estimate_ns latest_ns error_bound_ns round n f "
        "accepted busy")):
    """A reading of the served clock. Unsynchronised: every time is 0, never a wrong one.
    busy is True when the writer kept the page busy for READ_ATTEMPTS tries."""

    __slots__ = ()


UNSYNCHRONISED = Reading(False, 0, 0, 0, 0, 0, 0, 0, 0, False)


def ppm_ceil(x, ppm):
    """ceil(x * ppm / 1e6) for x >= 0 (quorum_clock_ppm)."""
    return (x * ppm + 999999) // 1000000


def evaluate(page, mono_ns):
    """The served clock of PAGE (a Page) at CLOCK_MONOTONIC MONO_NS:
    (synchronised, earliest, estimate, latest, bound), as quorum_clock_page_eval computes it."""
    if page.status != 1 or mono_ns < page.ref_mono_ns:
        return False, 0, 0, 0, 0
    elapsed = mono_ns - page.ref_mono_ns
    estimate = page.ref_estimate_ns + elapsed
    if mono_ns >= page.line_mono_ns:
        since = mono_ns - page.line_mono_ns
        if page.cap_base_ns != INT64_MAX and page.cap_base_ns + since < estimate:
            estimate = page.cap_base_ns + since
        if page.floor_base_ns != INT64_MIN:
            floor = page.floor_base_ns + since - ppm_ceil(since, page.slew_ppm)
            estimate = max(estimate, floor)
    growth = ppm_ceil(elapsed, page.drift_ppm)
    earliest = min(page.ref_earliest_ns + elapsed - growth, estimate)
    latest = max(page.ref_latest_ns + elapsed + growth, estimate)
    bound = max(estimate - earliest, latest - estimate)
    return bound <= page.max_error_ns, earliest, estimate, latest, bound


def _folder_handed_over(dir_fd, folder):
    """Whether root handed folder DIR_FD over to its owner: only the owner writes it, and
    its parent belongs to root and only root writes there."""
    if folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    try:
        fd = os.open("..", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        parent = os.fstat(fd)
    finally:
        os.close(fd)
    return parent.st_uid == 0 and not parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def open_trusted(path):
    """Opens page PATH read-only if clock-page.h's reader rule trusts it: the descriptor.
    Raises PageError (FileNotFoundError's reason included), PageUntrusted, NotAClockPage."""
    folder_path = os.path.dirname(path) or "."
    try:
        dir_fd = os.open(folder_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise PageError("%s: %s" % (path, e.strerror)) from e
    try:
        folder = os.fstat(dir_fd)
        try:
            fd = os.open(os.path.basename(path),
                         os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK,
                         dir_fd=dir_fd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise PageUntrusted("%s is a symbolic link; refusing to follow it" % path) from e
            raise PageError("%s: %s" % (path, e.strerror)) from e
        try:
            page = os.fstat(fd)
            if not stat.S_ISREG(page.st_mode) or page.st_size < PAGE_SIZE:
                raise NotAClockPage("%s is not a clock page (not a regular file of %d bytes)"
                                    % (path, PAGE_SIZE))
            if page.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise PageUntrusted("%s is writable by group or others (mode %04o): anyone could "
                                    "forge the time in it" % (path, page.st_mode & 0o7777))
            if folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not folder.st_mode & stat.S_ISVTX:
                raise PageUntrusted("%s is in a folder writable by group or others without the "
                                    "sticky bit (%s, mode %04o): anyone could replace it"
                                    % (path, folder_path, folder.st_mode & 0o7777))
            if (page.st_uid not in (0, os.geteuid()) and
                    not (page.st_uid == folder.st_uid and _folder_handed_over(dir_fd, folder))):
                raise PageUntrusted("%s belongs to uid %d: neither root, nor this user (uid %d), "
                                    "nor the owner of a folder root handed over"
                                    % (path, page.st_uid, os.geteuid()))
        except BaseException:
            os.close(fd)
            raise
        return fd
    finally:
        os.close(dir_fd)


class ClockPage:
    """An open clock page. ClockPage(path=None): PATH, else $QUORUM_CLOCK, else
    DEFAULT_PATH. Use as a context manager, or close()."""

    def __init__(self, path=None):
        import mmap

        if not path:
            path = os.environ.get("QUORUM_CLOCK") or DEFAULT_PATH
        self.path = path
        fd = open_trusted(path)
        try:
            self._map = mmap.mmap(fd, PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
        except OSError as e:
            raise PageError("%s: mmap: %s" % (path, e.strerror)) from e
        finally:
            os.close(fd)
        head = LAYOUT.unpack_from(self._map, 0)
        if head[0] != MAGIC or head[1] != VERSION:
            self.close()
            raise NotAClockPage("%s is not a quorumd clock page of version %d" % (path, VERSION))

    def close(self):
        if self._map is not None:
            self._map.close()
            self._map = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def snapshot(self, attempts=READ_ATTEMPTS):
        """One consistent copy of the page and the CLOCK_MONOTONIC instant taken inside its
        read window: (Page, mono_ns), or None when the writer kept it busy ATTEMPTS times.

        The copy is taken between two loads of the generation, which must be even and equal
        (and equal to the copy's own). CPython offers no memory fences: this relies on the
        processor not reordering loads with loads, as x86-64 guarantees; on weakly ordered
        processors (ARM64) prefer libquorum-clock, whose reads have acquire fences."""
        m = self._map
        for _ in range(attempts):
            before = GENERATION.unpack_from(m, GENERATION_OFFSET)[0]
            if before & 1:
                continue  # the writer is in the middle of an update
            raw = m[:LAYOUT.size]
            mono = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            after = GENERATION.unpack_from(m, GENERATION_OFFSET)[0]
            if before != after:
                continue
            page = Page(*LAYOUT.unpack(raw))
            if page.generation != before:
                continue
            return page, mono
        return None

    def now(self):
        """The served time now: a Reading (unsynchronised, with busy set, when the writer kept
        the page busy)."""
        got = self.snapshot()
        if got is None:
            return UNSYNCHRONISED._replace(busy=True)
        page, mono = got
        synchronised, earliest, estimate, latest, bound = evaluate(page, mono)
        if not synchronised:
            return UNSYNCHRONISED._replace(n=page.n, f=page.f)
        return Reading(True, earliest, estimate, latest, bound, page.round, page.n, page.f,
                       page.accepted, False)


def now(path=None):
    """The served time now, from the page at PATH (see ClockPage)."""
    with ClockPage(path) as page:
        return page.now()
