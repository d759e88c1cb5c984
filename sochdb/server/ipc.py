"""The IPC server: one Database shared by many local processes over a Unix socket.

One event-loop thread (epoll on Linux, poll elsewhere) reads frames from every connection and
answers quick requests (point reads and writes, transaction bookkeeping) inline. Requests that
may take long (scans, SQL, commit, checkpoint, stats) run on a small thread pool; the
connection's later frames wait until that answer is queued, so replies keep request order and
a slow request never stalls other clients. Servers are thin (design invariant 10): this module
adds framing, limits and stats; handlers.py maps each request to one Database call. Imports
sochdb.errors, the protocol and the handlers.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import select
import socket
import stat
import struct
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sochdb.errors import (Error, InternalError, OperationalError, ProgrammingError,
                           ResourceLimitError)
from sochdb.server import protocol as P
from sochdb.server.handlers import Handlers

log = logging.getLogger("sochdb.server")

#: Linux limit on the path of a Unix socket (sun_path is 108 bytes with the final NUL).
MAX_SOCKET_PATH = 107
RECV_SIZE = 65536
#: Stop reading a connection whose unsent replies or unprocessed requests exceed this.
BUFFER_CAP = 8 * 1024 * 1024

_READ, _WRITE = select.POLLIN, select.POLLOUT
_READABLE = select.POLLIN | select.POLLHUP | select.POLLERR
_pack = P.HEADER.pack
_unpack_header = P.HEADER.unpack_from


class _Conn:
    """One client connection; touched by the loop thread, or by one worker while busy."""

    __slots__ = ("sock", "fd", "id", "rbuf", "wbuf", "txns", "failed", "session", "version",
                 "busy", "closed", "last", "events", "close_after_flush")

    def __init__(self, sock: socket.socket, cid: int) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.id = cid
        self.rbuf: bytes | bytearray = b""
        self.wbuf = bytearray()
        self.txns: dict[int, Any] = {}
        self.failed: dict[int, Exception] = {}  # txn id -> its first failed pipelined write
        self.session = None
        self.version = 1
        self.busy = False
        self.closed = False
        self.last = time.monotonic()
        self.events = 0
        self.close_after_flush = False


class _Poller:
    """epoll where the OS has it (one system call per wake-up), else poll; fds and masks."""

    def __init__(self) -> None:
        if hasattr(select, "epoll"):
            self._p = select.epoll()
            self._scale = 1.0       # epoll takes seconds
        else:
            self._p = select.poll()
            self._scale = 1000.0    # poll takes milliseconds
        self.register = self._p.register
        self.modify = self._p.modify
        self.unregister = self._p.unregister

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        try:
            return self._p.poll(timeout * self._scale)
        except InterruptedError:
            return []

    def close(self) -> None:
        if hasattr(self._p, "close"):
            self._p.close()


class IpcServer(Handlers):
    """Serve ``db`` on ``socket_path`` until :meth:`shutdown` (signal-safe) is called.

    Args:
        db: the open Database (the server never closes it; its owner does).
        socket_path: where to bind; a stale socket from a crashed server is replaced, a live
            one (or a file that is not a socket) is refused.
        max_clients: connections beyond this get an ERROR frame naming the limit, then EOF.
        timeout_ms: connections idle this long (no request, no reply progress) are closed;
            0 disables the timeout.
        max_frame: largest payload accepted; larger lengths are refused before allocation.
        socket_mode: permission bits of the socket file (0o600: owner only).
        workers: threads for long requests.
    """

    def __init__(self, db: Any, socket_path: str, *, max_clients: int = 100,
                 timeout_ms: int = 30000, max_frame: int = P.DEFAULT_MAX_FRAME,
                 socket_mode: int = 0o600, workers: int = 8) -> None:
        if max_clients < 1:
            raise ProgrammingError(f"max_clients must be at least 1, got {max_clients}")
        if timeout_ms < 0:
            raise ProgrammingError(f"timeout_ms must be >= 0, got {timeout_ms}")
        if not 64 <= max_frame <= 0xFFFFFFFF:
            raise ProgrammingError(f"max_frame must be between 64 and 4294967295 bytes, "
                                   f"got {max_frame}")
        self.db = db
        self.socket_path = os.fspath(socket_path)
        self.max_clients = max_clients
        self.timeout_ms = timeout_ms
        self.max_frame = max_frame
        self.socket_mode = socket_mode
        self.chunk = min(P.STREAM_CHUNK, max_frame)
        # Only a busy connection can hold this much unprocessed input: a whole frame fits.
        self._read_cap = max(BUFFER_CAP, max_frame + P.HEADER_SIZE)
        self.started = time.time()
        self.connections_total = 0
        self.connections_refused = 0
        self.requests_success = 0
        self.requests_error = 0
        self.bytes_received = 0
        self.bytes_sent = 0
        self._conns: dict[int, _Conn] = {}
        self._next_id = 0
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        self._poller: _Poller | None = None
        self._by_fd: dict[int, _Conn] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._done: collections.deque = collections.deque()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="sochdb-ipc")
        self._stop_requested = False
        self._stopping = False
        self._closed = False
        self._inline, self._slow = self._dispatch_tables()

    # -- binding ---------------------------------------------------------------------------

    def bind(self) -> None:
        """Create the listening socket (mode ``socket_mode``), replacing a stale one."""
        path = self.socket_path
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise OperationalError(
                f"socket path {path!r} is {len(os.fsencode(path))} bytes, over the "
                f"{MAX_SOCKET_PATH}-byte limit of Unix sockets; choose a shorter --socket")
        if remove_stale_socket(path):
            log.info("[Server] Removed stale socket %s", path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # never let the socket exist with wider permissions
        try:
            sock.bind(path)
        except OSError as e:
            sock.close()
            raise OperationalError(f"cannot bind socket {path!r}: {e.strerror}") from None
        finally:
            os.umask(old)
        os.chmod(path, self.socket_mode)
        sock.listen(max(128, min(self.max_clients + 16, 4096)))
        sock.setblocking(False)
        self._inode = os.stat(path).st_ino
        self._listener = sock

    # -- main loop -------------------------------------------------------------------------

    def serve_forever(self, drain_timeout: float = 30.0) -> None:
        """Run the event loop until shutdown(); then finish in-flight requests (waiting at
        most ``drain_timeout`` seconds), abort open transactions, checkpoint and remove the
        socket file."""
        if self._listener is None:
            self.bind()
        poller = self._poller = _Poller()
        listen_fd = self._listener.fileno()
        poller.register(listen_fd, _READ)
        poller.register(self._wake_r, _READ)
        by_fd = self._by_fd
        tick = min(1.0, self.timeout_ms / 4000) if self.timeout_ms else 1.0
        next_sweep = time.monotonic() + tick
        deadline = flush_until = 0.0
        try:
            while True:
                for fd, mask in poller.poll(tick):
                    c = by_fd.get(fd)
                    if c is not None:
                        if mask & _READABLE:
                            self._on_read(c)
                        if mask & _WRITE and not c.closed:
                            self._on_write(c)
                    elif fd == listen_fd:
                        self._accept()
                    elif fd == self._wake_r:
                        self._completed()
                now = time.monotonic()
                if now >= next_sweep:
                    next_sweep = now + tick
                    if self.timeout_ms:
                        self._sweep(now)
                if self._stop_requested:
                    if not self._stopping:
                        self._begin_stop()
                        deadline = now + drain_timeout
                        flush_until = now + 2.0  # replies get a moment to drain
                    conns = self._conns.values()
                    if now >= deadline or not any(c.busy for c in conns) and (
                            now >= flush_until or not any(c.wbuf for c in conns)):
                        break
        finally:
            self._finish()

    def shutdown(self) -> None:
        """Ask the loop to stop; safe from signal handlers and other threads."""
        self._stop_requested = True
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass  # the pipe is full (a wake-up is pending anyway) or already closed

    def _begin_stop(self) -> None:
        self._stopping = True
        log.info("[Server] Stopping: finishing %d in-flight request(s)",
                 sum(c.busy for c in self._conns.values()))
        if self._listener is not None:
            self._poller.unregister(self._listener.fileno())
            self._listener.close()

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        for c in list(self._conns.values()):
            if c.wbuf and not c.closed:
                try:
                    c.sock.setblocking(True)
                    c.sock.settimeout(1.0)
                    c.sock.sendall(c.wbuf)
                except OSError:
                    pass
            self._close(c)
        self._pool.shutdown(wait=True)
        while self._done:  # requests that finished after the drain deadline
            c, _, _ = self._done.popleft()
            c.busy = False
            self._release(c)
        if self._listener is not None and not self._stopping:
            self._listener.close()
        if self._poller is not None:
            self._poller.close()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        try:
            if not self.db.closed:
                lsn = self.db.checkpoint()
                log.info("[Server] Checkpoint at LSN %d", lsn)
        except Error as e:
            log.error("[Server] Checkpoint at shutdown failed: %s", e)
        self._remove_socket()

    def _remove_socket(self) -> None:
        try:
            if os.stat(self.socket_path).st_ino == self._inode:
                os.unlink(self.socket_path)
        except FileNotFoundError:
            pass

    # -- connections -----------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.error("[Server] accept failed: %s", e.strerror)
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    time.sleep(0.05)  # out of descriptors: let connections close first
                return
            if len(self._conns) >= self.max_clients:
                self.connections_refused += 1
                log.warning("[Server] Refused a connection: %d clients connected "
                            "(--max-clients %d)", len(self._conns), self.max_clients)
                err = ResourceLimitError(
                    f"server at {self.socket_path} has reached its limit of {self.max_clients}"
                    f" connections (--max-clients); try again later")
                try:
                    sock.setblocking(False)
                    sock.send(P.frame(P.ERROR, P.encode_error(err)))
                except OSError:
                    pass
                sock.close()
                continue
            sock.setblocking(False)
            self._next_id += 1
            c = _Conn(sock, self._next_id)
            self._conns[c.id] = c
            self._by_fd[c.fd] = c
            self.connections_total += 1
            self._set_events(c)
            log.debug("[Server] Connection %d opened (%d active)", c.id, len(self._conns))

    def _set_events(self, c: _Conn) -> None:
        want = 0
        if (not c.close_after_flush and len(c.rbuf) <= self._read_cap
                and len(c.wbuf) <= BUFFER_CAP):
            want = _READ
        if c.wbuf:
            want |= _WRITE
        if want != c.events:
            if not c.events:
                self._poller.register(c.fd, want)
            elif not want:
                self._poller.unregister(c.fd)
            else:
                self._poller.modify(c.fd, want)
            c.events = want

    def _close(self, c: _Conn) -> None:
        if c.closed:
            return
        c.closed = True
        if c.events:
            self._poller.unregister(c.fd)
            c.events = 0
        self._by_fd.pop(c.fd, None)
        c.sock.close()
        self._conns.pop(c.id, None)
        if not c.busy:
            self._release(c)
        log.debug("[Server] Connection %d closed (%d active)", c.id, len(self._conns))

    def _release(self, c: _Conn) -> None:
        """Abort what a closed connection left open."""
        txns = list(c.txns.values())
        c.txns.clear()
        c.failed.clear()
        explicit = getattr(c.session, "explicit", None)
        if explicit is not None:
            txns.append(explicit)
            c.session.explicit = None
        for t in txns:
            if t.status == "active":
                try:
                    t.abort()
                except Error:
                    pass

    def _sweep(self, now: float) -> None:
        limit = now - self.timeout_ms / 1000
        for c in list(self._conns.values()):
            if c.busy or c.last >= limit:
                continue
            log.debug("[Server] Connection %d idle for %d ms: closing", c.id, self.timeout_ms)
            if not c.wbuf:  # a client that stopped reading gets no more bytes
                err = OperationalError(f"connection closed by the server after "
                                       f"{self.timeout_ms} ms without a request (--timeout-ms)")
                try:
                    c.sock.send(self._error_frame(c, err, 0))
                except OSError:
                    pass
            self._close(c)

    # -- reading and writing ---------------------------------------------------------------

    def _on_read(self, c: _Conn) -> None:
        try:
            data = c.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(c)
            return
        if not data:
            self._close(c)
            return
        self.bytes_received += len(data)
        c.last = time.monotonic()
        if not c.rbuf:
            if not c.busy and not c.wbuf and not self._stopping and self._one_frame(c, data):
                return
            c.rbuf = data
        elif isinstance(c.rbuf, bytes):
            c.rbuf = bytearray(c.rbuf) + data
        else:
            c.rbuf += data
        if not c.busy and not self._stopping:
            self._process(c)
        if not c.closed:
            self._set_events(c)

    def _one_frame(self, c: _Conn, data: bytes) -> bool:
        """The common case, answered without buffering: ``data`` is exactly one request
        frame with an inline handler and nothing is waiting to be sent."""
        if len(data) < 5:
            return False
        op, n = _unpack_header(data)
        h = self._inline[op]
        if h is None or len(data) != n + 5 or n > self.max_frame:
            return False
        try:
            reply = h(c, data[5:])
            self.requests_success += 1
        except Exception as e:  # every failure becomes an ERROR reply
            reply = self._error_frame(c, e, op)
            self.requests_error += 1
        try:
            sent = c.sock.send(reply)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(c)
            return True
        self.bytes_sent += sent
        if sent < len(reply):
            c.wbuf += memoryview(reply)[sent:]
            self._set_events(c)
        return True

    def _on_write(self, c: _Conn) -> None:
        try:
            sent = c.sock.send(c.wbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(c)
            return
        del c.wbuf[:sent]
        self.bytes_sent += sent
        c.last = time.monotonic()
        if not c.wbuf and c.close_after_flush:
            self._close(c)
            return
        self._set_events(c)

    def _send(self, c: _Conn, out: list[bytes]) -> None:
        data = out[0] if len(out) == 1 else b"".join(out)
        if c.wbuf:
            c.wbuf += data
            return
        try:
            sent = c.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(c)
            return
        self.bytes_sent += sent
        if sent < len(data):
            c.wbuf += memoryview(data)[sent:]
        elif c.close_after_flush:
            self._close(c)

    def _process(self, c: _Conn) -> None:
        """Answer every complete frame in the read buffer, up to the first long request."""
        buf = c.rbuf
        size = len(buf)
        pos = 0
        out: list[bytes] = []
        ok = err = 0
        inline, slow = self._inline, self._slow
        unpack = P.HEADER.unpack_from
        while size - pos >= 5:
            op, n = unpack(buf, pos)
            if n > self.max_frame:
                out.append(self._error_frame(c, ResourceLimitError(
                    f"frame of {n} bytes is over the server's limit of {self.max_frame} bytes "
                    f"(--max-frame-bytes); closing the connection"), op))
                err += 1
                c.close_after_flush = True
                pos = size
                break
            end = pos + 5 + n
            if end > size:
                break
            payload = buf[pos + 5:end]
            pos = end
            h = inline[op]
            if h is not None:
                try:
                    out.append(h(c, payload))
                    ok += 1
                except Exception as e:  # every failure becomes an ERROR reply
                    out.append(self._error_frame(c, e, op))
                    err += 1
                continue
            s = slow[op]
            if s is None:
                out.append(self._error_frame(c, ProgrammingError(
                    f"unknown opcode 0x{op:02x}; see docs/protocol.md for the opcodes of "
                    f"protocol version {P.VERSION}"), op))
                err += 1
                continue
            c.busy = True
            self._pool.submit(self._run_slow, c, s, op, payload)
            break
        if pos == size:
            c.rbuf = b""
        elif pos:
            c.rbuf = bytearray(buf[pos:]) if isinstance(buf, bytes) else buf
            if isinstance(buf, bytearray):
                del buf[:pos]
        elif isinstance(buf, bytes):
            c.rbuf = bytearray(buf)
        self.requests_success += ok
        self.requests_error += err
        if out:
            self._send(c, out)

    def _run_slow(self, c: _Conn, fn: Callable, op: int, payload: bytes) -> None:
        try:
            frames, ok = fn(c, payload), True
        except Exception as e:
            frames, ok = [self._error_frame(c, e, op)], False
        self._done.append((c, frames, ok))
        self._wake()

    def _completed(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self._done:
            c, frames, ok = self._done.popleft()
            c.busy = False
            if ok:
                self.requests_success += 1
            else:
                self.requests_error += 1
            if c.closed:
                self._release(c)
                continue
            c.last = time.monotonic()
            self._send(c, frames)
            if not c.closed and c.rbuf and not self._stopping:
                self._process(c)
            if not c.closed:
                self._set_events(c)

    def _error_frame(self, c: _Conn, e: BaseException, op: int) -> bytes:
        if not isinstance(e, Error):
            name = P.REQUEST_NAMES.get(op, f"opcode 0x{op:02x}")
            if isinstance(e, (TypeError, ValueError, UnicodeDecodeError, struct.error)):
                e = ProgrammingError(f"bad {name} request: {e}")
            else:
                log.exception("[Server] %s failed", name)
                e = InternalError(f"{name} failed: {type(e).__name__}: {e}")
        payload = P.encode_error(e) if c.version >= 2 else e.message.encode("utf-8", "replace")
        return P.frame(P.ERROR, payload)

    # -- stats -----------------------------------------------------------------------------

    def stats(self, include_database: bool = False) -> dict[str, Any]:
        """The guide's server statistics (plus pid, socket, limits; ``db`` on request)."""
        conns = list(self._conns.values())
        active = 0
        for c in conns:
            active += len(c.txns)
            if getattr(c.session, "explicit", None) is not None:
                active += 1
        out: dict[str, Any] = {
            "connections_active": len(conns),
            "connections_total": self.connections_total,
            "requests_success": self.requests_success,
            "requests_error": self.requests_error,
            "bytes_received": self.bytes_received,
            "bytes_sent": self.bytes_sent,
            "uptime_secs": int(time.time() - self.started),
            "active_transactions": active,
            "connections_refused": self.connections_refused,
            "requests_in_flight": sum(c.busy for c in conns),
            "max_clients": self.max_clients,
            "timeout_ms": self.timeout_ms,
            "max_frame_bytes": self.max_frame,
            "pid": os.getpid(),
            "socket": self.socket_path,
            "database": self.db.path,
            "protocol_version": P.VERSION,
        }
        if include_database:
            out["db"] = self.db.stats()
        return out


def remove_stale_socket(path: str) -> bool:
    """Remove ``path`` if it is a socket nobody listens on; True if removed.

    A live socket or a file that is not a socket raises OperationalError (never deleted)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(st.st_mode):
        raise OperationalError(f"{path!r} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return True
    except OSError as e:
        raise OperationalError(f"socket {path!r} exists and does not answer ({e}); another "
                               f"server may be starting on it") from None
    finally:
        probe.close()
    raise OperationalError(f"socket {path!r} is in use by a running server")


__all__ = ["IpcServer", "remove_stale_socket", "MAX_SOCKET_PATH"]
