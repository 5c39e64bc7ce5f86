"""`flask finance ...`: reconciliation from the command line (registered in app/cli.py).

    flask finance reconcile --date 2026-12-07 [--wechat-bill PATH] [--alipay-bill PATH]

prints each difference on a line and `differences: N`; exits 0 when there is none, 1 when
there are some, 2 (with the reason) for a bad date or a bill that cannot be read."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.db import transaction
from app.core.errors import ValidationError
from app.core.money import fen_to_yuan
from app.finance import bills as bill_files
from app.finance import reconciliation
from app.finance.reconciliation_states import DIFFERENCE_LABELS, RunTrigger

finance_cli = AppGroup("finance", help="Finance: reconciliation.")

BAD_INPUT = 2


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(BAD_INPUT)


def _read_bill(provider: str, path: str) -> list[bill_files.BillRow]:
    file = Path(path)
    if not file.is_file():
        _fail(f"{path}: no such file")
    if file.stat().st_size > bill_files.MAX_BILL_BYTES:
        _fail(f"{path}: larger than {bill_files.MAX_BILL_BYTES // (1024 * 1024)} MB")
    try:
        return bill_files.parse(provider, file.read_bytes())
    except ValidationError as exc:
        _fail(f"{path}: {exc.message}")
    return []  # not reached


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else fen_to_yuan(fen)


@finance_cli.command("reconcile")
@click.option("--date", "day_text", required=True, help="the Asia/Shanghai day, YYYY-MM-DD")
@click.option("--wechat-bill", type=click.Path(dir_okay=False), default=None, help="WeChat Pay 交易账单 CSV")
@click.option("--alipay-bill", type=click.Path(dir_okay=False), default=None, help="Alipay 业务明细 CSV")
def reconcile_command(day_text: str, wechat_bill: str | None, alipay_bill: str | None) -> None:
    """Reconcile one day; exit 1 when differences are found, 2 on bad input."""
    try:
        day = date.fromisoformat(day_text.strip())
    except ValueError:
        _fail(f"--date must be YYYY-MM-DD, got {day_text!r}")
    given = [("wechatpay", wechat_bill), ("alipay", alipay_bill)]
    bills = [(provider, _read_bill(provider, path)) for provider, path in given if path]
    filenames = {provider: Path(path).name for provider, path in given if path}
    try:
        with transaction():
            run = reconciliation.reconcile(day, bills, trigger=RunTrigger.CLI, filenames=filenames)
            lines = [f"{d.kind}\t{d.provider or '-'}\t{d.reference}\texpected={_yuan(d.expected_fen)}"
                     f"\tactual={_yuan(d.actual_fen)}\t{DIFFERENCE_LABELS[d.kind]}: {d.detail}"
                     for d in run.differences]
            count, run_id = run.difference_count, run.id
    except ValidationError as exc:
        _fail(exc.message)
    for line in lines:
        click.echo(line)
    click.echo(f"run: {run_id}")
    click.echo(f"differences: {count}")
    if count:
        raise click.exceptions.Exit(1)
