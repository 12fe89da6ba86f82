"""Classifier configuration: thresholds with defaults and per-brand overrides.

A pydantic model so the product config can embed it (``classifier: ClassifierSettings``) and
a bad value is refused at start with the field named. Per-brand overrides are partial: a
brand sets only what differs and inherits the rest.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BrandSettings", "ClassifierSettings", "GroupingSettings", "SpikeSettings", "TrendSettings"]


class BrandSettings(BaseModel):
    """Thresholds that may differ per brand. ``None`` means "use the global default"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auto_reply_min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    viral_followers: int | None = Field(default=None, ge=1)
    auto_reply_enabled: bool | None = None


class GroupingSettings(BaseModel):
    """How the :class:`~socialdesk_classifier.nlp.grouping.Grouper` links posts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_seconds: int = Field(default=3 * 24 * 3600, ge=60)
    max_groups_per_brand: int = Field(default=2000, ge=10)
    min_score: float = Field(default=1.0, gt=0.0)
    #: A join through an incident type alone (no shared specific place) must be this close
    #: in time to the group's last post: two double charges a day apart are two glitches.
    type_only_window_seconds: int = Field(default=6 * 3600, ge=60)
    #: A join through a shared specific place (a stop, a venue, a highway) must be this close
    #: to the group's last post: a bus that never came this morning is not tonight's incident
    #: at the same stadium. ``window_seconds`` stays the memory horizon.
    specific_window_seconds: int = Field(default=12 * 3600, ge=60)
    #: A post that names no place joins a same-type group only this close to its last post.
    unplaced_window_seconds: int = Field(default=2 * 3600, ge=60)
    #: A post about yesterday's or last night's trip ("the bus that hit the curb last night")
    #: joins a group of its incident type with a place in common this close to the group's
    #: last post: riders write the next day.
    earlier_window_seconds: int = Field(default=30 * 3600, ge=60)
    #: A post that reports another kind of trouble joins a group through a specific place in
    #: common (a stop, a venue, a rest area) only this close to the group's last post: the
    #: riders of one stalled bus report the heat, the wait and the replacement (0: never).
    cross_kind_window_seconds: int = Field(default=2 * 3600, ge=0)
    #: A post that shares no incident type with a group joins it through a specific place
    #: (or a departure time) alone (a thanks, a question about the stop) only when the
    #: model's incident head gives it at least this probability of being about an incident at
    #: all (decision 0114: such joins were right 41 % of the time below 0.5, 83 % above).
    #: With the default 0.3 (the learned joins' own ``min_incident_p``) a post below it joins
    #: nothing: it opens a pending incident. Not applied when the probability is unknown.
    place_only_min_incident_p: float = Field(default=0.3, ge=0.0, le=1.0)
    #: Learned joins after the rules (decision 0110): a post the rules leave alone joins the
    #: recent incident the join model gives at least this probability: 0.8 with the gate above
    #: (decision 0114; 0.85 before it, decision 0112).
    learned_joins: bool = True
    learned_join_threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    #: The incidents a post the rules leave alone is scored against: active this recently
    #: (decision 0112: riders write about an incident into the next day; 8 h split them).
    learned_join_window_seconds: int = Field(default=24 * 3600, ge=60)
    #: A post the rules neither join nor open a group for, and that the incident head is at
    #: least ``sure_incident_p`` sure is about an incident, joins the best recent incident from
    #: ``sure_join_threshold`` (decision 0116): alone it is certainly one incident's stray post,
    #: and joining it moves no other post (a rule group it opened would take its later members).
    sure_incident_p: float = Field(default=0.9, ge=0.0, le=1.0)
    sure_join_threshold: float = Field(default=0.4, gt=0.0, le=1.0)


class TrendSettings(BaseModel):
    """Group volume rising: ``min_volume`` posts in ``window_seconds`` and growth vs before."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_seconds: int = Field(default=1800, ge=60)
    min_volume: int = Field(default=4, ge=2)
    growth_ratio: float = Field(default=2.0, ge=1.0)
    cooldown_seconds: int = Field(default=3600, ge=0)


class SpikeSettings(BaseModel):
    """Per-brand volume / negative-share spike detection against a learned baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket_seconds: int = Field(default=60, ge=10)
    window_buckets: int = Field(default=5, ge=1)
    alpha: float = Field(default=0.05, gt=0.0, le=1.0)
    hour_alpha: float = Field(default=0.2, gt=0.0, le=1.0)
    min_negative: int = Field(default=6, ge=1)
    minor_z: float = Field(default=4.0, gt=0.0)
    major_z: float = Field(default=7.0, gt=0.0)
    critical_z: float = Field(default=11.0, gt=0.0)
    cooldown_seconds: int = Field(default=900, ge=0)
    warmup_buckets: int = Field(default=30, ge=0)


class ClassifierSettings(BaseModel):
    """Everything a deployment may tune without touching code or retraining."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auto_reply_min_confidence: float = Field(default=0.45, ge=0.0, le=1.0)
    auto_reply_enabled: bool = True
    #: An author with at least this audience whose public complaint is spreading is critical.
    viral_followers: int = Field(default=20_000, ge=1)
    #: A complaint or question no named factor raised above medium is high when the model's
    #: priority head puts at least this on high and critical together (0: factors only).
    #: 0.5 raised priority accuracy leave-one-set-out from 0.831 to 0.842 (decision 0109).
    priority_model_high: float = Field(default=0.5, ge=0.0, le=1.0)
    #: The factors' level calibrated to the labellers' (``priority.npz``, decision 0111).
    priority_calibration: bool = True
    brands: dict[str, BrandSettings] = Field(default_factory=dict)
    #: A deployment's own patterns added to existing lexicon cues, per language
    #: (``{"marketing_collab": {"en": ["\\bbrand deal\\b"]}}``). Regular expressions.
    extra_cues: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    grouping: GroupingSettings = GroupingSettings()
    trends: TrendSettings = TrendSettings()
    spikes: SpikeSettings = SpikeSettings()

    def auto_reply_threshold(self, brand: str) -> float:
        """The auto-reply confidence threshold in force for ``brand``."""
        override = self.brands.get(brand)
        if override is not None and override.auto_reply_min_confidence is not None:
            return override.auto_reply_min_confidence
        return self.auto_reply_min_confidence

    def auto_reply_on(self, brand: str) -> bool:
        """Whether auto-replies are enabled for ``brand``."""
        override = self.brands.get(brand)
        if override is not None and override.auto_reply_enabled is not None:
            return override.auto_reply_enabled
        return self.auto_reply_enabled

    def viral_threshold(self, brand: str) -> int:
        """Follower count above which a public complaint counts as going viral for ``brand``."""
        override = self.brands.get(brand)
        if override is not None and override.viral_followers is not None:
            return override.viral_followers
        return self.viral_followers
