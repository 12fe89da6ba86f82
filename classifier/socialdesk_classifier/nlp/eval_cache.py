"""What ``make eval`` computes once per process and reuses for every set it scores
(:mod:`~socialdesk_classifier.nlp.evaluation`): out-of-fold incident probabilities for the
learned joins (decision 0110) and out-of-fold priority decisions for the calibration
(decision 0111). Both are computed over every training file, so a set left out later was
seen by the fold models that scored the others: a second-order leak, accepted to keep
``make eval`` near its time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from socialdesk_classifier.nlp.join_training import incident_by_file, timed_parts
from socialdesk_classifier.nlp.priority_calibration import (
    CalibrationExample,
    PriorityCalibrator,
    calibration_examples,
)
from socialdesk_classifier.nlp.settings import ClassifierSettings
from socialdesk_classifier.nlp.training import training_files

__all__ = ["CALIBRATION", "INCIDENT_P", "calibrator_leaving_out", "incident_cache"]


INCIDENT_P: dict[str, list[float]] = {}


def incident_cache(data_dir: Path, analyser: Any) -> dict[str, list[float]]:
    """Out-of-fold incident probabilities of every timed training file, computed once per
    process: leaving one set out then reuses heads that saw it (a second-order leak on one
    feature, accepted to keep ``make eval`` near its time; decision 0110)."""
    if not INCIDENT_P:
        INCIDENT_P.update(incident_by_file(timed_parts(training_files(data_dir)), analyser))
    return INCIDENT_P


CALIBRATION: dict[str, list[CalibrationExample]] = {}


def calibrator_leaving_out(
    data_dir: Path,
    analyser: Any,
    settings: ClassifierSettings,
    leave_out: Callable[[str, CalibrationExample], bool],
) -> PriorityCalibrator | None:
    """A priority calibration fitted on the out-of-fold decisions of the training files, but
    those ``leave_out`` names (file name, example). The decisions are computed once per process,
    by models that may have seen the held-out posts: the same second-order leak as above."""
    if not settings.priority_calibration:
        return None
    if not CALIBRATION:
        CALIBRATION.update(calibration_examples(training_files(data_dir), analyser, data_dir))
    return PriorityCalibrator.fit([e for n, v in CALIBRATION.items() for e in v if not leave_out(n, e)])
