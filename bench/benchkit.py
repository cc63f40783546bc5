"""Shared by bench/crash and bench/isolation: find the binary, make a data set, run `yongjun serve` as a child.

Python 3 standard library only. Every process started here is killed when the script exits, however it exits.
"""
import atexit
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving on (http://[0-9.]+:([0-9]+))")
_children = []


def kill_children():
    """Kills every process this script started that is still running."""
    for proc in _children:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


atexit.register(kill_children)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def spawn(args, **kwargs):
    """Popen that is killed when this script exits."""
    proc = subprocess.Popen(args, **kwargs)
    _children.append(proc)
    return proc


def find_binary(explicit):
    """--binary, else the release build, else the debug build."""
    candidates = [Path(explicit)] if explicit else [ROOT / ".build/release/yongjun", ROOT / ".build/debug/yongjun"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path.resolve())
    sys.exit(f"no yongjun binary at {', '.join(map(str, candidates))}; build it: swift build -c release --product yongjun")


class Yongjun:
    """The CLI against one data directory."""

    def __init__(self, binary, data_dir):
        self.binary = binary
        self.data_dir = str(data_dir)

    def args(self, *args):
        return [self.binary, "--data-dir", self.data_dir, *args]

    def run(self, *args):
        """Runs a subcommand to completion; its stdout, or exit with its stderr."""
        done = subprocess.run(self.args(*args), capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            sys.exit(f"yongjun {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def prepare(self, work, cards, merchants, lifetime=3600):
        """Keys, `cards` holders (bench/make_cards.py), `merchants` shops with a key each, one code per card.

        Returns (shop API keys, codes, card numbers)."""
        self.run("keys", "init")
        csv_path = Path(work) / "cards.csv"
        with open(csv_path, "w") as out:
            subprocess.run([sys.executable, str(ROOT / "bench/make_cards.py"), str(cards)], stdout=out, check=True)
        self.run("cards", "import", str(csv_path))
        keys = []
        for i in range(1, merchants + 1):
            merchant = self.run("merchants", "add", "--name", f"压测商户{i}", "--industry", "catering").strip()
            keys.append(self.run("merchants", "key", merchant).strip())
        numbers = [line.split(",", 1)[0] for line in csv_path.read_text().splitlines()[1:]]
        codes = self.run("cards", "code", "--lifetime", str(lifetime), *numbers).split()
        return keys, codes, numbers

    @property
    def database(self):
        return os.path.join(self.data_dir, "yongjun.sqlite")


class Server:
    """`yongjun serve --port 0 --admin-port off --rate-limit 0` with its output in a log file."""

    def __init__(self, cli, log_path, extra=()):
        self.cli = cli
        self.log_path = str(log_path)
        self.extra = list(extra)
        self.proc = None
        self.url = None
        self.port = None

    def start(self, timeout=30):
        """Starts and waits for the `serving on` line; returns seconds taken, or raises ServerDidNotStart."""
        began = time.monotonic()
        log = open(self.log_path, "ab")
        self.log_start = log.tell()  # a restart appends to the same log: read only what this process wrote
        args = self.cli.args("serve", "--host", "127.0.0.1", "--port", "0", "--admin-port", "off", "--rate-limit", "0", "--log-level", "warning", *self.extra)
        self.proc = spawn(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        while time.monotonic() - began < timeout:
            found = SERVING.search(self.log()[self.log_start :])
            if found:
                self.url, self.port = found.group(1), int(found.group(2))
                return time.monotonic() - began
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        raise ServerDidNotStart(self.log()[self.log_start :].encode("latin-1").decode("utf-8", "replace"), self.proc.returncode)

    def log(self):
        """The whole log, one character per byte (so offsets are byte offsets)."""
        with open(self.log_path, "rb") as f:
            return f.read().decode("latin-1")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait()

    def stop(self, timeout=15):
        """SIGTERM, then the exit status (SIGKILL if it does not stop in time: status None)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


class ServerDidNotStart(Exception):
    def __init__(self, log, status):
        super().__init__(f"server did not start (exit status {status}): {log.strip()[-2000:]}")
        self.log = log
        self.status = status
