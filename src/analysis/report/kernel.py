"""One Python kernel kept alive across the notebooks of a run.

Starting a kernel and importing the analysis stack costs about 3 s, more than most reports
take to compute. A :class:`KernelSession` starts one kernel, warms it with the imports, and
executes notebook after notebook in it through papermill's Python API (the ``segreport``
engine, which hands papermill the running kernel instead of letting it start its own).

Between notebooks the session resets the kernel: the user namespace is cleared and open
figures are closed, so a notebook sees exactly what it would see in a fresh kernel except
already-imported modules. The report context is built from the notebook's parameters each
time; the one thing modules keep on purpose is the unit's value snapshot
(:meth:`analysis.report.context.ReportContext.value_snapshot`), keyed by the run's cache folder
and the value parameters. A kernel that died (a crash, the OOM killer) is replaced before the
next notebook.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

ENGINE = "segreport"
KERNEL_ARGS = [
    "--IPKernelApp.log_level=CRITICAL",  # start-up chatter is not the operator's
    # no input history in SQLite: a report's cells are in its notebook already, and the
    # database cost two writes per notebook (0.02 s each, more on a slow disk)
    "--HistoryManager.enabled=False",
    # no output cache (Out[n], _, __): reports do not read it, and flushing it made every
    # reset walk the whole heap (RESET)
    "--InteractiveShell.cache_size=0",
]
#: Between notebooks: figures are closed and the namespace cleared; what was the last
#: notebook's is then garbage (nothing refers to it: tested), freed by reference counting or
#: by the next collection. The reset runs no collection of its own: IPython's ran one,
#: before clearing the namespace (so it freed nothing of the notebook's), only to flush the
#: output cache, which the report kernels do not keep (``cache_size=0``). That walk of the
#: whole heap cost 7.2 profiled CPU-seconds per 20k pack. (Collecting after the clear and
#: freezing what survives was tried: Python then counts no long-lived objects and runs full
#: collections more often, and the pack got slower.)
RESET = (
    "import sys as _sys\n"
    "if 'matplotlib.pyplot' in _sys.modules:\n"
    "    _sys.modules['matplotlib.pyplot'].close('all')\n"
    "del _sys\n"
    "get_ipython().reset(new_session=True, aggressive=False)\n"
)
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "SEGREPORT_THREADS",
)
log = logging.getLogger(__name__)


class SessionEngine(NBClientEngine):
    """papermill engine that executes in a given, already running kernel (``km=``)."""

    @classmethod
    def execute_managed_notebook(  # noqa: PLR0913  (papermill's signature)
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        km=None,
        kc=None,
        **kwargs,  # noqa: ARG003  (input_path and other papermill bookkeeping)
    ):
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            kernel_name=kernel_name,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            log=log,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        # The session's connected client: a new one would wait ~0.2 s for the kernel to
        # answer and for its output channel to fall quiet, on every notebook. Replies are
        # matched to their requests, so nothing from an earlier notebook can mix in.
        client.kc = kc
        return client.execute()


papermill_engines.register(ENGINE, SessionEngine)


class KernelError(RuntimeError):
    """The kernel could not be started or did not answer."""


class KernelSession:
    """A kernel that executes one notebook after another (see the module docstring).

    Parameters
    ----------
    cwd
        The kernel's working directory (the notebooks' folder, as papermill would use).
    warm
        Python code run once after start-up, without waiting for it (imports), so the first
        notebook does not pay for them while something else can run.
    threads
        Cap on the kernel's numeric threads (OpenMP, BLAS, DuckDB through
        ``SEGREPORT_THREADS``). With several kernels side by side,
        each gets its share of the cores instead of all of them fighting over every core.
    """

    def __init__(
        self,
        cwd: Path,
        *,
        warm: str = "",
        threads: int | None = None,
        kernel_name: str = "python3",
        timeout: float = 120,
    ) -> None:
        self.cwd = Path(cwd)
        self.warm = warm
        self.threads = threads
        self.kernel_name = kernel_name
        self.timeout = timeout
        self.km: AsyncKernelManager | None = None
        self.kc: Any = None  # the connected client, shared by resets and notebooks
        self.started = 0  # how many kernels this session started (1 unless one died)

    # ---- life cycle ----------------------------------------------------------------------
    def start(self) -> KernelSession:
        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        env = dict(os.environ)
        if self.threads:
            for name in THREAD_VARIABLES:
                env[name] = str(self.threads)
        run_sync(self.km.start_kernel)(cwd=str(self.cwd), extra_arguments=KERNEL_ARGS, env=env)
        self.kc = self.km.client()
        self.kc.allow_stdin = False
        self.kc.start_channels()
        try:
            run_sync(self.kc.wait_for_ready)(timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001
            self.close()
            raise KernelError(f"the kernel did not start: {exc}") from exc
        self.started += 1
        if self.warm:
            self._execute(self.warm, wait=False)
        return self

    @property
    def alive(self) -> bool:
        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def ensure(self) -> None:
        """Start the kernel, or replace it when it died."""
        if not self.alive:
            self.close()
            self.start()

    def close(self) -> None:
        if self.km is None:
            return
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        km, self.km = self.km, None
        try:
            run_sync(km.shutdown_kernel)(now=False)
        except Exception:  # noqa: BLE001  (a dead kernel cannot be shut down politely)
            run_sync(km.shutdown_kernel)(now=True)

    def kill(self) -> None:
        """End the kernel process at once (the run is being stopped); safe in a signal
        handler, where the event loop of :meth:`close` may be busy."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()

    def __enter__(self) -> KernelSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- work ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Clear the user namespace and close figures, as if the kernel were new."""
        status = self._execute(RESET, wait=True)
        if status != "ok":
            raise KernelError(f"the kernel could not be reset ({status})")

    def ready(self) -> None:
        """Make the kernel ready for the next notebook: started (or replaced) and reset. The
        first call also waits for the warm-up imports."""
        self.ensure()
        self.reset()

    def execute_notebook(
        self, notebook: str, output: str, parameters: dict[str, Any], *, ready: bool = True
    ) -> None:
        """Execute ``notebook`` with ``parameters`` into ``output`` in this kernel, after
        :meth:`ready` (unless the caller did that already). Raises what papermill raises
        when a cell fails."""
        import papermill as pm  # noqa: PLC0415

        if ready:
            self.ready()
        pm.execute_notebook(
            notebook,
            output,
            parameters=parameters,
            engine_name=ENGINE,
            km=self.km,
            kc=self.kc,
            kernel_name=self.kernel_name,
            progress_bar=False,
            log_output=False,
            # the executed copy is written once at the end, not after every cell
            request_save_on_cell_execute=False,
        )

    def _execute(self, code: str, *, wait: bool) -> str:
        """Run ``code`` silently; with ``wait``, block until it finished and return its
        status (``ok`` or ``error``)."""
        kc = self.kc

        async def go() -> str:
            msg_id = kc.execute(code, silent=True, store_history=False)
            if not wait:
                return "sent"
            while True:
                reply = await kc.get_shell_msg(timeout=self.timeout)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return reply["content"]["status"]

        try:
            return run_sync(go)()
        except Exception as exc:  # noqa: BLE001
            raise KernelError(f"the kernel did not answer: {exc}") from exc
