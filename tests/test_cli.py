"""The command line as users meet it: exit codes and messages, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WINDOW = ["--start", "2026-01-01T00:15:00Z", "--end", "2026-01-01T00:45:00Z"]


def test_validate_prints_the_objectives_of_a_valid_spec(cli):
    result = cli("validate", str(REPO / "slo/targets/production.yaml"))
    assert result.code == 0
    assert "valid loadgate/v1 spec 'production', 6 objectives" in result.out
    assert "p99_latency" in result.out and "p99 < 500 ms" in result.out and "warn 400 ms" in result.out


def test_validate_reports_every_error_of_every_file_located_with_exit_2(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: loadgate/v1\nobjectives:\n  - {id: e, kind: error_rate, threshold: lots}\n")
    result = cli("validate", str(REPO / "slo/targets/production.yaml"), str(bad), str(tmp_path / "missing.yaml"))
    assert result.code == 2
    assert f"{bad}:3: objectives[0].threshold: expected a percentage" in result.err
    assert f"{tmp_path / 'missing.yaml'}: (file): no such file" in result.err
    assert "valid loadgate/v1 spec 'production'" in result.out
    assert "Traceback" not in result.err


def test_gate_with_a_bad_spec_exits_2_before_touching_prometheus(cli, tmp_path, unreachable_url):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: loadgate/v1\nobjectives: []\n")
    result = cli("gate", "--prometheus", unreachable_url, *WINDOW, "--spec", str(bad), "--out", str(tmp_path / "o"))
    assert result.code == 2
    assert f"{bad}:2: objectives: the list is empty" in result.err
    assert not (tmp_path / "o").exists()


def test_usage_errors_exit_2_with_a_message(cli, tmp_path):
    cases = [
        (["gate", *WINDOW], "the following arguments are required: --prometheus"),
        (["gate", "--prometheus", "http://127.0.0.1:1"], "give --start and --end, or --last"),
        (["gate", "--prometheus", "http://127.0.0.1:1", "--last", "5m", "--start", "1"], "not both"),
        (["gate", "--prometheus", "127.0.0.1:9090", "--last", "5m"], "expected an http(s) URL"),
        (["gate", "--prometheus", "http://127.0.0.1:1", "--last", "5m", "--selector", "job=api"], "--selector: bad"),
        (["gate", "--prometheus", "http://127.0.0.1:1", "--last", "5m", "--step", "0"], "must be at least 1"),
        (["gate", "--prometheus", "http://127.0.0.1:1", "--start", "yesterday", "--end", "1"], "RFC 3339"),
        (["frobnicate"], "invalid choice"),
        ([], "usage: loadgate"),  # no command: the help, listing every command, and exit 2
    ]
    for argv, message in cases:
        result = cli(*argv)
        assert result.code == 2, argv
        assert message in result.err, (argv, result.err)
        assert "Traceback" not in result.err


def test_report_on_a_directory_without_a_verdict_exits_2(cli, tmp_path):
    result = cli("report", str(tmp_path))
    assert result.code == 2
    assert "verdict.json: no such file" in result.err


def test_report_refuses_a_verdict_of_an_unknown_schema(cli, tmp_path):
    (tmp_path / "verdict.json").write_text('{"schema_version": 99}')
    result = cli("report", str(tmp_path))
    assert result.code == 2
    assert "schema_version 99" in result.err


def test_the_console_script_runs_as_a_real_process_and_returns_the_exit_code(tmp_path, unreachable_url):
    proc = subprocess.run([sys.executable, "-m", "loadgate", "gate", "--prometheus", unreachable_url, *WINDOW,
                           "--out", str(tmp_path / "g")], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 3
    assert "connection refused" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "g" / "verdict.json").is_file()


def test_an_output_directory_that_cannot_be_written_is_a_message_not_a_traceback(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = cli("demo", "--duration", "5", "--rampup", "1", "--out", str(blocker / "run"), "--no-prometheus")
    assert result.code == 2
    assert "Traceback" not in result.err and str(blocker) in result.err


def test_a_bad_prometheus_setting_stops_a_run_before_any_load_is_sent(cli, tmp_path):
    result = cli("run", "--host", "http://127.0.0.1:1", "--duration", "5", "--rampup", "1", "--out",
                 str(tmp_path / "run"), environ={"LOADGATE_PROM_TIMEOUT": "soon"})
    assert result.code == 2
    assert "LOADGATE_PROM_TIMEOUT must be a number of seconds" in result.err
    assert "Traceback" not in result.err and not (tmp_path / "run").exists()


def test_every_command_prints_its_help_and_exits_0():
    from loadgate.cli import _COMMANDS

    for command in ["", *_COMMANDS]:
        argv = [sys.executable, "-m", "loadgate", *([command] if command else []), "--help"]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=60)
        assert proc.returncode == 0, (command, proc.stderr[-500:])
        assert proc.stdout.startswith("usage: loadgate") and "Traceback" not in proc.stderr, command
    gate = subprocess.run([sys.executable, "-m", "loadgate", "gate", "--help"], capture_output=True, text=True,
                          cwd=REPO, timeout=60).stdout
    # The tolerances' percent signs are shown, not taken for format directives (help wraps mid-word).
    assert "latency=10%,error_rate=50%" in "".join(gate.split())


@pytest.mark.parametrize(("text", "said"), [
    ("[]", "a JSON list, not an object"), ("null", "a JSON null, not an object"),
    ('{"schema_version": 1, "objectives": "none"}', "wrong type"),
    ('{"schema_version": 1, "objectives": [], "verdict": "pass", "window": 5}', "the field 'spec' is missing"),
])
def test_report_on_a_verdict_that_is_not_one_is_exit_2_with_one_line(cli, tmp_path, text, said):
    (tmp_path / "verdict.json").write_text(text)
    result = cli("report", str(tmp_path))
    assert result.code == 2, result.err
    assert said in result.err and str(tmp_path / "verdict.json") in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(("change", "said"), [
    (lambda d: d["objectives"][0].update(status="great"), "objectives[0].status: expected one of pass, warn"),
    (lambda d: d.update(verdict="maybe"), "verdict.verdict: expected one of pass, fail, inconclusive"),
    (lambda d: d["window"].pop("seconds"), "window: the field 'seconds' is missing"),
    (lambda d: d.update(overview=["latency"]), "verdict.overview[0]: expected an object, got string"),
    (lambda d: d["objectives"][0].update(client={"status": "?"}), "objectives[0].client.status: expected one of"),
], ids=["status", "verdict", "window", "overview", "client"])
def test_report_on_a_record_with_a_field_out_of_its_range_is_exit_2_naming_it(cli, tmp_path, change, said):
    import json

    from tests.test_outputs import fixed_document

    doc = fixed_document()
    change(doc)
    (tmp_path / "verdict.json").write_text(json.dumps(doc))
    result = cli("report", str(tmp_path))
    assert result.code == 2 and said in result.err, result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_a_baseline_may_be_named_by_its_directory_or_its_verdict_file(cli, tmp_path):
    (tmp_path / "verdict.json").write_text("[]")
    for given in (tmp_path, tmp_path / "verdict.json"):
        result = cli("report", str(tmp_path), "--baseline", str(given))
        assert result.code == 2 and f"--baseline: {tmp_path / 'verdict.json'}: not a loadgate verdict" in result.err


def test_distributed_options_that_do_not_fit_together_are_usage_errors(cli, tmp_path):
    host = ("--host", "http://127.0.0.1:1", "--out", str(tmp_path / "run"))
    for argv, message in ((("--master",), "--master needs --expect-workers N"),
                          (("--expect-workers", "2"), "--expect-workers applies to --master only"),
                          (("--master", "--expect-workers", "2", "--processes", "2"), "exclude each other")):
        result = cli("run", *host, *argv)
        assert result.code == 2 and message in result.err, (argv, result.err)
    assert not (tmp_path / "run").exists()
    for master, message in (("10.0.0.5:http", "is not a number"), (":5557", "expected HOST:PORT"),
                            ("10.0.0.5:70000", "out of range")):
        result = cli("worker", "--master", master)
        assert result.code == 2 and "--master: " in result.err and message in result.err, result.err


def test_a_worker_address_without_a_port_takes_the_masters_default():
    from loadgate.cmd_worker import parse_master, worker_command

    assert parse_master("10.0.0.5") == ("10.0.0.5", 5557)
    assert parse_master("master.internal:6000") == ("master.internal", 6000)
    argv = worker_command("10.0.0.5", 5557, "/x/mine.py")
    assert argv[argv.index("-f") + 1].endswith("scenarios/plugin.py,/x/mine.py") and "--worker" in argv


@pytest.mark.parametrize("command", ["run", "capacity"])
def test_a_bad_selector_is_refused_before_the_run_directory_is_made(cli, tmp_path, command):
    result = cli(command, "--host", "http://127.0.0.1:1", "--selector", 'job="api', "--out", str(tmp_path / "run"))
    assert result.code == 2 and result.err.startswith("loadgate: --selector: "), result.err
    assert "Traceback" not in result.err and not (tmp_path / "run").exists()


def test_capacity_checks_the_host_and_the_prometheus_settings_before_any_step(cli, tmp_path):
    out = ("--out", str(tmp_path / "search"))
    result = cli("capacity", "--host", "127.0.0.1:8000", *out)
    assert result.code == 2 and "--host: expected an http(s) URL" in result.err
    result = cli("capacity", "--host", "http://127.0.0.1:1", *out, environ={"LOADGATE_PROM_TIMEOUT": "soon"})
    assert result.code == 2 and "LOADGATE_PROM_TIMEOUT" in result.err, result.err
    assert not (tmp_path / "search").exists()


def test_alert_flags_without_a_local_prometheus_are_usage_errors(cli, tmp_path):
    out = ("--out", str(tmp_path / "run"))
    result = cli("demo", "--no-prometheus", "--alert-rules", *out)
    assert result.code == 2 and "need the local Prometheus" in result.err
    result = cli("run", "--host", "http://127.0.0.1:9", "--alert-rules", *out)
    assert result.code == 2 and "--start-prometheus" in result.err
    assert not (tmp_path / "run").exists() and "Traceback" not in result.err


def test_expected_alerts_that_no_rule_can_raise_are_usage_errors(cli, tmp_path):
    from loadgate.promserver import INSTALL_HINT, binaries
    from tests.support.require import missing

    if binaries() is None:  # the demo loads its rules into its own Prometheus
        missing(f"Prometheus is not installed; {INSTALL_HINT}")
    out = ("--out", str(tmp_path / "run"))
    result = cli("demo", "--expect-alerts", "throughput:page", *out)
    assert result.code == 2 and "no alert rules for objective 'throughput'" in result.err, result.err
    for value, says in (("", "--expect-alerts: empty"), ("p50_latency:page", "can never fire")):
        result = cli("demo", "--expect-alerts", value, *out)
        assert result.code == 2 and says in result.err, result.err
    assert not (tmp_path / "run").exists() and "Traceback" not in result.err


def test_a_looping_worker_whose_locustfile_cannot_load_stops_with_its_code(cli, tmp_path):
    """--loop restarts a worker after each test, but not one that fails at once (it would fail forever)."""
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_for_loadgate\n")
    result = cli("worker", "--master", "127.0.0.1:1", "--loop", "--locustfile", str(broken))
    assert result.code == 1 and "not joining again" in result.err, result.err
