"""The facts priority is decided from, each a small test on one post (issue 14).

Word families in every language the classifier detects (en es fr pt zh ja id, de where
cheap); the named lexicon cues (``data/lexicon.yaml``) carry most of them, and the few
facts here are about how those cues combine: whether the rider is still stuck or has since
found their own way, whether what was left behind is people or their luggage, whether a
broken-down bus strands its riders at the pickup or is a trip in trouble on the road, and
whether a time word is pressure for this kind of post.

Every regex here runs only after a cheaper cue already fired, so the hot path pays nothing
for posts they cannot concern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from socialdesk_classifier.nlp.departures import departure_times
from socialdesk_classifier.nlp.features import Analysis

__all__ = [
    "TimePressure",
    "after_the_fact",
    "at_pickup_now",
    "booking_specifics",
    "conditional",
    "hypothetical",
    "luggage_left_now",
    "minutes_overdue",
    "names_a_vehicle",
    "over_by_now",
    "shouts",
    "still_coming",
    "stuck_at_the_pickup",
    "time_pressure",
    "told_in_past",
]

#: The rider has since found their own way, or got there in the end: no longer stranded.
_RESOLVED = re.compile(
    r"\b(gave up|giving up|took an? (uber|lyft|taxi|cab|train)|paid .{0,25}\b(uber|lyft|taxi|cab|car)|"
    r"bought an? .{0,20}ticket|got home|made it (home|back|there|in the end)|finally (came|arrived|picked us up)|"
    r"driving ourselves|just got off|got off the (\S+ ){0,2}bus|missed my (bus|trip|\w+ bus)|in the end|"
    r"we did get there|eventually (came|arrived|got)|late (for|to) work|"
    r"ended up (paying|taking|getting|driving|booking|renting|on)|had to (pay|take|get|book|rent) (a|an|for|another)|"
    r"tuvimos que (pagar|tomar)|tive que (pagar|pegar)|"
    r"(nous avons|on a|j'ai) d[uû] (payer|prendre)|"
    r"desistimos|desisti|tuve que (pagar|tomar)|tomamos un (taxi|uber)|llegu[eé] tarde|"
    r"cheguei atrasad[oa]|peguei um (uber|t[aá]xi)|tivemos que pagar|"
    r"on a pris un (taxi|uber)|j'ai pris un (taxi|uber|train)|arriv[ée]e? en retard|"
    r"naik (taksi|ojek|grab|gojek)|akhirnya sampai|"
    # took a train, a taxi or the next bus instead, in every language (session 7)
    r"(took|caught|grabbed|got) (the|a|an) (train|uber|lyft|taxi|cab|next bus|later bus)|"
    r"(tomamos|tom[eé]|cogimos) (el|un) (tren|taxi|uber|siguiente)|(pegamos|peguei) (o|um) (trem|t[aá]xi|uber|pr[oó]ximo)|"
    r"(on a|j'ai|nous avons) pris (le|un) (train|taxi|uber|bus suivant)|(mit dem zug|ein taxi genommen|taxi genommen)|"
    r"terpaksa naik|naik (uber|kereta|bus berikutnya))\b"
    r"|打车回|坐了出租|最后到了|タクシーで帰|結局(着|間に合)"
    r"|(自己|只好|只能)(坐|打|叫).{0,4}(火车|高铁|出租|车|uber|滴滴)|坐火车去了|打车去了"
    r"|タクシー(代|で)|電車で(行|帰)|次の便に乗れ|新幹線で"
    # boarded or moving in the end: the trouble is over (session 10)
    r"|\b(finally (moving|rolling|boarded|on the (bus|road|way))|(we'?re|we are) (finally )?(moving|rolling) again|"
    r"ended up (leaving|boarding)|on a fini par (partir|monter|embarquer)|(al final|por fin) (salimos|subimos|arrancamos)|"
    r"(no fim|finalmente) (sa[ií]mos|embarcamos)|(endlich|schlie(ß|ss)lich) (losgefahren|eingestiegen)|"
    r"akhirnya (berangkat|bisa naik|jalan lagi))\b"
    r"|(最后|终于)(还是)?(上车|出发)了|結局乗れ|やっと(乗れ|出発)",
    re.IGNORECASE,
)
#: The bus is late but still coming, or the departure is still ahead: a trip in trouble
#: (high), nobody stranded yet (dev.jsonl: "very late but still on its way, so high").
_STILL_COMING = re.compile(
    r"\b((leaves|departs|leaving|departing|departure is|pickup is|boarding is) in \d+|"
    r"(driver|captain|bus|it|he|she) (is|says|said|was)( [\w'’]+){0,3} (lost|on (his|her|the|its) way|running late|"
    r"stuck in traffic|\d+ ?(min|mins|minutes) away|en route|coming)|"
    r"(tracker|app) (says|shows) (it'?s |the bus is )?\d+ ?(min|mins|minutes) away)\b",
    re.IGNORECASE,
)
#: Asking for the money back: written after the trip, not from the curb.
_REFUND_DEMAND = re.compile(
    r"\b(i|we) (want|expect|demand|need) (my|our|a|the|full|that|this)?\s?(full |\$\d+ |money )?"
    r"(refund|reimburs\w*|money back|back|\$\d+ back)|\bwant (that|it) reimbursed\b|"
    r"\b(quiero|exijo) (mi|el|un) (reembolso|dinero)|\b(quero|exijo) (o|meu|um) (reembolso|dinheiro|estorno)|"
    r"\bje (veux|demande) (un |à [êe]tre )?rembours|\bich will mein geld",
    re.IGNORECASE,
)
#: Someone at the pickup point right now (with a trip cancelled under them, stranded).
_AT_PICKUP_NOW = re.compile(
    r"\b((still|are|we'?re|i'?m|been) (standing|waiting|stuck|sitting)\b|on the curb|"
    r"at the (stop|pickup|pick-up)( point)?( (now|right now))?|we'?re at the|i'?m at the|"
    r"(estamos|estoy|seguimos) (en|esperando|no ponto|na parada)|estou no ponto|"
    r"on attend (toujours|encore|devant)|nous attendons|masih menunggu|kami di halte)\b"
    r"|我们在.{0,12}等|还在等|待っています|立ち往生",
    re.IGNORECASE,
)
#: Where a broken-down bus leaves its riders: at the pickup, lot or stop (the trip cannot
#: start: stranded) rather than on the road (a trip under way in trouble).
_PICKUP_PLACE = re.compile(
    r"\b(parking lot|the lot|in the lot|at the (stop|pickup|station|venue|stadium|lodge)|"
    r"estacionamiento|parada|estacionamento|ponto|parking|arr[eê]t|gare|halte|terminal|parkplatz)\b"
    r"|駐車場|バス停|停车场|车站|上车点",
    re.IGNORECASE,
)
_STUCK = re.compile(
    r"\b(stuck|stranded|no way (home|back)|how are we (supposed|going) to get (back|home)|"
    r"varad[oa]s|presos|bloqu[ée]s|coinc[ée]s|terlantar|gestrandet)\b|被困|困在|滞留|立ち往生|取り残",
    re.IGNORECASE,
)
#: Luggage someone's bag was left behind / never loaded / is missing today.
_LUGGAGE_LEFT = re.compile(
    r"\b(bags?|luggage|suitcases?|maletas?|equipaje|malas|bagagem|valises?|bagages?|koper|tas)\b"
    r".{0,60}\b(left|stayed|missing|never (got )?loaded|not loaded|lost|went to|dejaron|quedaron|se quedaron|"
    r"ficaram|restées?|sans les charger|tertinggal|hilang)\b|"
    r"\b(left|dejaron|missing|lost)\b.{0,30}\b(our|my|their|nuestras|mis) (bags?|luggage|suitcases?|maletas)\b"
    r"|没装.{0,6}行李|行李.{0,10}(不见|丢|没装|不知道在哪)|荷物.{0,10}(置いて|積まれ|なくな|紛失)",
    re.IGNORECASE,
)
#: People, not only their bags, were left: "without us", "left me".
_PEOPLE_LEFT = re.compile(
    r"\b(without (me|us)|left (me|us)|sin nosotros|sans nous|sem a gente|sem n[oó]s|ohne uns)\b"
    r"|丢下我们|置いていかれ|ditinggal",
    re.IGNORECASE,
)
#: A bus, a rally or its crew is what did not come (not a ticket that did not show in an app).
_VEHICLE = re.compile(
    r"\b(bus|buses|autob[uú]s|[oô]nibus|coach|car|rally|shuttle|van|captain|driver|chofer|motorista|"
    r"chauffeur|pickup|busnya|bis)\b|バス|巴士|大巴|车|班车",
    re.IGNORECASE,
)
#: A bus that broke down or will not start (with or without the grouping's incident type).
_BROKEN = re.compile(
    r"\b(broke down|broken down|is dead|died|won'?t start|se aver[ií][oó]|se descompuso|quebrou|"
    r"en panne|mogok|rusak)\b|故障|抛锚|坏了|動かない",
    re.IGNORECASE,
)
#: Fear of being stranded, not a stranding ("don't want to get turned away at the door").
_HYPOTHETICAL = re.compile(
    r"\b(don'?t want to|do not want to|afraid|worried|in case|what if|will (i|we) (be|get)|"
    r"would (i|we) (be|get)|could (i|we) (be|get)|no quiero|n[aã]o quero|je ne veux pas)\b",
    re.IGNORECASE,
)
#: A question about what would happen ("if the bus gets cancelled"), not what did.
_CONDITIONAL = re.compile(
    r"\b(if|in case|what happens|si|se|caso|jika|kalau|apabila|falls|wenn)\b|如果|要是|万一|もし|場合",
    re.IGNORECASE,
)
#: A past verb right before "this morning": the booking was made earlier, the trip is not now.
_DONE_EARLIER = re.compile(
    r"\b(made|bought|booked|purchased|paid|cancell?ed|happened|was|were|had|got|did)\b.{0,25}"
    r"\b(this (morning|afternoon)|earlier today)\b",
    re.IGNORECASE,
)


#: A trip told in the past tense ("the toilet was broken", "got us home at 3am", "寒すぎた"):
#: what went wrong on board is over, not a trip in trouble now.
_TOLD_IN_PAST = re.compile(
    r"\b(was|were|wasn'?t|weren'?t|had|got|made|did|didn'?t|couldn'?t|fue|estaba|estuvo|hubo|"
    r"tuvimos|foi|estava|tivemos|était|a été|avons eu|on a eu|war|waren|hatten)\b|"
    r"上次|那次|前回|(?:た|かった|でした)(?:[。！!…]|$)",
    re.IGNORECASE,
)


def told_in_past(analysis: Analysis) -> bool:
    """The post tells its trip in the past tense (read only after an on-board kind fired)."""
    return _TOLD_IN_PAST.search(analysis.clean.text) is not None


#: The words for "today" the active-trip cue reads: they date a post, they do not say a
#: danger is still going on (classifier.decide, safety against legal).
TODAY = frozenset({"today", "hoy", "hoje", "aujourd'hui", "heute", "hari ini", "今天", "今日"})

#: Words that keep a trip going on in a post told otherwise in the past ("still", "waiting",
#: "bus comes in 20 minutes"), in every language the classifier reads.
_STILL_GOING = re.compile(
    r"\b(now|rn|still|currently|waiting|stuck|standing|sitting|in \d+ ?(min|mins|minutes|minuten|minutos)|"
    r"ahora|todav[ií]a|a[uú]n|esperando|agora|ainda|maintenant|toujours|j'attends|jetzt|immer noch|"
    r"warte|warten|sekarang|masih|nunggu|menunggu)\b|现在|还在|还没|まだ|今も|いま|待って",
    re.IGNORECASE,
)
#: The day words that date a trip (``active_trip``'s "today", "tonight"), not what is going on.
_DAY_WORDS = TODAY | {"tonight", "esta noche"}


def over_by_now(analysis: Analysis) -> bool:
    """Only a day word ("today", "heute") puts the trip in the present (the active-trip cue's
    first match), and the post tells it in the past tense with nothing still going on: the
    trip is over (a past trip: medium)."""
    hit = analysis.cues.get("active_trip")
    return (
        hit is not None
        and hit.snippet.lower() in _DAY_WORDS
        and told_in_past(analysis)
        and _STILL_GOING.search(analysis.clean.text) is None
        and "stranded_now" not in analysis.cues
    )


@dataclass(frozen=True, slots=True)
class TimePressure:
    """A time word that puts pressure on this post, and what it was."""

    kind: str  # "now" (under way, today, tonight, within hours), "tomorrow", "earlier today"
    snippet: str


def time_pressure(analysis: Analysis, category: str) -> TimePressure | None:
    """The time pressure this post is under, read the taxonomy's way for its category.

    - now, today, tonight, within hours, at the stop: pressure for every category;
    - tomorrow (within 24 hours): pressure for every category ("change my seat on tomorrow's
      7am" is high: the taxonomy's "trip within 24 hours", as dev.jsonl labels requests);
    - earlier today ("this morning"): a trip still ahead for a question; for a complaint,
      the time a problem happened (a past trip); for a request, pressure unless the thing
      was done earlier ("the booking I made this morning");
    - a request for money back about today's trip ("tonight's pickup never came, please
      refund"): none, the trip is over (dev.jsonl labels such asks medium).
    """
    cues = analysis.cues
    if "past_trip" in cues:
        return None
    if "next_day" in cues and "active_trip" not in cues:
        return TimePressure("tomorrow", cues["next_day"].snippet)
    if category == "request" and "topic_refund" in cues and not at_pickup_now(analysis):
        return None  # the money back for today's failed trip: an ordinary request (medium)
    if "active_trip" in cues:
        if category == "complaint" and over_by_now(analysis):
            return None  # "today's bus had no wifi": a trip of today's, told once it was over
        return TimePressure("now", cues["active_trip"].snippet)
    if "same_day" not in cues:
        return None
    if category == "query" or (category == "request" and _DONE_EARLIER.search(analysis.clean.text) is None):
        return TimePressure("earlier today", cues["same_day"].snippet)
    return None


#: The last post :func:`after_the_fact` read and its answer: priority asks it several times
#: of one post (an identity check, so a new post never reads a stale answer).
_AFTER_LAST: tuple[Analysis, bool] | None = None


def after_the_fact(analysis: Analysis) -> bool:
    """The rider got there or found another way, or writes to claim the money back: a past
    problem now, not someone stranded (unless they also say they are still waiting)."""
    global _AFTER_LAST
    last = _AFTER_LAST
    if last is not None and last[0] is analysis:
        return last[1]
    text = analysis.clean.text
    answer = _RESOLVED.search(text) is not None or (
        "stranded_now" not in analysis.cues and _REFUND_DEMAND.search(text) is not None
    )
    _AFTER_LAST = (analysis, answer)
    return answer


#: Shouting: a long word or a phrase in capitals ("SCREAMED", "THE NIGHT BEFORE"), not an
#: acronym ("NYC", "QR").
_SHOUT = re.compile(r"\b([A-Z]{6,}|[A-Z]{3,}\s+[A-Z]{3,})\b")


def shouts(analysis: Analysis) -> bool:
    """Part of the post is written in capitals, as people shout."""
    return analysis.clean.caps_ratio > 0.0 and _SHOUT.search(analysis.clean.text) is not None


def still_coming(analysis: Analysis) -> bool:
    """The bus is late but on its way, or the departure is still ahead: nobody stranded yet;
    or it is only minutes overdue ("pickup was 4:30, it's 4:45 and nothing", "15 min late")
    and nobody says it left or was cancelled: a late bus (high), not a no-show (critical),
    as dev.jsonl labels them ("45 min late" high, "pickup was 3:30, it's 4:10, NO bus" critical)."""
    text = analysis.clean.text
    if _STILL_COMING.search(text) is not None:
        return True
    if _NOT_YET.search(text) is not None and _GONE.search(text) is None and _HOURS.search(text) is None:
        return True
    late = minutes_overdue(text)
    return late is not None and late <= _FEW_MINUTES and _GONE.search(text) is None


#: "Not here yet": the rider still expects the bus (late, high), unless it left or was
#: cancelled (then stranded, critical).
_NOT_YET = re.compile(
    r"\b((has|have)n'?t (come|arrived|shown up|showed up|turned up) yet|(is|isn'?t|not) here yet|"
    r"(not|no) (sign of it|bus) yet|todav[ií]a no (llega|ha llegado|viene|aparece)|a[uú]n no (llega|ha llegado|viene)|"
    r"ainda n[aã]o (chegou|veio|apareceu)|(toujours|pas encore) (pas )?(arriv[ée]|l[àa])|"
    r"noch nicht (da|gekommen|angekommen)|belum (datang|sampai|nongol|muncul|dateng))\b|"
    r"还没(来|到)|还不来|まだ来(ない|ません|てない|ていない)|まだ(着か|到着し)",
    re.IGNORECASE,
)
#: A wait told in hours: past "late", whatever words say it has not come yet.
_HOURS = re.compile(
    r"\b(an? hour|hours?|\d+ ?hrs?|horas?|heures?|stunden?|jam)\b|小时|钟头|時間", re.IGNORECASE
)
#: Minutes a bus may be overdue and still read as late rather than not coming.
_FEW_MINUTES = 25
_OVERDUE = re.compile(
    r"(?<![\d:.])(\d{1,2}) ?(?:min|mins|minutes|minutos|minuten|menit)\b.{0,12}?"
    r"\b(?:late|later|behind|de retraso|de atraso|de retard|versp[äa]tung|telat|terlambat)\b|"
    r"\b(?:late|telat|terlambat|atrasad[oa]|retrasad[oa]) (\d{1,2}) ?(?:min|mins|minutes|minutos|menit)\b|"
    r"晚了?(\d{1,2})分钟|(\d{1,2})分(?:遅れ|遅延)",
    re.IGNORECASE,
)
#: The bus is gone, not late: it left, passed the stop or was cancelled.
_GONE = re.compile(
    r"\b(left|leaving|departed|gone|drove (past|by|off)|passed|pulled (away|off|out)|cancel\w*|"
    r"se fue|sali[oó]|pas[oó] de largo|cancel[oó]|foi embora|saiu|passou direto|cancelad[oa]|"
    r"(est|a) parti|annul[ée]|weggefahren|abgefahren|gestrichen|sudah berangkat|udah berangkat|lewat(?! \d)|batal)\b|"
    r"开走|走了|取消|出発し|行ってしまっ|運休",
    re.IGNORECASE,
)


def minutes_overdue(text: str) -> int | None:
    """How many minutes late the post says the bus is: "15 min late", or a scheduled time and
    the time now ("pickup was 4:30, it's 4:45"): two clock times under an hour apart."""
    m = _OVERDUE.search(text)
    if m is not None:
        return int(next(g for g in m.groups() if g))
    times = sorted(
        {int(k[1:].split(":")[0]) * 60 + int(k.split(":")[1]) for k in departure_times(text.lower())}
    )
    gaps = [b - a for a, b in pairwise(times) if 0 < b - a < 60]
    return min(gaps) if gaps else None


def at_pickup_now(analysis: Analysis) -> bool:
    """Someone says they are at the pickup, or still waiting, right now."""
    return _AT_PICKUP_NOW.search(analysis.clean.text) is not None


def stuck_at_the_pickup(analysis: Analysis, incident: frozenset[str]) -> bool:
    """After a breakdown, riders stuck at the pickup, lot or stop: the trip cannot start."""
    cues = analysis.cues
    if not ("breakdown" in incident or "stranded_now" in cues or "active_trip" in cues or "problem" in cues):
        return False  # cheap cues first: most posts report nothing under way
    text = analysis.clean.text
    if "breakdown" not in incident and _BROKEN.search(text) is None:
        return False
    return _PICKUP_PLACE.search(text) is not None and (
        _STUCK.search(text) is not None or "stranded_now" in analysis.cues
    )


def conditional(analysis: Analysis) -> bool:
    """The question is about what would happen if something went wrong."""
    return _CONDITIONAL.search(analysis.clean.text) is not None


def hypothetical(analysis: Analysis) -> bool:
    """The post fears being left or turned away; it does not report it."""
    return _HYPOTHETICAL.search(analysis.clean.text) is not None


def luggage_left_now(analysis: Analysis) -> bool:
    """Bags left behind or missing (not their owners): a trip in trouble, not a stranding."""
    text = analysis.clean.text
    return _LUGGAGE_LEFT.search(text) is not None and _PEOPLE_LEFT.search(text) is None


def names_a_vehicle(analysis: Analysis) -> bool:
    """The post is about a bus, a rally or its crew (a no-show needs one)."""
    return _VEHICLE.search(analysis.clean.text) is not None


def booking_specifics(analysis: Analysis) -> str | None:
    """Why a question is about the asker's own booking (medium), or None for a general one.

    A booking reference, a question about the state of one booking or trip ("has it tipped
    yet", "did my payment go through"), a trip of one's own on a given day, something of
    one's own that does not work, or a request to act. A possessive alone ("where is my
    e-ticket") is not enough: that is the plain FAQ the saved answer is for.
    """
    cues = analysis.cues
    for cue, why in (
        ("booking_ref", "names a booking"),
        ("status_ask", "asks the state of one trip or booking"),
        ("act_on_account", "asks us to act on a booking"),
        ("needs_agent", "needs an agent"),
        ("own_trouble", "something of the asker's own does not work"),
    ):
        if cue in cues:
            return f"{why} ('{cues[cue].snippet}')"
    if "own_booking" in cues and "trip_date" in cues:
        return f"a trip of the asker's own ('{cues['own_booking'].snippet}', '{cues['trip_date'].snippet}')"
    return None
