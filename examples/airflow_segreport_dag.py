"""Airflow example: the monthly segreport run for every business unit.

Airflow is not a segreport dependency; copy this file into your DAGs folder and adjust the
paths. It calls the CLI, so the run behaves exactly as from cron: one process, a lock on the
output folder, exit code 0 (ok), 1 (a report failed; the others are published) or 2 (bad
input or parameters). Exit code 1 fails the task after the good reports are published; the
portal shows which report failed and still links its last good version.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

SEGREPORT = "/opt/segreport/.venv/bin/segreport"
DATA = "/data/crm/exports/latest"
OUTPUT = "/srv/reports/segreport"

with DAG(
    dag_id="segreport_monthly",
    start_date=datetime(2025, 1, 1),
    schedule="0 6 2 * *",  # 06:00 on the 2nd of every month, when last month's export has landed
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=30)},
    tags=["crm", "reports"],
) as dag:
    validate = BashOperator(
        task_id="validate_input",
        bash_command=f"{SEGREPORT} validate --data-dir {DATA}",
    )
    run = BashOperator(
        task_id="run_reports",
        # the period Airflow is reporting on: the month before the run date
        bash_command=(
            f"{SEGREPORT} run --unit all --jobs 2 --formats html,pdf --wait 600 "
            f"--period {{{{ data_interval_start.strftime('%Y-%m') }}}} "
            f"--data-dir {DATA} --output {OUTPUT}"
        ),
        env={"SEGREPORT_ID_KEY": "{{ var.value.segreport_id_key }}"},
        append_env=True,
    )
    validate >> run
