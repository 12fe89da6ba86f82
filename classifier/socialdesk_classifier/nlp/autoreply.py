"""Whether a post gets a saved answer, and which one.

The model proposes a template; the rules here decide whether it may be sent. Which topic
cue a template needs, which categories it answers, which brands it is for and which other
template's question it answers better all come from ``data/templates.yaml``
(:class:`Template`), so no brand is named in code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from socialdesk_classifier.nlp.features import Analysis
from socialdesk_classifier.nlp.priority_factors import conditional
from socialdesk_classifier.nlp.settings import ClassifierSettings
from socialdesk_classifier.nlp.types import Post

__all__ = ["AutoReplier", "Template", "load_templates"]

#: Cues that say a person must answer, whatever the template's probability: anger, a
#: problem under way, or anything that asks us to look at or act on one account, booking,
#: payment or ticket (a booking reference, the state of one booking, a payment of one's own
#: that failed, cancel / change / refund this / resend to / why was I charged).
_NO_AUTO_REPLY_CUES = (
    "anger",
    "sarcasm",
    "double_charge",
    "refund_overdue",
    "stranded_now",
    "data_breach",
    "needs_agent",
    "act_on_account",
    "booking_ref",
    "status_ask",
    "arrival_ask",
    "own_trouble",
    "fault_report",
)
#: Share of upper-case letters from which a post reads as shouting (no saved answer).
_SHOUTING = 0.5

#: An exception to a policy ("is an exception possible for my 30 kg dog?"), or a medical or
#: accessibility need (oxygen, a wheelchair, a doctor's note): the saved policy answer does
#: not settle it, a person does. Read here, not as a lexicon cue, so the model's features
#: (and every other decision) stay as they are.
_EXCEPTION_OR_NEED = re.compile(
    # not "with the exception of Sundays" (a policy's own wording, in five languages)
    r"(?<!the )(?<!l')(?<!l’)(?<!\ba )(?<!\bcom )(?<!\bmit )"
    r"\b(exceptions?|special (permission|arrangement|accommodation|case)s?|"
    r"oxygen|cpap|bipap|nebuli[sz]er|ventilator|dialysis|insulin|wheelchair|mobility scooter|"
    r"medical (device|equipment|condition|need|reasons?)|doctor['’]?s (note|letter|orders?)|"
    r"excepci[oó]n(es)?|permiso especial|caso especial|ox[ií]geno|silla de ruedas|insulina|"
    r"di[aá]lisis|receta m[eé]dica|certificado m[eé]dico|mi m[eé]dico|"
    r"exce[cç][aã]o|exce[cç][oõ]es|permiss[aã]o especial|oxig[eê]nio|cadeira de rodas|di[aá]lise|"
    r"atestado m[eé]dico|meu m[eé]dico|"
    r"autorisation sp[eé]ciale|cas particulier|oxyg[eè]ne|fauteuil roulant|insuline|dialyse|"
    r"certificat m[eé]dical|mon m[eé]decin|"
    r"ausnahme\w*|sondergenehmigung|sonderfall|sauerstoff\w*|rollstuhl\w*|ärztlich\w*|"
    r"mein arzt|meine ärztin|"
    r"pengecualian|izin khusus|kasus khusus|oksigen|kursi roda|dokter|medis|cuci darah)\b|"
    # 无一例外 / 例外なく: "without exception"
    r"(?<!无一)例外(?!なく)|破例|特殊情况|特批|通融|制氧机|氧气|轮椅|医生说|医嘱|胰岛素|透析|特例|酸素|"
    r"車椅子|車いす|医師|医者|インスリン",
    re.IGNORECASE,
)


#: Someone close to the asker, whose address a ticket may be sent to instead.
_KIN = (
    r"(daughter|son|mom|mum|mother|dad|father|wife|husband|partner|friend|sister|brother|kid|child|"
    r"grand(ma|mother|pa|father|son|daughter)|girlfriend|boyfriend|niece|nephew|aunt|uncle|cousin|boss|colleague|roommate)"
)
#: Asks a person to do something to one booking that no saved answer does: put a note or a
#: flag on it ("can you note my service dog on my booking"), or send its ticket to someone
#: else's address ("al correo de mi hija"). The lexicon's ``act_on_account`` reads cancel /
#: change / refund / resend-to-a-new-address; these two were missing in every language.
#: Read here, like the exceptions above, so the model's features stay as they are.
_ACT_FOR_ME = re.compile(
    # a note or a flag put on one booking
    r"\b(note|mark|flag|record|register|log|indicate|put (it|that|a note))\b.{0,30}\b(on|in|to|against) (my|our|the|her|his) (booking|reservation|ticket|order|account|trip)\b|"
    r"\b(add|leave) a (note|remark|comment) (on|to|in) (my|our|the|her|his) (booking|reservation|ticket|order|account)\b|"
    r"\b(anot\w+|apunt\w+|registr\w+|marc\w+)\b.{0,30}\b(en|na|no) (mi|minha|meu|la|a|o) (reserva|boleto|pasaje|passagem|billete|pedido)\b|"
    r"\b(not\w+|indiqu\w+|ajout\w+ une note)\b.{0,30}\b(sur|dans) (ma|mon) (r[ée]servation|billet|commande)\b|"
    r"\b(in|auf|bei) meine[rm]? (buchung|reservierung|ticket)\b.{0,30}\b(vermerk\w*|notier\w*|eintrag\w*)\b|\b(vermerk\w*|notier\w*)\b.{0,30}\b(in|auf|bei) meine[rm]? (buchung|reservierung)\b|"
    r"\b(catat\w*|tandai|tambahkan catatan)\b.{0,30}\b(di|pada|ke) (pemesanan|booking|tiket|reservasi)\b|"
    r"(订单|预订|预约|票)(上|里)?.{0,6}(备注|注明|标注)|(备注|注明|标注)(一下)?.{0,10}(订单|预订|预约|票)|"
    r"予約.{0,6}(メモ|記載|追記|備考|書いて)|"
    # a ticket sent to someone else's address
    rf"\b(send|resend|forward|email|e-mail)\b.{{0,40}}\bto (my|our) {_KIN}'?s? (e-?mail|address|inbox|account)\b|"
    rf"\b(send|resend|forward)\b.{{0,40}}\b(to|for) (my|our) {_KIN}\b|"
    r"\b(correo|email|e-mail|mail)\s+(de|da|do)\s+(mi|minha|meu|mis)\s+(hij[oa]s?|madre|padre|mam[aá]|pap[aá]|espos[oa]|novi[oa]|amig[oa]|herman[oa]|abuel[oa]|filh[oa]s?|m[aã]e|pai|marido|mulher|irm[aã]o?|av[oó]|t[ií][oa])\b|"
    r"\b(adresse|e-?mail|mail)\s+de\s+(ma|mon|mes)\s+(fille|fils|m[eè]re|p[eè]re|femme|mari|ami[e]?|s[oœ]ur|fr[eè]re|copine|copain)\b|"
    r"\b(e-?mail|adresse|mail)\b.{0,15}\b(meine[rs]?|meiner) (tochter|sohn(es)?|mutter|vaters?|frau|mann(es)?|freundin|freund(es)?|schwester|bruders?)\b|"
    r"\b(email|e-mail|surel)\s+(anak|ibu|ayah|istri|suami|teman|adik|kakak)\s+saya\b|"
    r"(发|寄|转)(到|给).{0,4}(我)?(女儿|儿子|妈妈|母亲|爸爸|父亲|老婆|妻子|丈夫|老公|朋友|妹妹|弟弟|姐姐|哥哥)的?(邮箱|邮件)|"
    r"(娘|息子|母|父|妻|夫|友人|友達|妹|弟|姉|兄)(の)?(メール|アドレス)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Template:
    """An auto-reply template (a label of the model's auto-reply head) and when it may be sent.

    Declared in ``data/templates.yaml``, so a new brand or a brand-specific answer is a
    data change, not a code change (nor a retraining).
    """

    name: str
    #: The cue that must fire: a saved answer to a post not about its topic is worse than none.
    topic: str | None = None
    #: The categories it may answer.
    answers: frozenset[str] = frozenset({"query"})
    #: The brands it is for; ``None``: every brand.
    brands: frozenset[str] | None = None
    #: Another template whose question this one answers better when the cue ``when`` fires
    #: (for this template's brands only), with the reason shown to the agent.
    replaces: str | None = None
    when: str | None = None
    reason: str = ""

    def serves(self, brand: str) -> bool:
        """Whether this template may be sent on behalf of ``brand``."""
        return self.brands is None or brand in self.brands


def load_templates(path: Path, *, cues: frozenset[str]) -> dict[str, Template]:
    """Read ``templates.yaml``; raises ``ValueError`` naming a template that names an unknown
    cue (its rule would never hold) or replaces an unknown template."""
    with path.open(encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    if not isinstance(spec, Mapping):
        raise ValueError(f"templates {path}: top level must be a mapping")
    out: dict[str, Template] = {}
    for name, body in spec.items():
        body = body or {}
        replaces = body.get("replaces") or {}
        brands = body.get("brands")
        template = Template(
            name=str(name),
            topic=body.get("topic"),
            answers=frozenset(body.get("answers") or ("query",)),
            brands=frozenset(str(b) for b in brands) if brands is not None else None,
            replaces=replaces.get("template"),
            when=replaces.get("when"),
            reason=str(replaces.get("reason") or ""),
        )
        for cue in (template.topic, template.when):
            if cue is not None and cue not in cues:
                raise ValueError(f"templates: template {name!r} names unknown cue {cue!r}")
        if template.replaces is not None and template.when is None:
            raise ValueError(
                f"templates: template {name!r} replaces {template.replaces!r} but says no 'when'"
            )
        out[template.name] = template
    for template in out.values():
        if template.replaces is not None and template.replaces not in out:
            raise ValueError(
                f"templates: template {template.name!r} replaces unknown template {template.replaces!r}"
            )
    return out


class AutoReplier:
    """Proposes an auto-reply only for a calm question whose topic cue fires and whose
    template probability clears the brand's threshold; never for complaints or anger."""

    def __init__(self, templates: Mapping[str, Template], settings: ClassifierSettings) -> None:
        self._templates = dict(templates)
        self._settings = settings
        # template -> the templates that may answer its question better (declared order).
        self._replaced_by: dict[str, list[Template]] = {}
        for t in self._templates.values():
            if t.replaces is not None:
                self._replaced_by.setdefault(t.replaces, []).append(t)

    def choose(
        self,
        post: Post,
        analysis: Analysis,
        category: str,
        cat_conf: float,
        sentiment: str,
        probs: Mapping[str, float],
        reasons: list[str],
        incident: frozenset[str] = frozenset(),
    ) -> tuple[str | None, float]:
        """(template or None, confidence) from the auto-reply head's ``probs``; appends the why
        to ``reasons``. ``incident``: incident types the post reports happening now (a FAQ
        asked in the middle of a breakdown or a no-show is for a person)."""
        if category not in ("query", "request") or not self._settings.auto_reply_on(post.brand):
            return None, 1.0 - max((p for k, p in probs.items() if k != "none"), default=0.0)
        cues = analysis.cues
        blocked = [c for c in _NO_AUTO_REPLY_CUES if c in cues]
        template = max((k for k in probs if k != "none"), key=lambda k: probs[k], default=None)
        if template is None:
            return None, 1.0
        p = probs[template]
        for better in self._replaced_by.get(template, ()):
            if better.serves(post.brand) and better.when in cues:
                template, p = better.name, max(p, probs.get(better.name, 0.0))
                reasons.append(f"{better.reason}: {better.name}")
                break
        spec = self._templates.get(template) or Template(template)
        threshold = self._settings.auto_reply_threshold(post.brand)
        if category not in spec.answers:
            return None, 1.0 - p
        why_not = None
        if blocked:
            why_not = f"blocked by {', '.join(blocked)}"
        elif incident and not conditional(analysis):  # "what if my rally gets cancelled?" asks
            why_not = f"reports an incident under way ({', '.join(sorted(incident))})"
        elif sentiment == "negative" or analysis.sentiment.compound <= -0.3:
            why_not = "negative tone"
        elif analysis.clean.caps_ratio >= _SHOUTING:
            why_not = "shouting (caps)"
        elif (need := _EXCEPTION_OR_NEED.search(analysis.clean.text)) is not None:
            why_not = f"asks for an exception or a medical or accessibility need ('{need.group(0)}')"
        elif (act := _ACT_FOR_ME.search(analysis.clean.text)) is not None:
            why_not = f"asks a person to act on a booking ('{act.group(0)}')"
        elif cat_conf < 0.5:
            # A saved answer sent to a post that is not really a question is worse than none.
            why_not = f"unsure it is a {category} (p={cat_conf:.2f})"
        elif "past_trip" in cues:
            why_not = "refers to a past trip (likely a grievance, not a FAQ)"
        elif spec.topic is not None and spec.topic not in cues:
            why_not = f"topic cue {spec.topic} did not fire"
        elif not spec.serves(post.brand):
            why_not = f"not a template of brand {post.brand}"
        elif p < threshold:
            why_not = f"p={p:.2f} < threshold {threshold:.2f}"
        if why_not is not None:
            if p >= 0.3:
                reasons.append(f"no auto-reply {template}: {why_not}")
            return None, 1.0 - p
        reasons.append(f"auto-reply {template}: p={p:.2f} >= {threshold:.2f} and topic cue fired")
        return template, p
