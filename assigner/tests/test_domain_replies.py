"""Saved replies: which one fits a brand, in which language (plain data, no IO)."""

from __future__ import annotations

from pathlib import Path

from socialdesk_assigner.domain import auto_reply_text
from socialdesk_assigner.domain.replies import is_echo_of, saved_reply_for, text_in
from socialdesk_runtime.config import SavedReply, SocialdeskConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config" / "socialdesk.example.yaml"


def test_a_saved_reply_is_offered_only_to_the_brands_it_is_for(config: SocialdeskConfig) -> None:
    saved = config.saved_replies
    assert saved_reply_for(saved, "luggage", brand="ourbus") is saved["luggage"]
    assert saved_reply_for(saved, "refunds", brand="rally") is saved["refunds"]
    assert saved_reply_for(saved, "refunds", brand="ourbus") is None
    assert saved_reply_for(saved, "pets", brand="ourbus") is None


def test_text_in_the_language_then_its_base_then_the_fallback_then_any() -> None:
    reply = SavedReply(text={"en": "Hello", "es": "Hola", "pt-BR": "Olá"})
    assert text_in(reply, "pt-BR", fallback="en") == "Olá"
    assert text_in(reply, "es-MX", fallback="en") == "Hola"
    assert text_in(reply, "ja", fallback="es") == "Hola"
    assert text_in(SavedReply(text={"de": "Hallo"}), "ja", fallback="en") == "Hallo"


def test_the_brands_default_language_is_the_fallback(config: SocialdeskConfig) -> None:
    # Rally writes Spanish by default; a Japanese message gets the Spanish text.
    assert auto_reply_text(config, "luggage", brand="rally", language="ja") == "Un equipaje de mano."
    assert auto_reply_text(config, "luggage", brand="ourbus", language="ja") == "One carry-on."
    assert auto_reply_text(config, "refunds", brand="ourbus", language="en") is None


def test_the_example_deployments_saved_replies_answer_in_each_language() -> None:
    example = load_config(EXAMPLE, env={})
    for key in ("luggage_policy", "pets_policy", "wifi_power", "find_ticket", "refund_policy"):
        assert auto_reply_text(example, key, brand="ourbus", language="en") != auto_reply_text(
            example, key, brand="ourbus", language="es"
        )
    rally = auto_reply_text(example, "rally_how_it_works", brand="rally", language="es-MX")
    assert rally == example.saved_replies["rally_how_it_works"].text["es"]
    assert auto_reply_text(example, "rally_how_it_works", brand="ourbus", language="en") is None


def test_an_echo_is_our_reply_with_the_platforms_mentions_set_aside() -> None:
    assert is_echo_of("On its way,  10 min", "@maria On its way, 10 min")
    assert is_echo_of("On its way", "On its way")
    assert is_echo_of("On its way", "@maria @OurBus On its way")
    assert not is_echo_of("On its way", "@maria typed in X by Farah")
    assert not is_echo_of("", "@maria")
