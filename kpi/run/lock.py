"""The output folder's lock: one run at a time writes into an output folder (filelock; the OS releases it when the
run dies, however it dies)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import filelock

from kpi.core.errors import OutputLocked

LOCK_FILE = ".kpi-run.lock"
HOLDER_FILE = ".kpi-run.holder"  # who holds the lock, for the message a second run prints


class OutputLock:
    """An exclusive lock on an output folder (<out>/.kpi-run.lock). A second run either stops with a clear
    message or, with wait=True, waits its turn (saying once that it waits)."""

    def __init__(self, out_dir: Path, wait: bool = False, poll: float = 1.0, on_wait=None):
        self.path = Path(out_dir) / LOCK_FILE
        self.holder_path = Path(out_dir) / HOLDER_FILE
        self.wait, self.poll, self.on_wait = wait, poll, on_wait
        self._lock = filelock.FileLock(self.path, thread_local=False, fallback_to_soft=False)

    def holder(self) -> str:
        try:
            return self.holder_path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        told = False
        while True:
            try:
                self._lock.acquire(timeout=0)
                break
            except filelock.Timeout:
                who = self.holder() or "không rõ"
                if not self.wait:
                    raise OutputLocked(f"Thư mục kết quả {self.path.parent} đang được một lần chạy khác sử dụng "
                                       f"({who}). Hãy chờ lần chạy đó xong, hoặc chạy lại với --wait để tự chờ.") from None
                if not told and self.on_wait:
                    self.on_wait(f"Thư mục kết quả {self.path.parent} đang bận ({who}); đang chờ...")
                    told = True
                time.sleep(self.poll)
        self.holder_path.write_text(f"PID {os.getpid()}, bắt đầu lúc {dt.datetime.now():%H:%M:%S %d/%m/%Y}\n",
                                    encoding="utf-8")
        return self

    def __exit__(self, *exc) -> None:
        self.holder_path.unlink(missing_ok=True)
        self._lock.release()
