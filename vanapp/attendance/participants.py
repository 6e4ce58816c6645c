"""Individual sign-in: the consent text (versioned, Hindi and English), checking a sign-in and
storing it only with consent, and finding a participant again from the code on their card."""
import re
import uuid

from ..ids import utcnow
from ..models import Participant, Setting, db
from .tally import Conflict, Invalid, NotFound, get_screening, check_writable, parse_at, parse_id

# Never edit a published version's text: add a new version and make it current, so every
# record keeps pointing at the words the person actually agreed to.
CONSENT_TEXTS = {
    "2026-1": {
        "hi": ("हम आपका नाम, लिंग, उम्र का समूह, गाँव और (अगर आप दें) फ़ोन नंबर लिख रहे हैं। "
               "इसका उपयोग केवल बेल बजाओ अभियान की रिपोर्ट और आपसे अभियान के बारे में दोबारा संपर्क करने "
               "के लिए होगा। यह किसी और को बेचा या दिया नहीं जाएगा। आप कभी भी क्रू से कहकर अपना नाम हटवा "
               "सकते हैं। फ़ोन नंबर देना ज़रूरी नहीं है।"),
        "en": ("We are writing down your name, gender, age group, village and (if you give it) your "
               "phone number. It is used only for the Bell Bajao campaign's reports and to contact you "
               "again about the campaign. It is not sold or given to anyone else. You can ask the crew "
               "to remove your name at any time. Giving a phone number is optional."),
    },
}
CONSENT_VERSION = "2026-1"

GENDERS = ("woman", "man", "other", "unsaid")
AGE_BANDS = ("under-18", "18-30", "31-45", "46-60", "over-60")
_GENDER_WORDS = {"woman": "woman", "women": "woman", "female": "woman", "f": "woman", "w": "woman",
                 "man": "man", "men": "man", "male": "man", "m": "man",
                 "other": "other", "o": "other", "unsaid": "unsaid", "": None}
_AGE_WORDS = {"<18": "under-18", "under18": "under-18", "0-17": "under-18", "60+": "over-60",
              ">60": "over-60", "61+": "over-60", "over60": "over-60"}
# Indian mobile numbers: ten digits starting 6-9, written with or without +91 / 91 / 0.
_PHONE = re.compile(r"^(?:\+?91|0)?([6-9]\d{9})$")
_TRUE = {True, "true", "yes", "on", "1", 1}


def consent_text(version: str = CONSENT_VERSION) -> dict:
    return CONSENT_TEXTS[version]


def normalise_phone(value) -> str:
    """'' for no phone, else +91 and ten digits; anything else is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("invalid", "phone must be text", field="phone")
    digits = re.sub(r"[\s\-().]", "", value)
    if not digits:
        return ""
    match = _PHONE.match(digits)
    if not match:
        raise Invalid("invalid", "phone must be a 10-digit Indian mobile number (optionally +91), "
                      "or left empty", field="phone")
    return "+91" + match.group(1)


def _text(value, name, required, limit=120):
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:       # the hub's database refuses a NUL
        raise Invalid("invalid", f"{name} must be text", field=name)
    value = " ".join(value.split())
    if required and not value:
        raise Invalid("invalid", f"{name} is required", field=name)
    if len(value) > limit:
        raise Invalid("invalid", f"{name} is longer than {limit} characters", field=name)
    return value


def check(data: dict) -> dict:
    """Validate a sign-in (from the API or the form) into model fields; raises Invalid."""
    consent = data.get("consent")
    if isinstance(consent, str):
        consent = consent.strip().lower()
    # only true, 1 or a yes-word: not 1.0, not a list (unhashable), not anything else
    if type(consent) not in (bool, int, str) or consent not in _TRUE:
        raise Invalid("consent_required", "No consent, no record: the person must agree to the consent "
                      "text (send \"consent\": true).", field="consent")
    version = data.get("consent_version") or CONSENT_VERSION
    if not isinstance(version, str) or version not in CONSENT_TEXTS:
        raise Invalid("invalid", f"Unknown consent_version {str(version)[:20]!r}; current is "
                      f"{CONSENT_VERSION}", field="consent_version")
    gender = _GENDER_WORDS.get(_text(data.get("gender"), "gender", False, 16).lower(), "?")
    if gender is None:
        raise Invalid("invalid", "gender is required: " + ", ".join(GENDERS), field="gender")
    if gender not in GENDERS:
        raise Invalid("invalid", "gender must be one of " + ", ".join(GENDERS), field="gender")
    band = _text(data.get("age_band"), "age_band", True, 16).lower().replace(" ", "")
    band = _AGE_WORDS.get(band, band)
    if band not in AGE_BANDS:
        raise Invalid("invalid", "age_band must be one of " + ", ".join(AGE_BANDS), field="age_band")
    return {"name": _text(data.get("name"), "name", True), "gender": gender, "age_band": band,
            "village": _text(data.get("village"), "village", False),
            "phone": normalise_phone(data.get("phone")), "consent_version": version}


def sign_in(screening_id: str, data: dict, received=None) -> tuple[Participant, bool]:
    """Store a consenting participant once (an "id" sent again is answered, not stored twice).

    Returns (participant, duplicate)."""
    received = received or utcnow()
    record_id = parse_id(data.get("id"))
    fields = check(data)
    consent_at = parse_at(data.get("consent_at"), received, "consent_at")
    with db.atomic():
        s = get_screening(screening_id)
        existing = Participant.get_or_none(Participant.id == record_id)
        if existing is not None:
            if existing.screening_id != s.id or existing.name != fields["name"]:
                raise Conflict("conflict", f"Participant {record_id} was already stored with other content.",
                               field="id")
            return existing, True
        check_writable(s)
        p = Participant(id=record_id, screening=s.id, consent_at=consent_at, van=Setting.van_id(),
                        created_at=received, updated_at=received, **fields)
        p.save_change(force_insert=True)
    return p, False


def short_code(participant_id: str) -> str:
    """The code printed under the QR for typing by hand: the id's last 8 hex digits (random part)."""
    return participant_id.replace("-", "")[-8:].upper()


def find(code: str) -> list[Participant]:
    """Participants matching a scanned QR (the full id) or a typed short code."""
    code = (code or "").strip()
    if code.lower().startswith("vankit:p/"):
        code = code[9:]
    if not code:
        return []
    try:
        full = str(uuid.UUID(code))
        return list(Participant.select().where(Participant.id == full))
    except ValueError:
        pass
    tail = re.sub(r"[^0-9a-fA-F]", "", code).lower()
    if len(tail) < 6:
        return []
    return list(Participant.select().where(Participant.id.endswith(tail[-8:]))
                .order_by(Participant.created_at.desc()).limit(20))


def get(participant_id: str) -> Participant:
    p = Participant.get_or_none(Participant.id == participant_id)
    if p is None:
        raise NotFound("not_found", f"No participant {participant_id}.", field="id")
    return p


def wire(p: Participant) -> dict:
    out = p.to_wire()
    out["screening"] = p.screening_id
    out["code"] = short_code(p.id)
    return out


def for_screening(screening_id: str):
    return Participant.select().where(Participant.screening == screening_id).order_by(Participant.created_at)

