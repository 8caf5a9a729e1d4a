"""The config file: discovery, validation errors, and flags winning over it."""

from __future__ import annotations

from pathlib import Path

import pytest

import ci_helpers
from asm_mode_advisor import config as config_module
from asm_mode_advisor.config import (
    AssumeMode,
    Config,
    ConfigError,
    FailOn,
    discover,
    load_config,
    parse_config,
    resolve,
)
from ci_helpers import AMBIENT_NS, SERVICE, VIRTUAL_SERVICE, cli, l7_pr, write

repo = ci_helpers.repo


def test_discovery_walks_up_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".asm-advisor.yaml").write_text("failOn: warning\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert discover(nested) == tmp_path / ".asm-advisor.yaml"
    assert load_config(None, cwd=nested).fail_on is FailOn.WARNING


def test_no_config_gives_defaults(tmp_path: Path) -> None:
    config = load_config(None, cwd=tmp_path)
    assert config == Config()
    assert resolve(config).fail_on is FailOn.ERROR


def test_full_config_parses() -> None:
    config = parse_config(
        "meshVersion: 1.26\nfailOn: note\nassumeMode: recommended\nbaseline: base.json\n"
        "rules:\n  disable: [AMA406]\n  severity: {sidecar-resource: error}\n"
        "ignore:\n- {namespace: 'kube-*'}\n- {kind: Deployment, name: 'legacy-*', "
        "rules: [AMA404], reason: going away}\n", "ci/.asm-advisor.yaml")
    assert config.mesh_version == "1.26" and config.fail_on is FailOn.NOTE
    run = resolve(config)
    assert run.settings.assume_mode == "recommended" and run.settings.mesh_version == "1.26"
    assert run.baseline == Path("ci/base.json")
    assert config.ignore[0].whole_namespace and not config.ignore[1].whole_namespace


@pytest.mark.parametrize(("text", "message"), [
    ("failOn: fatal\n", "failOn"),
    ("rules:\n  disable: [AMA999]\n", "unknown rule(s) AMA999"),
    ("colour: red\n", "colour"),
    ("- a list\n", "must be a mapping"),
    ("rules: [unclosed\n", ".asm-advisor.yaml:2: YAML syntax error"),
])
def test_bad_config_is_one_line_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, ".asm-advisor.yaml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_flags_win_over_the_config() -> None:
    config = Config(fail_on=FailOn.NOTE, assume_mode=AssumeMode.AMBIENT, mesh_version="1.22")
    run = resolve(config, fail_on=FailOn.NEVER, assume_mode=AssumeMode.LABELS,
                  mesh_version="1.25")
    assert (run.fail_on, run.settings.assume_mode, run.settings.mesh_version) == (
        FailOn.NEVER, AssumeMode.LABELS, "1.25")


def test_cli_reads_discovered_config_and_flag_overrides_it(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, ".asm-advisor.yaml", "failOn: never\n")
    assert cli("analyze", "manifests").exit_code == 0
    assert cli("analyze", "manifests", "--fail-on", "error").exit_code == 1


def test_cli_named_config_and_config_mesh_version(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    write(repo, "ci.yaml", "meshVersion: '1.22'\nfailOn: never\n")
    result = cli("analyze", "m.yaml", "--config", "ci.yaml", "-o", "json")
    assert result.exit_code == 0
    assert '"meshVersion": "1.22"' in result.stdout
    flagged = cli("analyze", "m.yaml", "--config", "ci.yaml", "--mesh-version", "1.25",
                  "-o", "json")
    assert '"meshVersion": "1.25"' in flagged.stdout


def test_cli_bad_config_exits_2_with_the_file_name(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS)
    write(repo, ".asm-advisor.yaml", "failOn: fatal\n")
    result = cli("analyze", "m.yaml")
    assert result.exit_code == 2
    assert ".asm-advisor.yaml: failOn" in result.stderr


def test_cli_assume_mode_from_config(repo: Path) -> None:
    plain = AMBIENT_NS.replace("  labels:\n    istio.io/dataplane-mode: ambient\n", "")
    write(repo, "m.yaml", plain + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    assert cli("analyze", "m.yaml").exit_code == 0
    write(repo, ".asm-advisor.yaml", "assumeMode: ambient\n")
    assert cli("analyze", "m.yaml").exit_code == 1
    assert cli("analyze", "m.yaml", "--assume-mode", "labels").exit_code == 0


def test_discovery_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".asm-advisor.yaml").write_text("failOn: warning\n")
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    nested = project / "deploy"
    nested.mkdir()
    assert discover(nested) is None  # the config above the repository is not used
    (project / ".asm-advisor.yaml").write_text("failOn: note\n")
    assert discover(nested) == project / ".asm-advisor.yaml"  # the root itself is searched


def test_discovery_does_not_cross_a_filesystem_boundary(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".asm-advisor.yaml").write_text("failOn: warning\n")
    mount = tmp_path / "mnt"
    mount.mkdir()
    monkeypatch.setattr(config_module, "_device",
                        lambda folder: 2 if str(folder).startswith(str(mount)) else 1)
    assert discover(mount) is None
    monkeypatch.setattr(config_module, "_device", lambda folder: 1)
    assert discover(mount) == tmp_path / ".asm-advisor.yaml"


def test_cli_says_which_config_it_uses(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS)
    assert "using config" not in cli("analyze", "m.yaml").stderr
    write(repo, "ci.yaml", "failOn: never\n")
    assert "asm-advisor: using config ci.yaml\n" in cli("analyze", "m.yaml", "--config",
                                                       "ci.yaml").stderr
    write(repo, ".asm-advisor.yaml", "failOn: never\n")
    found = cli("analyze", "m.yaml").stderr
    assert f"asm-advisor: using config {repo.resolve() / '.asm-advisor.yaml'}\n" in found
