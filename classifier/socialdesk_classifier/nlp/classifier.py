"""The classifier: rules + statistical model + decision rules + incident grouping.

How a post is decided, in order (each step adds a human-readable reason):

1. :class:`~socialdesk_classifier.nlp.features.Analyser` cleans the text, runs the rule cues,
   detects the language and scores sentiment.
2. The linear model (TF-IDF words + char n-grams + cue tokens) gives probabilities for
   category, priority, sentiment and auto-reply template.
3. Strong rule cues override the model's category where the taxonomy leaves no doubt and the
   cost of a miss is high: safety and legal (always critical: recall matters most), scams and
   spam, and marketing-owned collaboration / press / contest posts.
4. The taxonomy's conventions fix queue from category and constrain priority and sentiment
   (safety/legal critical; praise/promo/spam/other low; spam neutral; a complaint negative).
   Named factors decide the rest (stranded now, data exposed, a big audience: critical), and
   the deciding factor's level is calibrated to the labellers' (:mod:`.priority_calibration`)
   for complaints, questions and requests.
5. An auto-reply is proposed only for a calm query whose FAQ topic cue fires and whose
   template probability clears the brand's threshold; never for complaints or anger
   (:class:`~socialdesk_classifier.nlp.autoreply.AutoReplier`, templates from the lexicon).
6. The :class:`~socialdesk_classifier.nlp.grouping.Grouper` links the post to an open incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from socialdesk_classifier.nlp.autoreply import AutoReplier, Template, load_templates
from socialdesk_classifier.nlp.features import Analyser, Analysis, FeatureIndexer
from socialdesk_classifier.nlp.grouping import Grouper, IncidentSignature, SignatureExtractor
from socialdesk_classifier.nlp.incidents import IncidentLinker
from socialdesk_classifier.nlp.language import LanguageDetector
from socialdesk_classifier.nlp.model import LinearModel
from socialdesk_classifier.nlp.priority import PriorityKinds, decide_priority
from socialdesk_classifier.nlp.priority_calibration import Calibrates, PriorityCalibrator
from socialdesk_classifier.nlp.priority_factors import TODAY
from socialdesk_classifier.nlp.rules import load_lexicon
from socialdesk_classifier.nlp.sentiment import SentimentScorer
from socialdesk_classifier.nlp.settings import ClassifierSettings
from socialdesk_classifier.nlp.types import CATEGORY_QUEUE, Decision, Post

__all__ = ["DATA_DIR", "MODEL_VERSION", "Classifier", "load_default_classifier"]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: The model behind a Decision (``Decision.version``): bump when retraining changes answers.
MODEL_VERSION = "model-1"


@dataclass(frozen=True, slots=True)
class _Core:
    """The stateless part of a decision (everything but the group)."""

    category: str
    priority: str
    sentiment: str
    language: str
    auto_reply: str | None
    confidence: dict[str, float]
    reasons: list[str]


_NO_INCIDENT = IncidentSignature({}, {})


def _snip(analysis: Analysis, cue: str) -> str:
    return analysis.cues[cue].snippet


class Classifier:
    """Decides queue, category, priority, sentiment, language, auto-reply and group.

    Holds grouping state (the open incidents), so one instance serves one stream; the rest
    is stateless. Not thread-safe: give each worker its own instance.
    """

    def __init__(
        self,
        *,
        analyser: Analyser,
        model: LinearModel,
        templates: Mapping[str, Template],
        grouper: Grouper | IncidentLinker | None = None,
        settings: ClassifierSettings | None = None,
        incidents: SignatureExtractor | None = None,
        calibrator: Calibrates | None = None,
    ) -> None:
        self.analyser = analyser
        self.calibrator = calibrator
        self.model = model
        self.settings = settings or ClassifierSettings()
        self.grouper = grouper
        # What a post reports happened feeds category and priority too (the grouper's extractor).
        if incidents is None:
            incidents = grouper.extractor if grouper is not None else _default_incidents()
        self.incidents = incidents
        self._priority_kinds = PriorityKinds.of(incidents.priority_role, incidents.type_weight)
        self._indexer = FeatureIndexer(model.index)
        self._auto_replier = AutoReplier(templates, self.settings)

    # ------------------------------------------------------------------ public API
    def classify(self, post: Post) -> Decision:
        """Classify one post and link it to an incident group. Never raises on bad text."""
        analysis = self.analyser.analyse(post)
        # A post the spam rules settle (see decide) reports no incident and joins no group.
        cues = analysis.cues
        settled_spam = analysis.empty or (
            ("spam_impersonation" in cues or "spam_generic" in cues)
            and not any(c in cues for c in ("safety_driving", "safety_person", "legal"))
        )
        signature = (
            _NO_INCIDENT
            if settled_spam
            else self.incidents.extract(
                analysis.clean.text, windows=analysis.windows, language=analysis.language
            )
        )
        core = self.decide(post, analysis, signature)
        group_id: str | None = None
        summary = None
        confidence = dict(core.confidence)
        reasons = list(core.reasons)
        if self.grouper is not None and core.category not in ("spam", "unknown"):
            assignment = self.grouper.assign(
                brand=post.brand,
                text=analysis.clean.text,
                at=post.created_at,
                post_id=post.id,
                category=core.category,
                signature=signature,
                **(
                    {"incident_p": confidence.get("incident")}
                    if isinstance(self.grouper, IncidentLinker)
                    else {}
                ),
            )
            group_id, summary = assignment.group_id, assignment.summary
            if group_id is not None:
                confidence["group"] = round(min(1.0, 0.5 + assignment.score / 4), 4)
                if assignment.shared:
                    reasons.append(f"group {group_id}: shares {', '.join(assignment.shared)}")
                else:
                    reasons.append(f"group {group_id}: opened a new incident")
        return Decision(
            queue=CATEGORY_QUEUE[core.category],
            category=core.category,
            priority=core.priority,
            sentiment=core.sentiment,
            language=core.language,
            auto_reply=core.auto_reply,
            group_id=group_id,
            version=MODEL_VERSION,
            confidence=confidence,
            reasons=reasons,
            group_summary=summary,
        )

    # ------------------------------------------------------------------ decision rules
    def decide(self, post: Post, analysis: Analysis, signature: IncidentSignature | None = None) -> _Core:
        """Everything but grouping: pure given the post, its analysis and incident signature."""
        if signature is None:
            signature = self.incidents.extract(analysis.clean.text, language=analysis.language)
        incident = self.incidents.reported(signature) if "earlier" not in signature.facets else frozenset()
        cues = analysis.cues
        lang = analysis.language
        reasons: list[str] = []
        if analysis.empty:
            return self._no_text(post, analysis)
        probs = self.model.predict_indices(self._indexer.indices(post, analysis))
        cat_p = probs["category"]

        # -- category: strong rule cues first, then the model
        forced: str | None = None
        cue: str
        safety = next((c for c in ("safety_driving", "safety_person") if c in cues), None)
        if safety and "legal" in cues:
            # Both: an ongoing danger is safety; a past one (even "today") with a lawyer is legal.
            ongoing = "active_trip" in cues and cues["active_trip"].snippet.lower() not in TODAY
            forced = "safety" if ongoing and "past_trip" not in cues else "legal"
            cue = safety if forced == "safety" else "legal"
            reasons.append(f"rule {cue}: '{_snip(analysis, cue)}' (safety and legal cues both fired)")
        elif safety:
            forced = "safety"
            reasons.append(f"rule {safety}: '{_snip(analysis, safety)}'")
        elif "legal" in cues:
            forced = "legal"
            reasons.append(f"rule legal: '{_snip(analysis, 'legal')}'")
        elif "spam_impersonation" in cues or "spam_generic" in cues:
            cue = "spam_impersonation" if "spam_impersonation" in cues else "spam_generic"
            forced = "spam"
            reasons.append(f"rule {cue}: '{_snip(analysis, cue)}'")
        else:
            marketing = next(
                (c for c in ("marketing_collab", "marketing_press", "marketing_contest") if c in cues), None
            )
            if marketing is not None and cat_p.get("complaint", 0.0) < 0.6:
                forced = "promo"
                reasons.append(f"rule {marketing}: '{_snip(analysis, marketing)}'")
        if forced is not None:
            category = forced
            cat_conf = max(0.9, cat_p.get(forced, 0.0))
        else:
            ranked = sorted(cat_p.items(), key=lambda kv: kv[1], reverse=True)
            category, cat_conf = ranked[0]
            if category in ("safety", "legal") and cat_conf < 0.5:
                # No safety/legal cue fired: take those labels from the model only when sure.
                category, cat_conf = next((c, p) for c, p in ranked if c not in ("safety", "legal"))
            reasons.append(f"model category={category} p={cat_conf:.2f}")
            category, cat_conf = self._category_checks(
                analysis, category, cat_conf, ranked, reasons, incident - self._priority_kinds.weak_now
            )

        priority, pri_conf = self._priority(
            post, analysis, category, probs["priority"], reasons, incident, places=bool(signature.entities)
        )
        sentiment, sent_conf = self._sentiment(analysis, category, probs["sentiment"], reasons)
        # A FAQ asked about an incident of any kind (grouping's word families too: a skipped
        # stop, luggage still under the bus) is for a person.
        if "earlier" not in signature.facets:
            incident |= {m for m, w in signature.mentions.items() if w >= 1.0}
        auto_reply, ar_conf = self._auto_replier.choose(
            post, analysis, category, cat_conf, sentiment, probs.get("auto_reply", {}), reasons, incident
        )
        queue_conf = sum(p for c, p in cat_p.items() if CATEGORY_QUEUE[c] == CATEGORY_QUEUE[category])
        confidence = {
            "queue": round(max(queue_conf, cat_conf), 4),
            "category": round(cat_conf, 4),
            "priority": round(pri_conf, 4),
            "sentiment": round(sent_conf, 4),
            "language": round(analysis.language_confidence, 4),
            "auto_reply": round(ar_conf, 4),
        }
        if "incident" in probs:  # how likely the post is about an incident (the learned joins)
            confidence["incident"] = round(probs["incident"].get("yes", 0.0), 4)
        if analysis.clean.truncated:
            reasons.append("text truncated for analysis")
        return _Core(category, priority, sentiment, lang, auto_reply, confidence, reasons)

    @staticmethod
    def _category_checks(
        analysis: Analysis,
        category: str,
        conf: float,
        ranked: list[tuple[str, float]],
        reasons: list[str],
        incident: frozenset[str] = frozenset(),
    ) -> tuple[str, float]:
        """Taxonomy checks on the model's category, from cues that generalise beyond wording.

        - Very short asks ("dm me", "hello?") are a cx request/query.
        - A report of a problem the taxonomy lists as a complaint (charged twice, refund not
          received, stranded, data exposed) is a complaint, not praise/other, nor a "query"
          when it asks nothing.
        - Praise needs some praise; a problem report without praise words and without
          clearly positive tone is not praise.
        - A "query" with no question in it that reports a problem is a complaint.
        """
        cues = analysis.cues
        if "short_ask" in cues and category not in ("safety", "legal", "spam"):
            snippet = _snip(analysis, "short_ask").lower()
            new = "query" if "?" in snippet else "request"
            if new != category:
                reasons.append(f"rule short_ask: '{snippet}' is a very short {new}")
            return new, max(conf, 0.6)
        act = next((c for c in ("act_on_account", "resend_ask") if c in cues), None)
        if category in ("query", "other") and act is not None:
            reasons.append(f"rule {act}: '{_snip(analysis, act)}' asks us to act on a booking: request")
            return "request", max(conf, dict(ranked).get("request", 0.0), 0.6)
        strong_problem = [
            c for c in ("double_charge", "refund_overdue", "stranded_now", "data_breach") if c in cues
        ]
        asks = "question" in cues
        # a thank-you to the driver who waited for riders "stuck behind the runners" stays praise
        chatter = ("other",) if "praise_words" in cues else ("praise", "other")
        if strong_problem and (category in chatter or (category == "query" and not asks)):
            reasons.append(
                f"rule {strong_problem[0]}: a reported problem is a complaint (model said {category})"
            )
            return "complaint", max(0.6, dict(ranked).get("complaint", 0.0))
        if (
            category == "praise"
            and "problem" in cues
            and "praise_words" not in cues
            and analysis.sentiment.compound < 0.5
        ):
            reasons.append(f"rule problem: '{_snip(analysis, 'problem')}' without praise words is not praise")
            return "complaint", max(0.5, dict(ranked).get("complaint", 0.0))
        if category == "other" and incident and "praise_words" not in cues:
            # A fault of a trip reported now (breakdown, no bus, app down) is never chatter,
            # in whichever language the model knows least; an accident is a safety issue.
            to = "safety" if "accident" in incident else "complaint"
            reasons.append(f"rule incident: reports {', '.join(sorted(incident))}: {to}")
            return to, max(0.5, dict(ranked).get(to, 0.0))
        if category in ("query", "other") and "problem" in cues and not asks:
            reasons.append(f"rule problem: '{_snip(analysis, 'problem')}' reported, nothing asked: complaint")
            return "complaint", max(0.5, dict(ranked).get("complaint", 0.0))
        return category, conf

    def _no_text(self, post: Post, analysis: Analysis) -> _Core:
        text = analysis.clean.text
        # (category, priority, sentiment, queue/category/priority/sentiment confidence, why)
        if "?" in text:  # taxonomy: very short asks ("??") are a cx query at medium priority
            c, p, s, conf, why = (
                "query",
                "medium",
                "neutral",
                (0.6, 0.6, 0.6, 0.8),
                "no words, only a question mark: a very short ask",
            )
        elif text:
            c, p, s, conf = "other", "low", analysis.sentiment.bucket, (0.7, 0.6, 0.9, 0.6)
            why = "no words (emoji or symbols only): nothing to act on"
        else:
            c, p, s, conf, why = "unknown", "low", "neutral", (0.5, 0.0, 0.5, 0.5), "empty or unreadable text"
        fields = ("queue", "category", "priority", "sentiment")
        return _Core(c, p, s, "und", None, {**dict(zip(fields, conf, strict=True)), "language": 0.0}, [why])

    def _priority(
        self,
        post: Post,
        analysis: Analysis,
        category: str,
        probs: dict[str, float],
        reasons: list[str],
        incident: frozenset[str] = frozenset(),
        *,
        places: bool = False,
    ) -> tuple[str, float]:
        decided = decide_priority(
            post,
            analysis,
            category,
            probs,
            viral_followers=self.settings.viral_threshold(post.brand),
            incident=incident,
            places=places,
            kinds=self._priority_kinds,
            model_high=self.settings.priority_model_high,
        )
        if self.calibrator is not None and self.settings.priority_calibration:
            decided = self.calibrator.calibrate(decided, post, category, probs)
        reasons.append(f"priority {decided.level}: {'; '.join(decided.factors)}")
        return decided.level, decided.confidence

    def _sentiment(
        self, analysis: Analysis, category: str, probs: dict[str, float], reasons: list[str]
    ) -> tuple[str, float]:
        score = analysis.sentiment
        if score.sarcasm_flip:
            reasons.append("sentiment: sarcasm cue flips positive wording")
        if category == "spam":
            return "neutral", 0.9
        if category == "praise":
            return "positive", max(0.8, probs.get("positive", 0.0))
        if category == "complaint":
            return "negative", max(0.8, probs.get("negative", 0.0))
        if category in ("safety", "legal"):
            label = "neutral" if probs.get("neutral", 0.0) > 0.7 and score.compound > 0.2 else "negative"
            return label, max(0.6, probs.get(label, 0.0))
        label = max(probs, key=lambda k: probs[k])
        return label, probs[label]


def _default_incidents(data_dir: Path = DATA_DIR) -> SignatureExtractor:
    return SignatureExtractor.from_file(data_dir / "grouping.yaml")


def build_analyser(
    data_dir: Path = DATA_DIR, *, extra_cues: Mapping[str, Mapping[str, list[str]]] | None = None
) -> Analyser:
    """Rules, language detector and sentiment scorer from the repository's data files."""
    return Analyser(
        load_lexicon(data_dir / "lexicon.yaml", extra_cues=extra_cues), LanguageDetector(), SentimentScorer()
    )


def load_default_classifier(
    settings: ClassifierSettings | None = None, *, data_dir: Path = DATA_DIR
) -> Classifier:
    """The production classifier: rules, model, auto-reply templates and grouper from the repo.

    >>> clf = load_default_classifier()
    >>> clf.classify(Post(id="1", brand="ourbus", platform="x", kind="dm",
    ...                   author_followers=10, text="are pets allowed?")).category
    'query'
    """
    settings = settings or ClassifierSettings()
    model_path = data_dir / "model.npz"
    if not model_path.exists():
        raise FileNotFoundError(f"{model_path} is missing: run `python -m socialdesk_classifier.cli train`")
    analyser = build_analyser(data_dir, extra_cues=settings.extra_cues)
    return Classifier(
        analyser=analyser,
        model=LinearModel.load(model_path),
        templates=load_templates(data_dir / "templates.yaml", cues=analyser.lexicon.names),
        grouper=IncidentLinker.from_data(data_dir, settings.grouping),
        settings=settings,
        calibrator=PriorityCalibrator.from_data(data_dir),
    )
