"""Airflow example: the monthly segreport run for every business unit.

Airflow is not a segreport dependency; copy this file into your DAGs folder and adjust the
paths. It calls the CLI, so the run behaves exactly as from cron: one process, a lock on the
output folder, and its exit code decides what Airflow does:

- 0: every report is published (or does not apply to the data): success.
- 2: bad input, bad parameters or an output folder that cannot be written. Running the same
  command again gives the same answer, so the task fails at once **without retrying**
  (``AirflowFailException``); fix the export or the parameters and clear the task.
- 1 (a report failed; the good ones are published), a busy output folder after ``--wait``
  (also 2, but only when the message says the folder is locked), 128 + N (stopped by a
  signal) or anything else: the task fails and is retried (``retries`` below).

The run's machine-readable summary is in ``<output>/last_run.json`` (and
``<output>/runs/<run id>.json``); it is also pushed to XCom here.
"""

import json
import subprocess
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.python import PythonOperator

SEGREPORT = "/opt/segreport/.venv/bin/segreport"
DATA = "/data/crm/exports/latest"
OUTPUT = "/srv/reports/segreport"
BAD_INPUT = 2  # segreport's exit code for a user mistake: retrying cannot help


def segreport(*args: str, env: dict[str, str] | None = None) -> dict | None:
    """Run ``segreport ARGS`` (no shell) and map its exit code to Airflow's retry rules."""
    command = [SEGREPORT, *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    print(done.stderr)
    if done.returncode == BAD_INPUT and "another segreport run is writing" not in done.stderr:
        raise AirflowFailException(
            f"segreport: bad input or parameters (exit 2), not retried:\n{done.stderr[-2000:]}"
        )
    if done.returncode != 0:
        raise AirflowException(f"segreport exited {done.returncode}:\n{done.stderr[-2000:]}")
    try:
        return json.loads(done.stdout) if "--summary-json" in args else None
    except ValueError:
        return None


def validate_input() -> None:
    segreport("validate", "--data-dir", DATA)


def run_reports(period: str, id_key: str) -> dict | None:
    import os  # noqa: PLC0415

    return segreport(
        "run",
        "--unit", "all",
        "--jobs", "2",
        "--formats", "html,pdf",
        "--wait", "600",
        "--period", period,
        "--data-dir", DATA,
        "--output", OUTPUT,
        "--summary-json", "-",
        env={**os.environ, "SEGREPORT_ID_KEY": id_key},
    )  # fmt: skip


with DAG(
    dag_id="segreport_monthly",
    start_date=datetime(2025, 1, 1),
    schedule="0 6 2 * *",  # 06:00 on the 2nd of every month, when last month's export has landed
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=30)},
    tags=["crm", "reports"],
) as dag:
    validate = PythonOperator(task_id="validate_input", python_callable=validate_input)
    run = PythonOperator(
        task_id="run_reports",
        python_callable=run_reports,
        op_kwargs={
            # the period Airflow is reporting on: the month before the run date
            "period": "{{ data_interval_start.strftime('%Y-%m') }}",
            "id_key": "{{ var.value.segreport_id_key }}",
        },
    )
    validate >> run
