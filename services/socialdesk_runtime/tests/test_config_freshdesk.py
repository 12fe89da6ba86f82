"""The ``freshdesk`` configuration section (issue 13): off by default, refused with its
line when wrong, and the example's commented block valid once uncommented."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk_runtime.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "socialdesk.example.yaml"

SECTION = """
freshdesk:
  brands:
    ourbus:
      enabled: true
      base_url: https://ourbus.freshdesk.com
      api_key_env: FD_KEY
      webhook_secret_env: FD_SECRET
      group_id: 43000123456
      agents: {ourbus-ana: 43000000101}
"""


def with_section(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "socialdesk.yaml"
    path.write_text(EXAMPLE.read_text() + section)
    return path


def test_off_by_default() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.freshdesk.brands == {} and config.freshdesk.enabled("ourbus") is None


def test_the_examples_block_is_valid_once_uncommented(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    start = text.index("# freshdesk:")
    block = "\n".join(line[2:] for line in text[start:].splitlines())
    path = tmp_path / "socialdesk.yaml"
    path.write_text(text[:start] + block + "\n")
    account = load_config(path, env={}).freshdesk.enabled("ourbus")
    assert account is not None and account.priorities["critical"] == 4 and account.budget_share == 0.5


def test_a_brand_is_enabled_with_the_default_mapping(tmp_path: Path) -> None:
    account = load_config(with_section(tmp_path, SECTION), env={}).freshdesk.enabled("ourbus")
    assert account is not None
    assert account.priorities == {"critical": 4, "high": 3, "medium": 2, "low": 1}
    assert account.webhook_header == "X-Socialdesk-Secret" and account.rate_window_seconds == 60


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ourbus:\n      enabled", "nobus:\n      enabled", "unknown brand 'nobus'"),
        ("{ourbus-ana: 43000000101}", "{nobody: 43000000101}", "unknown agent 'nobody'"),
        ("{ourbus-ana: 43000000101}", "{ourbus-ana: 1, ourbus-ben: 1}", "mapped to both"),
        ("group_id: 43000123456", "group_id: 0", "group_id"),
        ("api_key_env: FD_KEY", "api_key: secret-in-the-file", "api_key"),
        (
            "group_id: 43000123456",
            "group_id: 43000123456\n      priorities: {critical: 9}",
            "1 Low, 2 Medium",
        ),
    ],
)
def test_mistakes_are_refused_with_their_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(with_section(tmp_path, SECTION.replace(old, new)), env={})
    text = str(refused.value)
    assert message in text and "socialdesk.yaml:" in text
