"""Keeps links, phone numbers, scams, spam and abuse out of the text of posts.

Posts are short, public and anonymous, and the poster's phone number sits behind a
click-to-reveal button: a number or a contact link typed into the text defeats the one
privacy feature the board has, and is what scammers and spammers rely on.

The rules are plain and deterministic. A rejection names a rule and gives the poster a
fixed sentence to act on; it never quotes the post, which could copy a phone number
into a page or a log. Word lists live in ``security/data/`` so moderators can extend
them without touching code. Thresholds come from ``FilterConfig`` (KIRB's FILTER_* settings).

Every rule reads the post after ``normalise``: what a reader sees, not the code points
someone typed to hide it (bidi overrides, zero-width characters, fullwidth and
Devanagari digits, ideographic full stops, Cyrillic lookalikes). Phone numbers are
found with Google's libphonenumber (the ``phonenumbers`` package) and by joining parts
split by symbols, emoji, words and spelled-out digits; domains are recognised with the
Public Suffix List bundled in the ``publicsuffixlist`` package (no network at run time).
docs/CONTENT_FILTER.md describes the rules and how they were measured.
"""

import itertools
import logging
import operator
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache
from pathlib import Path

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from publicsuffixlist import PublicSuffixList

from security import spam_model

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class FilterConfig:
    """The filter's thresholds: KIRB's FILTER_<FIELD> settings (their values, and the
    reasons for them, are written once, in kirb_project/settings.py)."""

    max_caps_ratio: float
    min_letters_for_caps: int
    max_repeated_char_run: int
    max_repeated_word_share: float
    min_words_for_repetition: int
    min_phone_digits: int
    scam_score_threshold: int
    off_topic_min_promotions: int
    # Round 9, the review tier (``review``): the spam model's score above which a post is
    # held, for mostly-Latin and for other posts, the fewest words a post needs for the
    # model to be asked, and the share of the words one word may make up before a post
    # is held as near-repetition.
    review_model_threshold: float
    review_model_threshold_non_latin: float
    review_model_min_words: int
    review_repeated_word_share: float

    @classmethod
    def from_settings(cls, setting):
        """The config from ``setting(name)`` (e.g. ``kirb_setting``): FILTER_<FIELD> for each field."""
        return cls(**{field.name: setting(f"FILTER_{field.name.upper()}") for field in fields(cls)})


@dataclass(frozen=True)
class Verdict:
    rule: str  # "link", "phone_in_text", "scam", "spam_phrase", "profanity", "caps" or "repetition"
    message: str  # a sentence for the poster; never quotes the post


MESSAGES = {
    "link": "Links and contact handles are not allowed in posts.",
    "phone_in_text": (
        "Please remove the phone number from the text: people can reveal your number with the button instead."
    ),
    "scam": (
        "Posts that ask for a token or advance before anyone has seen the room can't be published: "
        "that is how rental scams work."
    ),
    "spam_phrase": "This post looks like spam or a scam, so it can't be published.",
    "profanity": "Please keep posts free of abusive language.",
    "caps": "Please don't write the post mostly in capital letters.",
    "repetition": "Please don't repeat the same letters, symbols or words over and over.",
}


# --- Normalisation -----------------------------------------------------------------

# Bidi controls reorder what a reader sees: "call \u202e54321 02289\u202c" is stored
# as 54321 02289 but shown as "call 98220 12345". The rules read the visual order:
# an override (RLO) shows its text reversed; an RTL embedding or isolate (RLE, RLI)
# shows a run of numbers in reverse order ("\u202b12345 98220" reads "98220 12345").
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_RLO_SPAN_RE = re.compile(f"\u202e([^{_BIDI_CONTROLS}\n]*)[\u202c\u2069]?")
_RTL_SPAN_RE = re.compile(f"[\u202b\u2067]([^{_BIDI_CONTROLS}\n]*)[\u202c\u2069]?")
_NUMBERS_ONLY_RE = re.compile(r"[\d\s.,()+-]+")


def _rtl_numbers(match):
    content = match[1]
    return " ".join(reversed(content.split())) if _NUMBERS_ONLY_RE.fullmatch(content) else content


def _visual_order(text):
    text = _RLO_SPAN_RE.sub(lambda match: match[1][::-1], text)
    return _RTL_SPAN_RE.sub(_rtl_numbers, text)


# Dots that are not "." but read as one: "punerooms。com", "rooms․in", "flats·com".
_LOOKALIKE_DOTS = "\u3002\uff61\ufe12\u2024\u2027\u00b7\u2219\u22c5\u30fb\uff65\ua4f8\u06d4\u0701\u0702\u2e31"
# Cyrillic and Greek letters that look Latin: "fuсk" with a Cyrillic с.
_LOOKALIKES = str.maketrans(
    "аеорсхуіјѕԁһӏАВЕКМНОРСТХΑΒΕΗΙΚΜΝΟΡΤΥΧαεικνοτυχ",
    "aeopcxyijsdhlABEKMHOPCTXABEHIKMNOPTYXaeikvotux",
)
# Invisible fillers that render as a blank (Hangul fillers, the braille blank).
_BLANKS = "\u115f\u1160\u3164\uffa0\u2800"


@lru_cache(maxsize=1)
def _fold_table():
    """Code point -> replacement, for what NFKD leaves: format characters (bidi
    controls, zero-width spaces and joiners, soft hyphen, tags), variation selectors
    and the keycap mark (9️⃣), digits of every script, lookalike dots and letters.
    Built on first use (some 40 ms), not at import."""
    table = {}
    for code in [*range(0x10000), *range(0xE0000, 0xE0080), *range(0xE0100, 0xE01F0)]:
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cf" or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
            table[code] = None
        elif category == "Nd":
            table[code] = str(unicodedata.decimal(char))
        elif category == "No" and not unicodedata.decomposition(char) and unicodedata.digit(char, None) is not None:
            table[code] = str(unicodedata.digit(char))  # ❾, ➒: NFKD leaves these
        elif category == "Ll" and (letter := _SMALL_CAPITAL_RE.fullmatch(unicodedata.name(char, ""))):
            table[code] = letter[1].lower()  # round 7: "ꜱɴᴀᴘ" is "snap" (NFKD leaves small capitals)
    # Round 7: letters in black circles and squares ("🆃🅴🅻🅴🅶🆁🅰🅼"), which NFKD leaves too.
    for first in (0x1F150, 0x1F170):
        table.update({first + index: chr(ord("A") + index) for index in range(26)})
    for code in (0x034F, 0x180B, 0x180C, 0x180D, 0x180F, 0x20E3, 0x20DD, 0x20DE, 0x20DF, 0x20E0, 0x20E4):
        table[code] = None  # combining grapheme joiner, Mongolian selectors, enclosing marks
    table.update(dict.fromkeys(map(ord, _LOOKALIKE_DOTS), "."))
    table.update(dict.fromkeys(map(ord, _BLANKS), " "))
    table[0x093C] = None  # the Devanagari nukta: "लौड़े" reads as "लौडे" (typed either way)
    table[0x0130] = "I"  # İ: its lower case is two characters, which would shift offsets
    table.update(_LOOKALIKES)
    # Round 8: Cyrillic letters that look like digits ("9Ч3O7l2S8б": Ч is 4, б is 6, З is 3).
    table.update({ord("Ч"): "4", ord("ч"): "4", ord("б"): "6", ord("З"): "3", ord("з"): "3"})
    for code in range(0x30, 0x3A):
        table.pop(code, None)
    return table


_LATIN_ACCENTS_RE = re.compile("[\u0300-\u036f]")
_SMALL_CAPITAL_RE = re.compile(r"LATIN LETTER SMALL CAPITAL ([A-Z])")


def normalise(text):
    """The text as it reads: bidi reordering applied, then NFKC with Latin accents taken
    off ("fùck"), format and zero-width characters removed, digits of every script and
    lookalike dots and letters folded to ASCII.

    Case is kept: the caps rule and a few word rules need it. ASCII text is returned as
    it is (nothing in it can hide anything), which keeps the common case fast.
    """
    if text.isascii():
        return text
    if any(control in text for control in _BIDI_CONTROLS):
        text = _visual_order(text)
    # NFKD then NFC is NFKC; the accents are dropped in between.
    text = _LATIN_ACCENTS_RE.sub("", unicodedata.normalize("NFKD", text)).translate(_fold_table())
    return unicodedata.normalize("NFC", text)


_STRETCHED_RE = re.compile(r"([a-z])\1+")
_DOUBLED_RE = re.compile(r"([a-z])\1")


def _squeeze(text):
    """'fuuuuck' -> 'fuck', 'chuuutiya' -> 'chutiya'. Digits are left alone: 100 is not 10."""
    return _STRETCHED_RE.sub(r"\1", text)


# The words of a text, and the ends of its sentences and clauses, which a phrase
# never runs across: "I work from home, earn in USD" is not "work from home earn".
# A dot or dash inside a word only separates ("earn.money.from.home"). Indic vowel
# signs are not \w to Python, so the Indic blocks count as word characters.
# Round 5: the danda (। ॥) ends a Hindi or Marathi sentence; it is not a letter.
_WORDS_AND_CLAUSE_ENDS_RE = re.compile(r"[\w\u0900-\u0963\u0966-\u0dff]+|[.,;:!?|\u0964\u0965]+(?=\s|$)|\n")
_SENTENCE_END_RE = re.compile(r" [.!?\n|\u0964\u0965]+ ")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d)")
# A number, an amount in thousands or lakhs ("25k", "2l"), and a range of them ("500 to 5000").
_NUMBER_TOKEN_RE = re.compile(r"(?<= )\d+(?:k|l|lakh|lakhs|rs)?(?: (?:to )?\d+(?:k|l|lakh|lakhs|rs)?)*(?= )")


_DOTTED_INITIALS_RE = re.compile(r"(?<![\w.])([a-z])\.([a-z])\.(?=[\s,;:!?]|$)")


def _phrase_form(text):
    """'Earn-money  FROM hooome! ok' -> ' earn money from home ! ok ', for whole-word search.

    Every number (or range of numbers) becomes 0, so a phrase written with a number
    ("earn 100 per day") matches any number ("Earn 3,000 per day", "earn 25k per day").
    """
    text = _THOUSANDS_RE.sub("", text.lower())
    if "." in text:
        text = _DOTTED_INITIALS_RE.sub(r"\1\2", text)  # round 3: "M.C. B.C." is "mc bc"
    words = " ".join(_WORDS_AND_CLAUSE_ENDS_RE.findall(_squeeze(text)))
    return _NUMBER_TOKEN_RE.sub("0", f" {words} ")


class _PhraseSet:
    """Phrases in phrase form, indexed by their first word: a post is compared only with
    the phrases whose first word it has (a few, out of hundreds)."""

    def __init__(self, phrases):
        self._by_first_word = {}
        for phrase in phrases:
            self._by_first_word.setdefault(phrase.split()[0], []).append(phrase)

    def __len__(self):
        return sum(map(len, self._by_first_word.values()))

    def found_in(self, text, words=None):
        """Whether a phrase occurs in ``text`` (a phrase form); ``words`` is its set of words, if known."""
        words = set(text.split()) if words is None else words
        for word in words & self._by_first_word.keys():
            if any(phrase in text for phrase in self._by_first_word[word]):
                return True
        return False


def _read_list(path):
    """One entry a line; '#' starts a comment; blank lines are ignored. Entries are normalised like posts."""
    return [entry for section, entry in _read_entries(path)]


def _read_sections(path):
    """A list file divided by '[name]' lines: {name: [entries]}."""
    sections = {}
    for section, entry in _read_entries(path, sectioned=True):
        sections.setdefault(section, []).append(entry)
    return sections


def _read_entries(path, sectioned=False):
    section = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if sectioned and line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if sectioned and section is None:
            raise ValueError(f"{path}, line {number}: an entry before any [section]; put it under one.")
        yield section, normalise(line).lower()


def _whole_words(entries, flags=0):
    """One regex for phrases matched as whole words, with any spaces, dots, hyphens or
    apostrophes between their words, or none."""
    alternatives = sorted(
        (r"[\s.,'’`-]*".join(map(re.escape, entry.split())) for entry in entries), key=len, reverse=True
    )
    return re.compile(rf"(?<![\w\u0900-\u097f])(?:{'|'.join(alternatives)})(?![\w\u0900-\u097f])", flags)


def _deletions(word):
    """The word and each spelling of it with one letter left out (for one-typo matching)."""
    return {word, *(word[:index] + word[index + 1 :] for index in range(len(word)))}


@lru_cache(maxsize=1)
def _public_suffixes():
    """The Public Suffix List snapshot bundled with the package: no download, ever."""
    return PublicSuffixList(only_icann=True, accept_unknown=False)


# --- Links -------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"h\s*t\s*t\s*p\s*s?\s*:?\s*/\s*/")
_WWW_RE = re.compile(r"(?<![a-z0-9])www(?![a-z0-9])")
# A host name as written: labels joined by dots, the last one starting with a letter.
_LABEL = r"[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?"
_HOST_RE = re.compile(rf"(?<![\w.-]){_LABEL}(?:\.{_LABEL})*\.[a-z][a-z0-9-]*[a-z0-9](?![\w-])", re.IGNORECASE)
# How people write the dot of a domain to get past a filter: "x[dot]com",
# "x (.) com", "x{d0t}com" are links whatever the suffix; "x dot com", "x d0t com" and
# "x . com" when the suffix is never a word or the name looks made up ("pgpune . online").
_OBFUSCATED_HOST_RE = re.compile(
    rf"(?<![\w.-])(?P<name>{_LABEL})"
    r"(?:\s*[\[({<*]\s*(?P<bracket>\.|dot|d0t|d\s?o\s?t)\s*[\])}>*]\s*"
    r"|\s+(?P<word>dot|d0t)\s+"
    r"|(?P<spaced>\s+\.\s*|\s*\.\s+)"
    # A round symbol for the dot: "roomwala ⚫ in", "rooms • com" (bullets are list
    # separators too, so these need the same evidence as a spaced dot).
    # Round 3: a comma for the dot, only before a suffix that is never a word ("rooms,com").
    r"|(?P<comma>\s*,\s*)(?=(?:com|net|org|xyz|info|biz)(?![\w-]))"
    r"|\s*(?P<symbol>[\u2022\u25cf\u25e6\u26aa\u26ab\u2b24\u23fa\U0001f518\U0001f534\U0001f535])\s*)"
    r"(?P<suffix>(?=[a-z0]{2})[a-z0]*[a-z][a-z0]*(?:\.[a-z]{2,})?)(?![\w-])",
    re.IGNORECASE,
)
# Round 3: the dot spelled and glued in: "puneroomsdotcom", "flats4u-dot-in".
_GLUED_DOT_HOST_RE = re.compile(r"(?<![a-z0-9])[a-z0-9][a-z0-9-]{2,}-?dot-?(?:com|net|org|xyz|info|in|co\.in)(?![a-z0-9])")
_BRACKETED_AT_RE = re.compile(r"[a-z0-9._-]{3,}\s*[\[({<]\s*at\s*[\])}>]\s*[a-z]{3,}")
# "remove the spaces", "add the dot", "just write them together": how to put back
# together a link or a number typed in pieces.
_REASSEMBLE_LINK_RE = re.compile(
    r"\b(?:remove|delete|hatao|hata\s+do)\s+(?:the\s+|all\s+)?spaces?\b|\bwithout\s+(?:the\s+)?spaces\b"
    r"|\b(?:add|put|insert|lagao|laga\s+do|laga\s+ke)\s+(?:a\s+|the\s+)?(?:dot|\.|full\s?stop|period)\b"
)
_REASSEMBLE_RE = re.compile(
    _REASSEMBLE_LINK_RE.pattern
    + r"|\b(?:write|join|combine|add|put|read|jod\w*|likh\w*|milao|mila\s+ke)\s+(?:them|these|it|all|sab\s+ko|sabko)\s+"
    r"(?:together|ek\s?sath|ek\s?saath|saath\s+me)\b"
    # round 6: "read both together and call", "just join them and call", "dial them in order",
    # "dono jod ke call karo", "baaki ka next line me"
    r"|\b(?:write|join|combine|put|read|dial|call|jod\w*|likh\w*|milao|mila)\s+(?:them|these|it|all|both|dono|sab\s*ko|sabko)?\s*"
    r"(?:together|in\s+order|one\s+after\s+(?:the\s+)?other|ek\s?sath|ek\s?saath|saath\s+me|and\s+(?:call|dial)"
    r"|(?:ke|kar\s*ke|karke)\s+(?:call|dial|phone))\b"
    r"|\b(?:baaki|baki|baqi|rest|remaining)\b[^.\n]{0,25}\b(?:next\s+line|agli\s+line|neeche|niche|below)\b"
)
# Round 7: numbers left for the reader to put together ("Part 1: 984 | Part 2: 501 | Part
# 3: 2367 — you know what to do", "deposit 9826, extra 543107 🤫 samajh gaye na"), and
# other words between the verb and "together" ("dial the rent and the deposit together").
# Read only when one of _LEFT_TO_READER_MARKS is in the post.
_LEFT_TO_READER_RE = re.compile(
    r"\byou\s+know\s+what\s+to\s+do\b|\bsamajh?\s+(?:gaye|gye|gaya|jao|lo)\b|\bsamjh?e\s+na\b"
    # round 8: a number set as a riddle ("98 then 20 then the flat no 1204 then 55. Figure it out")
    r"|\bfigure\s+(?:it\s+|this\s+)?out\b|\bwork\s+it\s+out\b|\b(?:solve|decode|crack)\s+(?:it|this|the\s+number)\b"
    r"|\bpuzzle\b|\bsmart\s+(?:people|ones|log|enough)\b|\bsamajh?dar\b|\bsamjh?dar\b|\bishara\s+(?:kaafi|kafi|kaafee)\b"
    r"|\bguess\s+(?:it|the\s+number|my\s+number)\b"
    r"|\b(?:dial|call|write|type|jod\w*|likh\w*|milao|mila)\b[^.\n]{0,40}?"
    r"\b(?:together|ek\s?sath|ek\s?saath|saath\s+me|without\s+(?:a\s+|the\s+)?spaces?|no\s+spaces?)\b"
)
_LEFT_TO_READER_MARKS = (
    "together", "sath", "saath", "space", "know what", "samaj", "samj",
    "figure", "work it", "solve", "decode", "crack", "puzzle", "smart", "guess", "ishara",
)
# A name and a suffix that is never a word, with a space for the dot: "punerooms com".
# Round 4: a link with spaced dots, given away by a two-label suffix ("roomz . co . in")
# or a path after it ("punerooms . online /hyd"); the suffix is checked against the PSL.
# The first dot has a space on both sides: ". " alone ends a sentence ("₹16,500. Blue/Pink
# Line"), and a name has a letter.
_SPACED_DOTS_LINK_RE = re.compile(
    r"(?<![\w.])(?=[a-z0-9-]*[a-z])([a-z0-9][a-z0-9-]{2,}) \. ((?:co|org|net|gov|ac|firm|gen|ind) ?\. ?[a-z]{2}\b"
    r"|[a-z]{2,12} ?/ ?[a-z0-9])"
)
_BARE_SUFFIX_RE = re.compile(r"(?<![\w.])[a-z0-9-]{3,}\s+(?:com|net|org|xyz|info|co\.in)(?![\w-])")
_SPACED_OUT_RE = re.compile(r"(?<!\S)(?:\S ){4,}\S(?!\S)")
# Suffixes that never start a sentence, so "Visit Punerooms.Com" or "rooms . com" is a
# domain while "Good locality.In case" and "polka dot in" are words.
_NEVER_WORD_SUFFIXES = {"com", "net", "org", "xyz", "info", "biz"}
# Strong suffixes that are also English words.
_WORD_SUFFIXES = {"in", "me", "co"}
_ENGLISH_ENDINGS = {"s", "es", "ed", "er", "ers", "ing", "ings", "ly", "y", "ies", "ful"}
_POSTPOSITION_RE = re.compile(r" +(?:par|pe|pr|mein|mai|var|madhe)\b", re.IGNORECASE)
# "visit flatsdekho.online", "website: rooms.live": words that announce a link.
_LINK_INTENT_RE = re.compile(
    r"\b(?:visit|website|web\s?site|site|link|links|check\s?out|open|browse|click|go\s+to|log\s?in|log\s+on|"
    r"register|sign\s?up|download)\b[^.!?\n]{0,30}$"
)


# Round 6.
_SPACED_WWW_RE = re.compile(r"(?<![a-z0-9])w[\s.]{1,2}w[\s.]{1,2}w(?![a-z0-9])")
_DEVANAGARI_LINK_WORDS = (
    ("डॉट", " dot "), ("डाट", " dot "), ("कॉम", "com"), ("ॲट", " at "), ("अ‍ॅट", " at "), ("एट", " at "),
    ("जीमेल", "gmail"), ("याहू", "yahoo"), ("आउटलुक", "outlook"), ("वेबसाइट", "website"),
)
_INDIC_NAME_DOT_RE = re.compile(r"[\u0900-\u0d7f]{3,}\s+dot\s+(?:com|net|org|in|co)(?![a-z])")
_MAIL_PROVIDERS = ("gmail", "yahoo", "ymail", "hotmail", "outlook", "rediff", "protonmail", "icloud")
_SPELLED_EMAIL_RE = re.compile(
    r"(?<![\w.@-])(?P<name>[a-z0-9][a-z0-9._-]{2,})\s*(?:@|\(at\)|\[at\]|(?P<rate>at\s+the\s+rate(?:\s+of)?)|at)\s*"
    r"(?:gmail|yahoo|ymail|hotmail|outlook|rediffmail|rediff|protonmail|icloud)(?![a-z])"
)


def _overlapping(pattern, text):
    """Matches of ``pattern`` that may share their suffix with the next name: "drive dot
    google dot com" is "drive dot google" and then "google dot com"."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        yield match
        position = match.start("suffix")


def _starts_word(text, index):
    return index == 0 or not text[index - 1].isalnum()


# Round 7: an employer written as its domain, as people name Booking.com, Naukri.com or
# Amazon.in: "both work at Booking.com", "I'm with Info Edge (Naukri.com)", "SDE at
# Amazon.in". The name is a word of letters, nothing follows it as a path, and words about
# a job come shortly before it in the same sentence; a name made of a listing site's words
# ("Punerooms.com") or "visit"/"website" before it is still a link. Round 10: typed in
# lower case too ("Working at zoho.com Tenkasi office", dev16), unless the name looks made
# up (ContentFilter._looks_made_up): a brand is typed as people hear it.
_EMPLOYER_BEFORE_RE = re.compile(
    r"(?:(?i:\b(?:work|works|working|worked|job|jobs|employed|employee|intern|interning|internship|joined|joining"
    r"|engineer|developer|manager|analyst|consultant|designer|executive|sde|staff|colleague|colleagues|office"
    r"|company|employer|naukri|kaam|posted|doctor|nurse|teacher|professor|student|researcher|wfh)\b"
    r"|\b(?:i\s*'?\s*m|i\s+am|we\s*'?\s*re|we\s+are|both|he\s+is|she\s+is)\s+(?:also\s+|now\s+)?(?:with|on)\b"
    r"|\b(?:anyone|anybody|someone|somebody|people|guys|folks|colleague|colleagues)\s+(?:else\s+)?(?:here\s+)?(?:from|at|in)\b)"
    r"|[A-Z][a-z]+\s*\()[^.!?\n]{0,30}$"
)


# Or words about a job right after it ("Naukri.com's team", "Policybazaar.com office in Sector 44").
_EMPLOYER_AFTER_RE = re.compile(
    r"(?:['’]s)?\s+(?:team|office|offices|campus|hq|headquarters|employee|employees|staff|colleagues)\b", re.IGNORECASE
)
# A name made of words of a listing site ("Punerooms.com", "FlatsDekho.in") is a link even
# there: spam says it works at the site it sends people to. Brands made of other words
# (BankBazaar, Policybazaar, MakeMyTrip) are employers.
_LISTING_NAME_PARTS = ("room", "flat", "pg", "rent", "stay", "ghar", "kamra", "hostel", "bhk", "makan", "makaan")


# A brand's domain sent to ("check Booking.com for cheap stays", "try amazon.in") is a link.
_BRAND_PUSH_AFTER_RE = re.compile(
    r"[\s,:-]*(?:(?:par|pe|pr|me|mein|var|on)\s+)?(?:dekho|dekhiye|dekh\s+lo|check|visit|search|dhundo|dhoondo|bagha|paha)\b",
    re.IGNORECASE,
)
_BRAND_PUSH_RE = re.compile(r"\b(?:check|try|use|search|find|book|see|look|go|click)\b[^.!?\n]{0,20}$", re.IGNORECASE)


def _is_employer_domain(host, name, text, match):
    if not name.isalpha() or text[match.end() : match.end() + 1] == "/":
        return False
    if any(part in name for part in _LISTING_NAME_PARTS):
        return False
    return (
        _EMPLOYER_BEFORE_RE.search(text[max(0, match.start() - 50) : match.start()]) is not None
        or _EMPLOYER_AFTER_RE.match(text, match.end()) is not None
    )


# Round 7: a mail provider said aloud ("gee mail", "g mail", "jee mail", "hot mail"), and
# "underscore" spelled out between the words of a handle. Nobody writes either of them
# in a post about a room for any other reason.
# Round 8: Telegram described by its logo ("search ... on the blue paper plane app").
_DESCRIBED_APP_RE = re.compile(r"\b(?:the\s+)?(?:blue\s+)?(?:paper[\s-]?plane|aeroplane|plane)\s+(?:wala\s+|wali\s+|icon\s+|logo\s+)?(?:app|icon)\b")
# Round 8: "FLAT 50% OFF on all sarees": a discount, not a home.
_FLAT_DISCOUNT_RE = re.compile(r"\bflat\s+(?:rs\.?\s*|₹\s*)?\d+\s*(?:%|percent|rs)?\s*off\b")
_SPOKEN_MAIL_RE = re.compile(r"(?<![a-z0-9])(gee|g|jee|ji|hot|rediff)[\s.-]*(?:mail|male)(?![a-z0-9])")
_SPOKEN_MAIL = {"g": "gmail", "j": "gmail", "h": "hotmail", "r": "rediffmail"}
_SPELLED_UNDERSCORE_RE = re.compile(
    r"(?<=[a-z0-9])\s*[(\[]?\s*\b(?:underscore|under score|under_score|अंडरस्कोर)\b\s*[)\]]?\s*(?=[a-z0-9])"
)
# Round 7: a link in quotes with a space for its dot, to search for ('Google karo
# "kirbrooms xyz"', 'search "flatsdekho com"').
_QUOTED_HOST_RE = re.compile(r"[\"'“‘]\s*([a-z0-9-]{3,})\s+(?:dot\s+)?([a-z]{2,10}(?:\s+[a-z]{2})?)\s*[\"'”’]")


def _host_pattern(host):
    """'bit.ly' -> also 'bit . ly', 'bit dot ly': these names are links however they are spaced."""
    dot = r"(?:\s*\.\s*|\s*[\[(]\s*(?:\.|dot)\s*[\])]\s*|\s+dot\s+)"
    return dot.join(re.escape(part) for part in host.split("."))


# What may sit between an @handle and the app it is on: "@rooms on telegram", "@rooms (insta)".
_NAMES_PLATFORM_RE = re.compile(r"[\s(:\-–]*(?:(?:on|at|pe|par|in|via)\s+(?:my\s+|our\s+)?)?")
# What a contact handle looks like after "insta:", "snapchat ", "telegram pe".
_HANDLE_AFTER_PLATFORM = (
    r"\s*(?:(?:channel|group|page|account)\b\s*)?"  # round 3: "telegram channel: punerentals", "tg channel rooms4u"
    r"(?:(?:me|us)\s*(?=[:=>\-–→➡]))?"  # round 4: "Snap me: flatmate.finder22"
    r"(?:(?P<colon>[:=>\-–→➡⇒➜➔»]+|(?<=\s)is\b)|\b(?:pe|par|pr|on|at|me|mein|as)\b)?\s*@?"  # round 3: "is", "as"
    r"(?P<colon_id>live:)?"  # a Skype id: "skype live:roomsmumbai"
    r"(?P<token>[a-z0-9][a-z0-9_.]*[a-z0-9_])"
)
# Round 4: a dot with spaces around it between two words, read as a dot in a handle.
_SPACED_DOT_RE = re.compile(r"(?<=[a-z0-9_]) \. (?=[a-z0-9_])")
# An @handle with no app named: words of letters joined by an underscore or a dot.
_BARE_HANDLE_RE = re.compile(r"(?<![\w.])@[a-z][a-z0-9]*(?:[_.][a-z0-9]+)*[_.][a-z]{2}[a-z0-9_.]*(?![\w@])")
# Words that may be a misspelt app name ("teligram"): as long as the names, give or take one.
_PLATFORM_CANDIDATE_RE = re.compile(r"(?<![a-z])[a-z]{7,10}(?![a-z])")
# Apps where a contact is a number or an address, not a name to search for.
_NUMBER_OR_ADDRESS_APPS = {"whatsapp", "gmail", "yahoo", "hotmail", "rediffmail", "protonmail", "outlook", "signal"}
# A person's name as typed: two to four capitalised words.
_TYPED_NAME_RE = re.compile(r"\s+(?:me\s+)?[A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,3}\b")
# Round 6: a page's name as typed, capitalised words with short capitals among them
# ("Delhi PG Finder", "Sandeep Noida Rentals"): two to five words, one of them a name.
_PAGE_NAME_RE = re.compile(
    r"\s*(?=(?:[A-Z]{2,5}\s+)*[A-Z][a-z])(?:[A-Z][a-z]+|[A-Z]{2,5})(?:\s+(?:[A-Z][a-z]+|[A-Z]{2,5})){1,4}\b"
)
_SPACED_PLATFORM_RE = re.compile(r"\b(tele|teli|insta|snap|whats|wats)[\s._-]+(gram|grm|chat|app|ap)\b")
# App names written to get past a filter: with symbols for letters ("Sn@pchat",
# "Telegr@m", "in$ta", "1nsta") or letter by letter ("T.e.l.e.g.r.a.m", "t e l e g r a m").
_LEET_WORD_RE = re.compile(r"(?<![\w@$])(?=[a-z0-9@$]*[a-z][a-z0-9@$]*[a-z])[a-z0-9@$]*[@$0-9][a-z0-9@$]*(?![\w@$])")
_LEET_LETTERS = str.maketrans("@$0134", "asoiea")
_LETTER_BY_LETTER_RE = re.compile(r"(?<![a-z0-9])[a-z](?:[.\-_*\s]{1,2}[a-z]){3,}(?![a-z0-9])")


# Round 6: a word of any Indic script read by its consonants, for app names written in
# those scripts ("টেলিগ্রাম", "டெலிகிராம்" and "टेलीग्राम" all read TLKRM). The scripts share
# Devanagari's layout (see _TO_DEVANAGARI), so one table of offsets serves them all;
# consonants that spellers and scripts mix up are one class (Tamil has one letter for k
# and g), and vowels, nasals, h and y are left out (Bengali writes WhatsApp without a v).
_CONSONANT_CLASSES = {
    offset - 0x900: name
    for name, letters in (
        ("K", "कखगघ"), ("C", "चछजझ"), ("T", "टठडढतथदध"), ("P", "पफबभ"), ("R", "रऱ"),
        ("L", "लळऴ"), ("V", "व"), ("S", "शषस"), ("M", "म"),
    )
    for offset in map(ord, letters)
}
_INDIC_WORD_RE = re.compile("[\u0900-\u0d7f]{3,}")
# Malayalam writes "st" with a doubled ṟ (ഇൻസ്റ്റാഗ്രാം) and ends words in chillu letters and
# the anusvara (ടെലിഗ്രാം: -m).
_MALAYALAM_SPELLINGS = str.maketrans({"\u0d7c": "\u0d30", "\u0d7d": "\u0d32", "\u0d7e": "\u0d33"})
_APP_SKELETON_MIN = 4


def _consonant_skeleton(word):
    """'टेलीग्राम' -> 'TLKRM': the classes of a word's consonants, a class repeated once."""
    if "\u0d00" <= word[0] <= "\u0d7f":
        word = word.replace("\u0d31\u0d4d\u0d31", "\u0d1f").translate(_MALAYALAM_SPELLINGS)
        if word.endswith("\u0d02"):
            word = word[:-1] + "\u0d2e"
    skeleton = []
    for char in word:
        name = _CONSONANT_CLASSES.get((ord(char) - 0x900) % 0x80) if "\u0900" <= char <= "\u0d7f" else None
        if name is not None and (not skeleton or skeleton[-1] != name):
            skeleton.append(name)
    return "".join(skeleton)


# --- Phone numbers -----------------------------------------------------------------

# Dates are where short numbers sit together with dots and dashes ("from 01.12.2026
# 15000 rent"). Valid ones are taken out before the parts of numbers are joined.
_DATE_RE = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](?:\d{4}|\d{2})\b|\b\d{4}[./-](\d{1,2})[./-](\d{1,2})\b")
# A pincode: six digits standing alone, not starting with 0 or 9 (9 is the army's).
# A mobile number is never split with a six-digit part that starts with 1-8.
_PINCODE_RE = re.compile(r"(?<![\w,.])[1-8]\d{5}(?![\w,]|\.\d)")
# Money written as money: "₹9,999", "rs. 15000", "25,000/-".
_AMOUNT_RE = re.compile(r"(?:₹|\brs\b\.?|\binr\b)\s*[:.-]?\s*\d[\d,]*(?:\.\d+)?(?:\s*/-)?|\d[\d,]*\s*/-")
# A number, with letters standing in for digits (98O45, 9l876, 99I00) and commas
# as thousands separators (1,50,000).
_NUMBER = r"[0-9oil]*[0-9][0-9oil]*(?:,[0-9]{2,3}(?![0-9]))*"
_DIGIT_LOOKALIKES = str.maketrans("oil", "011")
# "double nine" is 99, also as people write it in Hinglish ("dabal nau") and misspell it.
_REPEATERS = {
    **dict.fromkeys(("double", "dabal", "dubble", "doubal", "dabbal"), 2),
    **dict.fromkeys(("triple", "tripple", "trible", "tripal", "tribal"), 3),
}
# How people count the parts of a number they split: "first five digits 98450 and
# last five 31277", "pehle paanch 98450 baaki 31277". Read as a joiner between the parts.
_DIGIT_COUNT_RE = re.compile(
    r"\b(?:first|second|last|next|remaining|other|pehle|pahle|pehla|agle|baaki|baki|shevatche|pahile)\s+half\b"
    r"|\b(?:rest|baaki|baki|remaining)(?=\s*[:=-]?\s*[0-9])"  # round 3: "first 5 digits 98450, rest 12345"
    # round 6: "starts with 9447 and the rest is 012 345", "begins with 8830, remaining digits are 417 265"
    r"|\b(?:the\s+)?(?:rest|remaining)\s+(?:(?:digits|part|half|number)\s+)?(?:is|are|hai|hain)(?=\s*[:=-]?\s*[0-9])"
    r"|\b(?:starts?|begins?|starting|beginning)\s+with(?=\s*[:=-]?\s*[0-9])"
    # "starts 99 ends 77, middle 110 233"
    r"|\b(?:starts?|begins?|ends?|ending|middle|beech\s+me|bich\s+me)(?=\s*[:=-]?\s*(?:(?:is|are|hai|with)\s+)?[0-9])"
    r"|\b(?:first|last|next|remaining|other|pehle|pahle|pehla|agle|baaki|baki|shevatche|pahile)\s+"
    r"(?:(?:one|two|three|four|five|six|seven|1|2|3|4|5|6|7|ek|do|teen|char|paanch|panch|chhe|saat)\s+)?"
    r"(?:digits?|numbers?|nos?\.?|ank|anka|ankde)(?![a-z])"
    r"|\b(?:first|last|next|remaining)\s+(?:three|four|five|six|seven|3|4|5|6|7)"
    r"(?=\s*[:=-]?\s*(?:(?:are|is|hai|hain|were)\s+)?[0-9])"  # round 4: "the last five are 45617"
)
# Round 6: a digit counted out, "four 5s", "three nines", "2 zeros": that many of the
# digit ("98 followed by four 5s and then 1234" is 98 5555 1234). "double" and "triple"
# (_REPEATERS) are the same thing said another way.
_COUNTED_REPEAT_RE = re.compile(
    r"\b(two|three|four|five|six|seven|2|3|4|5|6|7)\s+"
    r"(?:([0-9])['’]?s|(zero|one|two|three|four|five|six|seven|eight|nine)e?s)\b"
)
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_DIGIT_NAMES = {name: str(digit) for digit, name in enumerate("zero one two three four five six seven eight nine".split())}


# Round 8: "paanch baar 1", "3 times 9", and "teen zero" when no spelled digit follows
# ("8 ke baad teen zero, phir paanch baar 1, last mein 9"): in Hindi the count comes first.
_HINDI_COUNTS = {"do": 2, "teen": 3, "tin": 3, "char": 4, "chaar": 4, "paanch": 5, "panch": 5, "chhe": 6, "che": 6, "saat": 7}
_TIMES_REPEAT_RE = re.compile(
    r"\b(two|three|four|five|six|seven|[2-7]|do|teen|tin|char|chaar|paanch|panch|chhe|che|saat)\s+(?:baar|bar|times)\s+"
    r"(?:([0-9])|(zero|one|two|three|four|five|six|seven|eight|nine))\b"
    r"|\b(do|teen|char|chaar|paanch|panch|chhe|saat)\s+(zero|shunya|sunya)(?=\s*(?:[,;.]|phir|fir|then|and|aur|last|$))"
)


def _expand_times_repeat(match):
    if match[4]:
        return " ".join(["0"] * _HINDI_COUNTS[match[4]])
    count = _COUNTS.get(match[1]) or _HINDI_COUNTS.get(match[1]) or int(match[1])
    digit = match[2] or _DIGIT_NAMES[match[3]]
    return " ".join([digit] * count)


def _expand_counted_repeat(match):
    count = _COUNTS.get(match[1]) or int(match[1])
    digit = match[2] or _DIGIT_NAMES[match[3]]
    return " ".join([digit] * count)


# Round 6: spelled digits glued into one long word ("nineeightonefivesix...").
_LONG_WORD_RE = re.compile(r"[a-z]{12,}")
# Round 6: a post names a handful of counted parts at most; more is a list, read no further.
_COUNTED_PARTS_MAX = 12
# Round 6: "(x = 6)", "where x is 6": a letter standing for a digit.
_DIGIT_DEFINITION_RE = re.compile(r"(?<![a-z0-9])([a-z*#])\s*(?:=|is|means|hai)\s*(\d)(?![0-9])")
# Round 6: digits hidden with x's ("94141xxxxx", "98xxxx4512").
_HIDDEN_DIGITS_RE = re.compile(r"(?<![a-z0-9])(\d{2,8})(x{2,8})(\d{0,6})(?![a-z0-9])")
# Round 6: digits glued to letters ("sunil47563"), for a half given that way.
_GLUED_DIGITS_RE = re.compile(r"(?<=[a-z])(\d{4,7})(?![0-9])")
# Round 6: ten Roman numerals in a row, as typed (capitals).
_ROMAN_DIGIT = r"(?:VIII|VII|III|IX|IV|VI|II|V|I|0)"
_ROMAN_VALUES = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7", "VIII": "8", "IX": "9"}
_ROMAN_TOKEN_RE = re.compile(r"(?<![A-Za-z])(?:VIII|VII|III|IX|IV|VI|II|V|I)(?![A-Za-z])")
_ROMAN_SOME_RE = re.compile(rf"(?<![A-Za-z])(?:{_ROMAN_DIGIT}[\s,.\-]+){{3,}}")
_ROMAN_RUN_RE = re.compile(rf"(?<![A-Za-z])(?:{_ROMAN_DIGIT}[\s,.\-]+){{9,}}{_ROMAN_DIGIT}(?![A-Za-z])")
# Round 6: O typed for zero as a word of its own, inside a number ("98 one one OO 8 8 7 6").
_ZERO_LETTERS = frozenset({"o", "oo", "ooo"})
# Round 6: words that go on with a number after a comma ("9 8, then two 7s").
_CONTINUING_WORDS = frozenset({"then", "phir", "fir", "followed", "last", "baad"})  # round 8: ", last mein 9"
# Round 3: words that say a number is typed backwards.
_REVERSED_RE = re.compile(r"\b(?:reverse|reversed|backwards?|ulta|ulte|ultaa|ulti|ulat|palat|palatke|upside)\b")
# Round 3: a counted part and the digits it introduces, wherever it is in the post.
# Round 6: a part may itself be typed in groups ("the rest is 012 345").
_COUNTED_PART_RE = re.compile(
    # round 8: "first half of my no. 70018"
    rf"(?:{_DIGIT_COUNT_RE.pattern})(?:\s+of\s+(?:my|the)\s+(?:mobile\s+)?(?:no|number|mobile|phone|num|contact)\.?)?[\s:=-]*(?:(?:are|is|hai|hain|were|with)\s+)?(\d{{2,7}}(?:[ -]\d{{1,5}}){{0,3}})(?![0-9])"
)
# A lone O, l or I between digits is a digit: "9 7 O 4 l 2 3 8 8 6". Only there, so
# words ("O Block", "I live") are left alone. Round 4: two of them too ("98.IO.22.33.44").
# Round 6: also S for 5 and Z for 2 ("9 8 2 O l 7 7 3 S 1"); not B or G, which are wings
# and blocks ("3 B 101").
# Round 7: or a part of two characters, a digit and o, i or l ("98-1O-2-23-45-6"); flat
# numbers ("2B", "4A") use other letters.
_LONE_LOOKALIKE_RE = re.compile(r"(?<=[0-9])([^a-z0-9\n]{1,3})([oilsz]{1,2}|[0-9][oil]|[oil][0-9])(?=[^a-z0-9\n]{1,3}[0-9])")
# What ends a phone number between two of its parts: a new line, a sentence or a list
# (", " and ". "), or a long stretch of symbols. Spaces, dashes, dots, brackets,
# slashes, bars, stars and emoji in between do not.
_BREAK_RE = re.compile(r"\n|[,.;!?]\s")
# Anything masked out before numbers are joined (a date, a pincode, an amount, an
# identifier, a quantity) becomes a line break, which ends every number.
_MASK = " \n "
_DIGITS_RE = re.compile(r"\d+")
# A number given but mistyped or oddly grouped is still a number given: one digit short
# of min_phone_digits or more (nine of a mobile's ten still read as one with a digit
# missing), when spelled out in at least _ATTEMPT_MIN_SPELLED words (six spelled
# digits in a row are never a rent, a date or a flat number) or given right after
# "call". Shapes of a phone number rather than deployment thresholds.
_ATTEMPT_SHORTFALL_DIGITS = 1
# English number words, never matched one letter off ("there" is not "three").
_ENGLISH_NUMBER_WORDS = {
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "double", "triple", "hundred",
}
_ATTEMPT_MIN_SPELLED = 6
_DIGITS_OR_LETTERS_RE = re.compile(r"\d+|[a-z]+")
# Round 3. Letters typed for the digits they look like, mixed with digits in one token:
# "98Z4O5I7B6", "9B4O-IZ3-AS67". Only tokens with a digit, no more letters than digits
# plus one and none of another shape ("2bhk", "1st", "1990s" are left alone).
_LOOKALIKE_DIGIT_TOKEN_RE = re.compile(r"(?<![a-z0-9])(?=[a-z]*[0-9])[0-9oilzeasgtb]{3,}(?![a-z0-9])")
_LETTER_DIGITS = str.maketrans("oilzeasgtb", "0112345678")
_ORDINAL_OR_DECADE_RE = re.compile(r"\d+(?:s|st)")
_INTERLEAVED_RE = re.compile(r"(?<![a-z0-9])(?=(?:[a-z]*[0-9]){10})[a-z0-9]{11,30}(?![a-z0-9])")
# Junk in brackets between the parts of a number: "9840 [remove this] 123 (ghar) 456".
_SINGLE_DIGIT_GROUP_RE = re.compile(r"(?<![\w.,])\d(?: \d)+(?![\w.,])")
_WORDS_BETWEEN_GROUPS_RE = re.compile(r" (?:[a-z]+ ){1,4}")
_PART_LABEL_RE = re.compile(r"\b(?:part|hissa)\s*(?:\d|one|two|three|a|b|c)\s*[:=-]")
_CHAINED_AFTER_RE = re.compile(r"[./-][0-9]")
_CHAINED_BEFORE_RE = re.compile(r"[0-9oil][./-]$")
_BRACKETED_JUNK_RE = re.compile(r"(?<=[0-9])\s*[\[({<][^0-9\[\](){}<>\n]{1,30}[\])}>]\s*(?=[0-9])")
_GLUED_TOKEN_RE = re.compile(r"(?<![a-z0-9])[a-z0-9]{5,}(?![a-z0-9])")
# Round 8: digits and lookalike letters typed one by one ("9 8 2 O 4 S 6 7 l O"), ten to
# twelve of them; and a post that says to ignore the letters between its digits.
_SPACED_CHARACTERS_RE = re.compile(r"(?<![a-z0-9])(?:[0-9oilsz][ .-]{1,2}){9,11}[0-9oilsz](?![a-z0-9])")
_IGNORE_LETTERS_RE = re.compile(
    r"(?:ignore|skip|remove|hata\w*|chhod\w*)\s+(?:the\s+|all\s+|these\s+)?(?:letters|alphabets|words|abc|characters|chars|akshar)"
)
_LETTERS_BETWEEN_DIGITS_RE = re.compile(r"(?<=[0-9])(?:\s*[a-z]{1,3}\s*)(?=[0-9])|(?<=[0-9] )[a-z]{1,3}(?= [0-9])")


def _decode_lookalikes(match):
    token = match.group()
    letters = sum(map(str.isalpha, token))
    if not letters or letters > len(token) - letters + 1 or _ORDINAL_OR_DECADE_RE.fullmatch(token):
        return token
    return token.translate(_LETTER_DIGITS)


def _hide_date(match):
    # Round 7: not a date inside a longer chain of parts joined the same way
    # ("98-1O-2-23-45-6"): a date has three parts.
    text, start, end = match.string, match.start(), match.end()
    if _CHAINED_AFTER_RE.match(text, end) or _CHAINED_BEFORE_RE.search(text[max(0, start - 2) : start]):
        return match.group()
    first, second = (int(part) for part in match.groups() if part)
    if (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31):
        return _MASK
    return match.group()


def _breaks(gap):
    return len(gap) > 8 or len(gap.strip()) > 4 or _BREAK_RE.search(gap) is not None


def _looks_like_amounts(parts):
    """'15000 30000', '12500-18000', '6,999 7,999': rent and deposit, a budget range, a price list.

    Each part is written with a thousands comma or is a round (..00) or shop (..99) price.
    """
    return len(parts) > 1 and all("," in part or (len(part) >= 3 and part.endswith(("00", "99"))) for part in parts)


def _looks_like_list(parts):
    """'801 802 803 804', '1201 1202 1203': flat, room or shop numbers, all as long as each other.

    A phone number split into three or more parts has parts of different lengths
    (3-3-4, 4-3-3) or of two digits (98 45 67 89 01).
    """
    return len(parts) >= 3 and len(parts[0]) >= 3 and len({len(part) for part in parts}) == 1


def _looks_like_numbering(parts):
    """'8011 8012', '0801 0802 0803': flat or plot numbers of one building, which share
    their first digit and length. The halves of a phone number ("98220 1234") and a
    landline's code and number ("0251-2435 6789") do not."""
    return (
        len(parts) >= 2
        and len(parts[0]) >= 3
        and len({len(part) for part in parts}) == 1
        and len({part[0] for part in parts}) == 1
    )


class _Run:
    """The parts of what may be one phone number, as they were joined."""

    __slots__ = (
        "parts", "word_split", "word_pending", "last_was_tens", "last_was_spelled", "spelled", "start", "end", "weak_tail"
    )

    def __init__(self, start=0):
        self.parts, self.word_split, self.word_pending = [], False, False
        self.last_was_tens = self.last_was_spelled = False
        self.spelled = 0  # how many parts were spelled out ("nine", "nau")
        self.start = start  # where the first part begins in the text
        self.end = start  # where the last part ends
        self.weak_tail = 0  # round 8: how many of the last parts are weak words ("five for 1BHK")


# --- Profanity ---------------------------------------------------------------------

# A headline in capitals has at most this many words ("SEMI FURNISHED 2BHK IN KHARADI,
# FLAT 801, READY TO MOVE" has 10). Since round 10 it matters only to a request that says
# how urgent it is (_is_urgent_request): a longer one is shouting. The shape of a title,
# not a deployment tunable.
_HEADLINE_MAX_WORDS = 12
# Round 4: a title that lists its facts between dashes, bars or commas may run to this
# many words, each fact no longer than a headline ("DADAR WEST ROOM AVAILABLE — SINGLE
# OCCUPANCY ₹19,000 — SHIVAJI PARK 600 M — WORKING PROFESSIONALS ONLY", 16 words). No
# capitalised spam of any tuning corpus relied on the length alone: each urges, sells,
# rants, exclaims or repeats itself.
_LISTED_HEADLINE_MAX_WORDS = 24
_HEADLINE_SEPARATOR_RE = re.compile(r"\s[—–|•/-]+\s|,|\.\s")  # round 8: also " / " and sentences

# Round 5, repetition: a stretch of words repeating with a period of 2-6 words, nearly
# three times over or more (the last time may be cut short), covering at least 60% of a
# post's words (shapes, not deployment choices).
_REPEATED_PHRASE_MAX_WORDS = 12  # round 8: a sentence said five times ("Best PG in Kota best food best rooms.")
_REPEATED_PHRASE_MIN_TIMES = 3
_REPEATED_PHRASE_SHARE = 0.6
# "visit possible only after token", "visit only after you pay": a visit that costs money.
# Round 6: phrase forms have doubled letters squeezed ("booking" is "boking"), so the
# patterns below are written that way; "site visit allowed only after booking amount is
# received" was missed because this one said "booking". Also "viewing", "seeing" and "once".
_VISIT_AFTER_PAYING_RE = re.compile(
    r" (?:visit|visits|visiting|viewing|seing) (?:[a-z]+ ){0,3}only (?:after|once) (?:the |you |your |a |we |i )?"
    r"(?:receive |get |make |have )?"
    r"(?:payment|paying|pay|paid|token|advance|boking|transfer|deposit|confirmation"
    r"|0 (?:token|advance|boking|rs|rupes|on|via|by))"
    # "no site visits until the booking amount reaches my account", "no viewing unless you pay"
    r"| no (?:site )?(?:visit|visits|viewing|viewings) (?:until|til|unles|before|without) (?:[a-z]+ ){0,3}"
    r"(?:payment|pay|paid|token|advance|boking|transfer|deposit|amount)"
)
# Round 6: a visit refused for a time ("visits not possible on weekdays", "visit not
# allowed after 9 pm") is a visit restricted, not refused: taken out before the scam
# phrases are read.
_TIMED_REFUSAL_RE = re.compile(
    r" (?:(?:visit|visits|visiting|viewing|viewings|visitors) (?:are |is )?not (?:posible|alowed|permited)"
    r"|no (?:site )?(?:visit|visits|visiting|viewing|visitors)(?: alowed)?"
    r"|(?:does not|doesn t|don t|do not) alow (?:visitors|visits))"
    r"(?= (?:on|before|after|during|betwen|at|in the|today|tomorow|this|post|past|beyond) "
    # "until 10 am" is a time; "until the booking amount reaches my account" is a payment
    r"| (?:til|until) (?!(?:[a-z]+ ){0,3}(?:payment|pay|paid|token|advance|boking|transfer|deposit|amount)))"
)
# Round 6: "call before visiting", "dekhne se pehle call kar lena", "ফ্ল্যাট দেখার আগে ফোন
# করবেন": a word for "before" within a few words of a word for calling is about a call.
_CONTACT_WORDS = frozenset(
    "call cal phone ring mesage msg text inform ping contact कॉल फोन ফোন போன் ఫోన్ ಫೋನ್ ഫോൺ ફોન ਫੋਨ".split()
)
_BEFORE_MARKS = (
    "before", "prior", "pehle", "pahle", "पहले", "पहिले", "आधी", "पूर्वी", "முன்", "ముందు", "ಮೊದಲು", "ಮುನ್ನ",
    "ಮುಂಚೆ", "മുമ്പ്", "আগে", "પહેલા", "ਪਹਿਲਾਂ",
)
_CALL_DISTANCE = 4


def _without_call_before(phrases):
    """The phrase form with each "before" near a word for calling blanked out."""
    tokens = phrases.split()
    calls = [index for index, token in enumerate(tokens) if token in _CONTACT_WORDS]
    for index, token in enumerate(tokens):
        if any(mark in token for mark in _BEFORE_MARKS) and any(abs(index - call) <= _CALL_DISTANCE for call in calls):
            tokens[index] = "x"
    return f" {' '.join(tokens)} "


# Round 6: the address or location given only after money, in English ("then we'll share
# the flat location", "after that you get the address"); other languages are phrases of
# [prepay] in scam_phrases.txt.
_ADDRESS_AFTER_RE = re.compile(
    r" (?:then|after that|after which|only then|and then) (?:[a-z]+ ){0,3}(?:share|send|give|get|receive|text|mesage)"
    r"(?: you| u)? (?:the |our |my |exact |ful |flat |rom |house |your )*(?:[a-z]+ (?:and |& ))?"
    r"(?:adres|address|location|pin|directions) "
    # "only then address will be shared"
    r"| (?:then|only then|after that) (?:the |your |our |exact |flat )?(?:adres|address|location) "
    r"(?:wil be |wil |is |gets )?(?:shared|sent|given|revealed|disclosed)"
    # "I will share lockbox code after payment", "keys only after the transfer"
    r"| (?:share|send|give) (?:you )?(?:the |my )?(?:[a-z]+ ){0,2}(?:adres|address|location|code|key|keys) "
    r"(?:only )?(?:after|once) (?:the |your |you )?(?:payment|pay|paid|transfer|token|advance|boking|deposit)"
)
# Round 6: the place, its address or its owner shown only after money, in any order of
# words: "visit can be arranged after confirmation", "photos and address on WhatsApp after
# payment", "security deposit must be paid online before I share the flat number",
# "viewing only for confirmed tenants", "send 3000 token first, then we discuss the visit".
# Not the keys or the agreement: an honest owner also hands those over after the deposit.
_SHOWN_THING = r"(?:visit|visits|viewing|address|adres|location|flat number|building name|photos|pics|owner s (?:contact|number))"
_PAID = r"(?:payment|pay|paid|paying|confirmation|boking|transfer|token|advance|deposit)"
_SHOWN_AFTER_PAYING_RE = re.compile(
    rf" {_SHOWN_THING} (?:[^ .!?|]+ ){{0,6}}(?:after|once|post) (?:the |your |you |we |i )?(?:receive |get )?{_PAID} "
    rf"| {_PAID} (?:[^ .!?|]+ ){{0,8}}(?:before|then|and then|and) (?:i |we )?(?:wil |l )?"
    rf"(?:share|send|give|arange|discus|show|fix|plan) (?:you )?(?:the |my |our )?(?:[a-z]+ ){{0,2}}{_SHOWN_THING} "
    r"| (?:visit|visits|viewing|viewings) (?:[a-z]+ ){0,2}only for (?:confirmed|paid|boked|serious paid) "
)
# Round 7: money first, then the place shown, said in that order: "the deposit in agent
# account first, then viewing", "advance first, then the visit", and in Hindi, Marathi and
# Hinglish "आधी टोकन ३००० पाठवा, मग घर दाखवतो", "pehle advance bhejo phir flat dikhayenge".
# Seeing first and paying after ("पहले फ्लैट देखो, फिर टोकन देना", "visit first, then pay
# the token") is the honest order and does not match. No honest owner puts the visit
# after the money in so many words, so this counts as two kinds of evidence in the score.
_FIRST_MARK_RE = re.compile(" (?:first|pehle|pahle|pehele|adhi) |पहले|पहिले|आधी")
_FIRST_THEN_SHOWN_RE = re.compile(
    rf" {_PAID} (?:[^ .!?|]+ ){{0,8}}first (?:, )?(?:and )?then (?:the |a |we |i )?(?:[a-z]+ )?{_SHOWN_THING} "
    rf"| {_PAID} (?:[^ .!?|]+ ){{0,8}}first (?:, )?(?:and )?then (?:i |we )?(?:wil |l |can |shal )?(?:show|visit|se|view) "
    r"| (?:pehle|pahle|pehele|adhi|aadhi|पहले|पहिले|आधी) (?:\S+ ){0,3}"
    r"(?:token|advance|deposit|payment|paise|pese|टोकन|एडवांस|ॲडव्हान्स|अॅडव्हान्स|डिपॉझिट|डिपॉजिट|पेमेंट|पैसे) "
    r"(?:\S+ ){0,4}(?:phir|fir|then|tab|bad|mag|फिर|तब|मग|नंतर|बाद) (?:\S+ ){0,3}"
    r"(?:dikha|dikhayenge|dikhaunga|dikhate|dakhav|dakhavto|दिखा|दाखव)"
)
# Round 7: a one-time password to be passed on, in either order and any wording ("you
# will get an OTP on your phone, just share it with me", "OTP aayega, woh mujhe bata
# dena", "send me the OTP"): passed on to the poster, not to a guard. A warning ("never
# share the OTP") is read before this.
_OTP_SHARED_RE = re.compile(
    r" otp (?:[^ .!?|]+ ){0,8}(?:share|shared|sharing|bata|batana|batao|bhej\w*|send|tell|forward|give|read out|reply with|reply)"
    r" (?:[^ .!?|]+ ){0,2}(?:me|mujhe|muje|us|hume|here|yahan|idhar) "
    r"| (?:mujhe|muje|me|us) (?:[^ .!?|]+ ){0,3}otp "
    r"| (?:share|bata\w*|bhej\w*|send|tell|forward|give|reply with) (?:me |us )?(?:the |your |that )?otp "
)
# Round 6: paying first, whatever is paid ("pay the deposit first", "send the token
# first"). An honest landlord also wants the deposit before moving in, so this only
# adds to other evidence that the place is kept from view (see _scam_score).
_PAY_FIRST_RE = re.compile(
    r" (?:pay|send|transfer|deposit) (?:the |your |a |me )?(?:[a-z0-9]+ ){0,2}first (?!month|flor|time|rent)"
    r"| (?:token|advance|boking amount|payment) (?:of )?(?:0 )?first (?!month|flor|time|rent)"  # "token 5000 first"
    # round 7: Hinglish ("0 pehle pay karo", "registration 0 pehle jama karein", "pehle advance bhejo")
    r"| (?:0 )?(?:pehle|pahle|pehele) (?:[a-z]+ )?(?:pay|jama|bhejo|bhej do|transfer|de do|dedo)"
)
# Round 6: the visit put after the payment ("token 5000 first to block the flat, visit
# afterwards"): counts as paying before the visit only with a payment asked first.
_VISIT_LATER_RE = re.compile(
    # round 7: phrase forms squeeze "baad" to "bad", so "visit baad me" had never matched
    r" (?:visit|viewing|se the flat|se it) (?:[a-z]+ )?(?:afterwards|later|after that|bad me|bad mein) "
)
# Round 6: a refund promised "after the agreement" is not a safe arrangement: the
# [warning] phrases are read without it ("fully refundable after agreement").
_REFUND_AFTER_RE = re.compile(r" (?:fuly |100 )?refund(?:able|ed)? (?:[a-z]+ ){0,2}(?:after|on|at) (?:the |your )?")
# Round 6: identity papers sent ("send a scan of your Aadhaar and PAN").
_DOCUMENTS_SENT_RE = re.compile(
    r" (?:send|share|upload|mail|email|whatsapp|bhejo|bhej do|bhejiye) (?:[a-z]+ ){0,4}"
    r"(?:aadhaar|aadhar|adhar|aadhaar card|pan|pan card|pasport|id proof|id card|voter id)"
)

# Round 8: what a warning quotes or reports is not the post's own words. A post that
# warns (a [warning] phrase) may quote the scam it warns of ('Avoid paying anyone who says
# "pay 2k and I'll send the keys by courier"', dev12's false positive), report what was
# said to the poster ("a so-called owner asked me to pay 5000 on GPay and said he'd courier
# the keys") or forbid it ("never scan a QR code to receive money"). Those spans are
# blanked out before the scam and spam phrases are read: text in quotation marks, and from
# a reporting or forbidding word to the end of its sentence. Only in a post that warns,
# and not for assurances ("no fraud", "not fake"), which scammers write.
_QUOTED_SPAN_RE = re.compile(r"[\"“”«»„][^\"“”«»„\n]{2,240}[\"“”«»„]|(?<![\w'’])['‘][^'‘’\n]{2,120}['’](?![\w'’])")
_REPORTED_SPAN_RE = re.compile(
    r"(?i)(?:\b(?:any\s?one|any\s?body|some\s?one|some\s?body|people|owners?|brokers?|agents?|those|guys?|person|they)"
    r"\s+(?:who|that|which)\s+(?:says?|said|asks?|asked|tells?|told|wants?|demands?|promises?|offers?|writes?|claims?)\b"
    r"|\bif\s+(?:any\s?one|any\s?body|some\s?one|some\s?body|an?\s+\w+|the\s+\w+|they|he|she)\s+"
    r"(?:\w+\s+){0,2}(?:says?|asks?|tells?|wants?|demands?|offers?|promises?|claims?)\b"
    r"|\b(?:asked|told|wanted|forced|pressured|pushed|messaged|texted|called)\s+(?:me|us|my\s+\w+|him|her|them)\b"
    r"|\b(?:was|were|got)\s+(?:told|asked)\b|\b(?:said|claimed|promised)\s+(?:he|she|they|that|it)\b"
    r"|\b(?:got|received|getting)\s+(?:a\s+|this\s+|an?\s+\w+\s+)?(?:message|msg|call|sms|mail|text|dm)\b"
    # round 8, phase 2: "someone here says he is ...", "a man on OLX claims ..."
    r"|\b(?:some\s?one|some\s?body|a\s+\w+|this\s+\w+|the\s+\w+|they|he|she)\s+(?:\w+\s+){0,2}"
    r"(?:said|says|claimed|claims|told|tells|wrote|writes|asked|asks|promised|promises|offered|offers|demanded|demands)\b"
    r"|\b(?:agar\s+|jo\s+)?koi\s+(?:bhi\s+)?(?:bole|bolta|bolti|kahe|kehta|kehti|maange|mange|maangta)\b)"
    r"[^.!?\n]*"
    # what the post forbids, to the end of its clause ("never scan a QR code to receive money;")
    r"|(?i:\b(?<!to )(?:never|don[’']?t|dont|do\s+not|avoid|beware\s+of|stay\s+away\s+from|watch\s+out\s+for)\s+\w+)"
    r"(?:[^.!?\n,;:]|,(?=\d))*"
)
# A post that warns, for _stated_phrases, besides the [warning] phrases: "avoid anyone
# who says ...", "I ignored it", "PSA", "Warning:".
_WARNS_OF_RE = re.compile(
    r"(?<! to) (?:beware|warning|warn|warned|avoid|ignored|ignore it|refused|never|psa|heads up|careful|scam|scams|scamer|scamers"
    r"|fraud|frauds|fraudster|fake|cheat|cheated|cheating|report|reported|deleted|blocked|not true|lie|lies|it doesn t"
    r"|it isn t|ignore|declined|walked away|said no|didn t pay|never paid|dhokha|jhoth|jhot|jhut|savdhan|sawdhan|bachke|सावधान|धोखा|फ्रॉड|झूठ) "
)
# Its words, for a quick test: a post with none of them (most posts) does not warn. Of a
# phrase, its least common word ("walked" of "walked away", "true" of "not true").
_WARNS_OF_WORDS = frozenset(
    word
    for word in re.sub(r"\(\?<![^)]*\)|\(\?:|\)", " ", _WARNS_OF_RE.pattern).replace("|", " ").split()
    if word not in {"it", "not", "t", "up", "away", "no", "pay", "paid", "did"}
)
_ASSURED_WORDS = frozenset("fake fraud scam cheat fraudster scamer scammer fakes frauds scams cheats".split())
_MAY_ASSURE_RE = re.compile(r" (?:no|not|never|zero|0|nahi|nahin|nai|nhi) ")
_ASSURANCE_RE = re.compile(
    r" (?:not|no|never|zero|0) (?:a |any )?(?:fake|fraud|scam|cheat|fraudster|scamer|scammer)s? "
    r"| (?:fake|fraud|scam|cheat)s? (?:nahi|nahin|nai|nhi) "  # round 8: "Fake nahi, ..."
)

# Round 8 (dev12): scams by what they are, each a family rather than a wording.
# A fee whose purpose is seeing the place ("pay 2,500 gate pass fee so the guard allows
# you to see the flat", "500 to see the flat", "dekhne ke liye 300 lagega"): the place
# shown only for money. In the score, as paying before the visit.
_PAY_TO_SEE_RE = re.compile(
    r"(?<! no)(?<! zero) (?:fe|fes|charge|charges|pay|paid|0|pas) (?:[^ .!?|,;:]+ ){0,5}(?:so|so that|to|for|in order to|taki|jise)"
    r" (?:[^ .!?|,;:]+ ){0,5}(?:se|view|visit|enter|inspect) (?:the |your |my |our |this )?"
    r"(?:flat|rom|house|property|place|pg|home|apartment|it) "
    r"| (?:dekhne|dikhane) (?:ke liye|ka|ki) (?:[^ .!?|,;:]+ ){0,3}(?:fe|charge|charges|0) "
    r"| (?:देखने के लिए|दिखाने के लिए|देखने का|बघण्यासाठी|बघायला|पाहण्यासाठी|दाखवण्यासाठी) (?:[^ .!?|,;:]+ ){0,3}"
    r"(?:0|फी|चार्ज|शुल्क|fe|charge) "
)
# Money received by paying: a QR code scanned or a PIN entered "to receive" a refund or
# a token (round 2 listed the wordings; this is the shape, with words between: "please
# scan the QR I will send to receive the money").
_PAY_TO_RECEIVE_RE = re.compile(
    r" (?:scan|qr|pin|aprove|acept|enter) (?:[^ .!?|,;:]+ ){0,6}(?:to|and)(?: you| u)?(?: wil| can| shal| l)?"
    r" (?:receive|recieve|get|claim|credit)"
    r" (?:the |your |my |this |that )?(?:money|payment|amount|refund|token|cash|0|rs|rupes|advance) "
    # Hinglish: "QR bhej raha hoon, scan karke apna refund le lo"
    # round 8, phase 2: "just approve it with your PIN" (a PIN only ever sends money)
    r"| (?:aprove|acept|confirm) (?:it |this |the request |the payment )?(?:with|using|by entering) (?:your |the )?(?:upi )?pin "
    r"| (?:scan|qr) (?:[^ .!?|,;:]+ ){0,3}(?:karke|kar ke|karo|kar) (?:[^ .!?|,;:]+ ){0,2}"
    r"(?:refund|paise|paisa|payment|amount|money|token|advance) (?:le lo|lelo|lo|milega|milenge|mil jayega|receive|aa jayega|ayega)"
)
# A prize to be claimed for a fee ("Congratulations! You have been selected for a FREE
# 1 year stay ... Pay 750 stamp duty to claim your keys"): refused with money asked.
_PRIZE_RE = re.compile(
    r" (?:congratulations|congrats|you have ben selected|you ve ben selected|you are selected|you have won|you won"
    r"|lucky winer|lucky draw|winer of|you are the winer"
    r"|lucky (?:user|customer|member|tenant|one|person)|you are our lucky|selected as (?:a |the )?winer"
    r"|बधाई|इनाम|जीता|जीती|लॉटरी|विजेता) "
)
_CLAIM_RE = re.compile(
    r" (?:to claim|claim your|claim the|claim it|to colect your|to receive your|claim kar\w*"
    r"|पाने के लिए|प्राप्त करने के लिए|क्लेम|लेने के लिए|claim) "
)
_PRICE_WORDS_RE = re.compile(
    r" 0 (?:stamp duty|duty|fe|fes|charges|charge|tax|procesing|delivery charge|delivery charges) "
    r"| 0 (?:\S+ ){0,2}(?:जमा|भेजें|भेजो|टैक्स|फीस|शुल्क|चार्ज)"
)
# Round 8, phase 2: "pay before seeing" asks for money as "pay first" does.
_PAY_BEFORE_SEEING_RE = re.compile(
    r" (?:pay|send|transfer) (?!nothing |no |zero |anything )(?:[a-z]+ ){0,2}before (?:seing|viewing|visiting|the visit|you se|you visit|coming|you come) "
)
_HINGLISH_PAY_WORDS = frozenset("bhejo bhej bhejiye bhejna pay transfer jama de dedo".split())
# An amount and a verb to pay it, in Hinglish word order ("999 bhejo", "2000 pay karo").
_AMOUNT_THEN_PAY_RE = re.compile(
    r" 0 (?:rs |rupes |rupaye |rupay )?(?:bhejo|bhej do|bhejiye|bhejna|pay karo|pay kar do|pay karein|transfer karo"
    r"|jama karo|jama karein|jama kar do|de do|dedo) "
)
# The price of unlocking anything ("Kirb now charges tenants 299 to unlock the reveal
# button"): the board's features are free; round 1 listed "pay to unlock".
_PAY_TO_UNLOCK_RE = re.compile(
    r" (?:pay|pays|paid|charges|charge|charging|fe|0) (?:[^ .!?|,;:]+ ){0,5}to unlock "
    r"| unlock (?:karne|karwane|karane|karwane) (?:ke liye|ko|ka) (?:[^ .!?|,;:]+ ){0,3}(?:0|pay|fe|charge|charges) "
)
# A stay said to be free with a payment asked ("Accommodation for girls is free, only
# donation 3000 in advance to trust account"): the bait of a free room.
_FREE_STAY_RE = re.compile(
    r" (?:acomodation|stay|staying|rom|roms|hostel|pg|bed|beds|living|lodging|boarding|flat)"
    r" (?:[a-z]+ ){0,3}(?:is |are |wil be )?(?:totaly |completely |absolutely |fuly |100 )?fre "
    r"| fre (?:0 year |0 month |0 months |0 years )?(?:acomodation|stay|lodging|boarding|hostel|rom|pg) "
)
_ONLY_PAY_RE = re.compile(
    r" (?:only|just|bas|sirf) (?:pay |pay a |pay the )?(?:a |the |smal |0 ){0,3}(?:donation|contribution|ofering|seva"
    r"|registration|procesing|boking|service charge|charges|fe|fes|duty|stamp duty|tax) "
)
# Round 8, phase 2 (dev13, dev14). An authority's notice with a threat and a payment
# ("Pay 1,500 fee on our portal or fine 10,000. - Tenant Verification Cell", "electricity
# will be disconnected tonight ... pay the officer on his personal UPI"): an authority
# named, a penalty threatened, money asked. A landlord's own late fee names no authority.
_AUTHORITY_RE = re.compile(
    r" (?:police|municipal|municipality|corporation|electricity|mseb|bescom|tneb|fire noc|fire department|cyber cel"
    r"|verification cel|cel|department|ministry|govt|government|court|oficer|inspector|tax department|income tax) "
)
_THREAT_RE = re.compile(
    r" (?:or (?:pay )?(?:a )?fine|or face|penalty|police action|legal action|wil be disconected|be disconected"
    r"|disconected tonight|to avoid (?:the )?(?:cut|disconection|penalty|fine|action|sealing)|wil be sealed|be blacklisted"
    r"|(?:otherwise|or) (?:you|your|the) (?:[a-z]+ ){0,3}(?:cancel\w*|fine|fined|action|cut|disconected|blocked|sealed|suspended"
    r"|terminated)) "
)
# A benefit from a scheme released for a fee ("PMAY FREE FLAT scheme! Register with 2,100
# fee", "scholarship sanctioned ... pay processing charge 1,500 to release the amount",
# "rent subsidy ... pay verification 750 and get 3,000/month").
_BENEFIT_RE = re.compile(
    r" (?:yojana|scheme|subsidy|scholarship|sanctioned|grant|pmay|govt aproved|government aproved|fre laptop"
    r"|fre flat|fre house|rent suport|cash back|cashback) "
)
_FEE_FOR_BENEFIT_RE = re.compile(
    r" (?:pay|paying|deposit|jama) (?:[^ .!?|,;:]+ ){0,4}(?:to release|to receive|to activate|to claim|and get 0"
    r"|to get (?:the |your )?(?:amount|money|subsidy|scholarship|benefit|laptop|flat|0)) "
    r"| (?:fe|fes|charge|charges) (?:of )?0 (?:to|for) (?:release|activate|claim|register|receive) "
    r"| 0 (?:fe|fes|charge|charges) (?:to|for) (?:release|activate|claim|receive|get) "
)
# A thing given free by a scheme, for which registering with a fee is the scam ("Govt free
# laptop yojana ... register with 199 fee", "PMAY FREE FLAT scheme! Register with 2,100 fee").
_FREE_BENEFIT_RE = re.compile(
    r" fre (?:flat|flats|house|houses|home|laptop|laptops|phone|phones|scoty|cycle|ration|gas|plot|plots|tablet)"
    r"| fre (?:[a-z]+ ){0,2}(?:yojana|scheme) "
)
_REGISTER_FEE_RE = re.compile(r" (?:register|registration|apply|fil form) (?:[a-z]+ ){0,2}(?:with|by paying|for) 0 ")
# Paying to prove one is a genuine tenant ("Send 1 on GPay to prove you are a genuine
# tenant", "a small seriousness charge so I know you are real"); an owner who wants proof
# asks for papers, not money.
_PROVE_GENUINE_RE = re.compile(
    r" (?:pay|transfer|0|charge|fe|amount|send 0|send money|send rs) (?:[^ .!?|,;:]+ ){0,6}(?:to prove|so i know|to show|so that i know)"
    r" (?:that )?(?:you are|you re|u r|u are|ur) (?:a |an )?(?:genuine|real|honest) "
)
# Money sent too much, the rest "returned" (a cheque for 2 lakh, "return the extra
# amount to my agent by UPI").
_RETURN_EXTRA_RE = re.compile(
    r" (?:please|kindly|just|you can|you wil|you must|and) (?:return|refund|send back|transfer back|give back|pay back)"
    r" (?:the |me the |my )?(?:extra|exces|balance|diference|remaining)(?: amount| money)? "
)
# A seat, a job or an allotment bought through a quota or a "setting" and guaranteed.
_BOUGHT_RESULT_RE = re.compile(
    r" (?:management quota|nri quota|vip quota|seting|jugad|through (?:our |my )?(?:contacts?|sources?|quota)) "
)
_RESULT_RE = re.compile(r" (?:seat|seats|admision|job|naukri|alotment|result|pas|selection|posting|hostel) ")
_GUARANTEED_RESULT_RE = re.compile(r" (?:guaranted|guarante|guarantes|pakka|paka|0 pakka|0 sure|0 confirmation|sure shot|confirm hai) ")
# Leetspeak in the words of a scam ("Send t0ken am0unt 3k on G-P-a-y ... keys by c0urier").
_LEET_SCAM_WORD_RE = re.compile(r"(?<![\w@])[a-z]+[0134@$][a-z0-9@$]*(?![\w@])")
_LEET_HINT_RE = re.compile(r"[a-z][0134@$][a-z]")
_DISGUISED_WORD_HINT_RE = re.compile(r"[a-z](?:[0134@$][a-z]|[-.][a-z][-.][a-z])")
_SPELLED_APART_HINT_RE = re.compile(r"[a-z][-.][a-z][-.][a-z]")
_SPELLED_APART_RE = re.compile(r"(?<![\w-])[a-z](?:[-.][a-z]){2,}(?![\w-])")
# What a scammer says of others, not a warning ("too many fake visitors", "do not share
# it with anyone else").
_EXCUSE_RE = re.compile(
    r" (?:fake|fraud) (?:visitors|visits|enquiries|inquiries|calls|tenants|customers|bokings|people|buyers) "
    r"| (?:do not|don t|dont|never) share (?:it |this |the otp |otp )?with anyone else "
)
_AUTHORITY_WORDS = frozenset(
    "police municipal municipality corporation electricity mseb bescom tneb fire cel department ministry govt "
    "government court oficer inspector tax".split()
)
_BENEFIT_WORDS = frozenset("yojana scheme subsidy scholarship sanctioned grant pmay aproved fre suport cash cashback".split())
_BOUGHT_WORDS = frozenset("quota seting jugad contacts contact sources source".split())
_PAID_BEFORE_RE = re.compile(r" (?:in advance|advance|beforehand|first|pehle|to (?:the |our |my )?(?:[a-z]+ )?acount) ")
# Contact lists and data sold: pay, then "we send the full list" ("Pay via GPay and we
# send the full Excel list in 10 mins"). Asks for money and counts as access sold.
_PAY_FOR_LIST_RE = re.compile(
    r" (?:pay|send|transfer|0) (?:[^ .!?|,;:]+ ){0,5}(?:and|then|after which|after that) (?:we|i) (?:wil |l |shal )?"
    r"(?:send|share|give|mail|forward|unlock|provide)(?: you)? (?:the |our |a |my )?(?:ful |complete |whole |entire )?"
    r"(?:[a-z]+ )?(?:list|lists|numbers|contacts|database|data|shet|pdf|excel) "
    # Hinglish: "GPay karo aur hum list WhatsApp pe bhej denge"
    r"| (?:karo|bhejo|pay|transfer) (?:aur|phir|fir|uske bad) (?:hum|ham|main|mai|we|i) (?:[^ .!?|,;:]+ ){0,1}"
    r"(?:list|data|pdf|excel|numbers|contacts|shet) (?:[^ .!?|,;:]+ ){0,3}(?:bhej|de dunga|de denge|share)"
)
_CONTACTS_SOLD = (" owner", " landlord", " contacts ", " numbers ", " brokers ")

_EDGE_PUNCTUATION = "\"'`.,;:!?()[]{}<>-_*~…|/\\#=+"
# Stars stay on a word for the profanity rule: "F***" is a masked word, not "F".
_EDGE_PUNCTUATION_BUT_STARS = _EDGE_PUNCTUATION.replace("*", "")
# Separators inside a word: f.u.c.k, mother-fucker, bc,mc.
_IN_WORD_SEPARATORS_RE = re.compile(r"[.\-_,:;|/\\'`~+=]")
_LEET_SYMBOLS = str.maketrans("@$!", "asi")
# Only for words that already have two letters, so flat "A-455" is not "ass".
_LEET_DIGITS = str.maketrans("431057", "aeiost")


def _unleet(match):
    """A scam word in leetspeak, as written: "t0ken" -> "token", "@dvance" -> "advance"."""
    return match.group().translate(_LEET_DIGITS).translate(_LEET_SYMBOLS)


def _unspell(match):
    """A word spelled apart: "G-P-a-y" -> "GPay"."""
    return match.group().replace("-", "").replace(".", "")


# Spellings that sound alike in Hinglish and Marathi: compared as one.
_SOUND_ALIKE = (("oo", "u"), ("ee", "i"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("w", "v"), ("z", "j"), ("jh", "j"))
# The first and last letters a word and its sound-alike spelling share.
_ENDS = str.maketrans("zwq", "jvk")


# Round 3: abusive words this long (after sound-alikes are folded) also match one typo
# away; shorter ones collide with names and words ("fucking" and "tucking").
_ABUSE_TYPO_MIN_LETTERS = 8
# Devanagari vowel signs a word may end in: "लौडा", "लौडे", "लौडी" are one word inflected.
_MATRAS = "\u093e\u093f\u0940\u0941\u0942\u0947\u0948\u094b\u094c\u0902\u0901"
# A threat to someone's mother or sister ending in a masked word: "teri maa ki ch*t".
# Round 4: the same threat in Bengali, Gujarati, Punjabi and Marathi ("tor maa ke ch*di",
# "tor maak c***i", "tari maa ni ...", "teri pen di ...").
_MASKED_THREAT_RE = re.compile(
    r"\b(?:teri|tera|tor|tar|tari|tumhari|tumar|tuzi|tujhi|tuji|tohar|tohaar|tohra|tohre|tahar)\s+"  # round 7: Bhojpuri
    r"(?:maa?|maak|maai|mai|maiya|behen|bahen|behan|bhen|bhain|bahin|pen|bon|ben|aai|aaich)\s+"
    r"(?:(?:k[aie]|ni|na|ne|nu|r|er|di|da|chi|cha)\s+)?[a-z]*[*#@$%][a-z*#@$%]*"
)
# Round 4: Bengali, Gurmukhi, Gujarati, Odia, Tamil, Telugu, Kannada and Malayalam are
# laid out like Devanagari (one 128-code-point block each, the same letter at the same
# offset), so their text is read in Devanagari for the abuse lists: "বোকাচোদা" (Bengali)
# is "बोकाचोदा", "ભોસરીના" (Gujarati) is "भोसरीना".
_OTHER_INDIC_RE = re.compile("[\u0980-\u0d7f]")
_TO_DEVANAGARI = {code: 0x0900 + (code - 0x0900) % 0x80 for code in range(0x0980, 0x0D80)}
# A word read that way is abusive when it starts with a Devanagari entry of at least
# this many code points: those languages inflect with suffixes ("-ना", "-र", "-के").
_FOLDED_STEM_MIN = 4
# Round 6: entries typed in the other scripts start words only from this many code points
# ("ಸೂಳೆಮಗ"): the southern languages glue more onto a word, and a short entry starts
# ordinary words ("ஓத்தா" would start a misspelt "ஒத்தாசை", help).
_OTHER_SCRIPT_STEM_MIN = 6


# Round 7: an English plural of an abusive word ("chutiyas", "r@ndis"): the word less its
# "s", when that leaves five letters or more ("ass" is not "as"; "bass" ends in "ss"),
# matched exactly, without a typo.
_PLURAL_MIN_LETTERS = 6


def _plural_stem(word):
    if len(word) >= _PLURAL_MIN_LETTERS and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return None


def _ends(word):
    return (word[0] + word[-1]).translate(_ENDS)


def _skeleton(word):
    """'chootiyaa' -> 'chutiya', 'lawde' -> 'lavde', 'jhavadya' and 'zavadya' -> 'javadya'."""
    for spelling, sound in _SOUND_ALIKE:
        if spelling in word:
            word = word.replace(spelling, sound)
    return _squeeze(word)


def _stretchable(entry):
    """'ass' -> a+s+s+: stretched letters match, but a letter written twice must be there twice."""
    return re.compile("".join(re.escape(char) + "+" for char in entry))


_PLUS_FOR_T_RE = re.compile(r"[a-z]\+[a-z]", re.IGNORECASE)
_LEET_INSIDE_RE = re.compile(r"[a-z][@$0-9]|[@$0-9][a-z]", re.IGNORECASE)
# Round 6: words of letters and digits, read as leetspeak for abusive phrases ("b0l1 m4g4").
_LETTERS_AND_DIGITS_RE = re.compile(r"(?<![\w])[a-z]+[0134][a-z0-9]*(?![\w])")
_SPACED_LETTERS_RE = re.compile(r"(?<!\S)\S \S \S(?!\S)")
_WIDE_GAP_RE = re.compile(r"\s{2,}")
# Round 5: a handle some words after an app must look like nothing else: letters with
# a "_", letters joined by "." ("meghaa.rentals", not "e.g." or "10.30"), or a name with
# two digits or more at its end ("puneflats2024", not "sector62" or "covid19").
_HANDLE_WINDOW_WORDS = 8
_SENTENCE_BREAK_RE = re.compile(r"[.;]\s")
_HANDLE_SHAPE_RE = re.compile(
    r"[a-z][a-z0-9]*_[a-z0-9_.]*[a-z0-9]|[a-z]{2,}[0-9]*(?:\.[a-z]{2,}[0-9]*)+|(?P<name>[a-z]{3,})[0-9]{2,}"
    r"|[a-z]{3,}\.[0-9]{2,}"  # round 6: "roomdilli.21"
)
# Round 6: handles in other disguises.
_SPELLED_DOT_RE = re.compile(r"(?<=[a-z0-9_]) dot (?=[a-z0-9_])")
_SPACED_APP_INITIALS_RE = re.compile(r"(?<![a-z0-9])([it])[ .]{1,2}(g)(?![a-z0-9])")
_DM_HANDLE_RE = re.compile(
    r"\b(?:dm|msg|message|ping|follow|text)\s+(?:karo\s+|kar\s+|kijiye\s+|karein\s+|me\s+|us\s+)?(?:on\s+|at\s+|to\s+)?"
    r"@[a-z][a-z0-9_.]{2,}"
)
_AT_WORD_RE = re.compile(r"(?<![\w@])@([A-Za-z][A-Za-z0-9]{5,})")
_CAMEL_HUMP_RE = re.compile(r"[a-z][A-Z]")
_NOT_HANDLE_FIRST = frozenset("me us it now only pe par karo here there please pls msg call dm text ok thanks".split())
_NOT_HANDLE_LAST = frozenset("nagar road rd colony vihar park marg chowk peth wadi layout nivas society".split())
_NOT_HANDLE_NAMES = frozenset(
    "sector phase block tower wing plot flat flats room rooms gate lane road stage floor unit shop covid ward zone "
    "house building apartment bhk pin no".split()
)


def _is_camel_case(token):
    """'PatnaRoomWale', 'MumbaiPGwala': words run together with capitals inside, twice or
    in ten letters or more; not "WhatsApp", "PhonePe", "YouTube", "McDonalds"."""
    if not token.isalnum() or sum(map(str.isalpha, token)) < 8:
        return False
    humps = len(_CAMEL_HUMP_RE.findall(token))
    return humps >= 2 or (humps == 1 and len(token) >= 10)


def _is_handle_shaped(chunk):
    token = chunk.strip(_EDGE_PUNCTUATION.replace("_", ""))
    match = _HANDLE_SHAPE_RE.fullmatch(token)
    if not match or len(token) < 6:
        return False
    if match["name"]:
        return match["name"] not in _NOT_HANDLE_NAMES
    # Letters joined by a dot: not a missing space after a short word ("whatsapp me.budget
    # 20k") nor a road or area written with a dot ("sb.road", "jp.nagar").
    parts = token.split(".")
    return "_" in token or not (parts[0] in _NOT_HANDLE_FIRST or parts[-1] in _NOT_HANDLE_LAST)


# Round 6: "2BHK", "1rk", "3 bhk": a home's size, for the off-topic offer check.
_WA_HANDLE_RE = re.compile(r"(?<![a-z0-9])wa\s*[:=\-–]\s*@?([a-z0-9_.]{4,})")
_GLUED_HOME_SIZE_RE = re.compile(r"\d\s?(?:bhk|rk|bed|bhks)\b")
# Round 6: "id is hydhomes_99", "username: flats.pune", with no app named: a token shaped
# like a handle (_is_handle_shaped) or a made-up name ("id is hydhomes"); not a code
# ("RERA ID: P52100047896", "order id OD1234...") nor a word ("id is pending").
_HANDLE_LABEL_RE = re.compile(
    r"(?<![a-z0-9])(?:id|user\s?id|user\s?name|handle)\s*(?:(?:is|:|-|=|hai|h)\s*)?@?(?P<token>[a-z0-9][a-z0-9_.]*[a-z0-9])"
)
# Round 6: junk posts. Letters in a row on a keyboard ("asdfgh", "qwerty", "lkjh"), four or
# more: no word of any language on the board is one. Words people type to test a form.
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_RUN_MIN = 4
# A post of symbols and emoji alone may have a few ("🙏", "👍👍"), not this many.
_SYMBOLS_ONLY_MIN = 8
_PLACEHOLDER_WORDS = frozenset(
    "test tests testing tested check checking hello hi hey sample dummy demo lorem ipsum abc xyz asdf ok okay".split()
)


_KEYBOARD_RUNS = frozenset(
    line[start:end]
    for row in _KEYBOARD_ROWS
    for line in (row, row[::-1])
    for start in range(len(line))
    for end in range(start + _KEYBOARD_RUN_MIN, len(line) + 1)
)


def _is_keyboard_run(token):
    # Round 8: letters of one keyboard row in any order, five or more and no vowel
    # ("hjgfdhjgf", "kjhsdfkjh", "mnbmnb"); no word of the board's languages is one.
    return token in _KEYBOARD_RUNS or (len(token) >= 5 and _ONE_ROW_NO_VOWEL_RE.fullmatch(token) is not None)


# The consonants of each keyboard row (its vowels and y left out).
_ONE_ROW_NO_VOWEL_RE = re.compile(r"[qwrtp]+|[sdfghjkl]+|[zxcvbnm]+")
# Round 8: communities named and vilified (profanity). The group, "log"/"people"/"are"
# (or "aur <another group>" first), then a vilifying word within eight words, not after
# "no"/"not" ("Bihari family, no gandagi": no "log"; "chor bazaar" is a market).
_GROUP_NOUNS = frozenset(
    "bihari biharis madrasi madrasis bengali bengalis marathi marathis punjabi punjabis guju gujus gujarati gujaratis "
    "muslim muslims mula mule hindu hindus christian christians nepali nepalis kashmiri kashmiris sikh sikhs tamilian "
    "tamilians malayali malayalis malu malus bhaiya bhaiyas dalit dalits gay gays northeastern chinese".split()
)
_VILIFIED_GROUP_RE = re.compile(
    rf" (?:{'|'.join(sorted(_GROUP_NOUNS))})(?: (?:aur|and|or|&) [a-z]+)? (?:log|people|wale|walon|are|hote|ko|sab|couple)"
    r" (?:[^ .!?|]+ ){0,8}(?<! no )(?<! not )(?<! na )(?<! nahi )"
    r"(?:gande|ganda|gandi|gandagi|kachra|chor(?! bazar)|dirty|filthy|thieves|criminals|cheats|jahil|janwar|animals"
    r"|bhagao|bhaga do|nikalo|nikal do|nikal denge|should die|pests|vermin|parasites|terrorists|atankwadi)"
    r" (?!nahi |nahin |nai |na |nhi )"  # "chor nahi": not thieves
)


# Not a hashtag ("#flat_for_rent"): a tag, not a contact.
_UNDERSCORE_TOKEN_RE = re.compile(r"(?<![\w.#])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w])")


def _is_underscore_handle(token):
    """'kolkata_mess_daily', 'roomie_delhi22', 'hydhomes_99': words joined by "_" (five
    letters or more), or a name and two digits or more; not a place ("sector_5") nor a
    numbered file ("photo_1")."""
    parts = token.split("_")
    if sum(map(str.isalpha, token)) < 5 or parts[0] in _NOT_HANDLE_NAMES or len(parts[0]) < 2:
        return False
    return sum(any(map(str.isalpha, part)) for part in parts) >= 2 or (parts[-1].isdigit() and len(parts[-1]) >= 2)


_LABEL_BEFORE_NUMBER_RE = re.compile(r"([a-z]+) \d+\b")
_CAPITALISED_WORD_RE = re.compile(r"[A-Z][a-z]+")
_INITIAL_RE = re.compile(r"[A-Z]\.")


def _is_proper_name(text, match):
    """Whether the Capitalised word at ``match`` has a Capitalised neighbour in its sentence."""
    before = text[: match.start()].rstrip(" ")
    after = text[match.end() :].lstrip(" ")
    before_word = before.rsplit(None, 1)[-1] if before else ""
    if _INITIAL_RE.fullmatch(before_word):  # "Philip K. Dick"
        return True
    if not before_word[-1:].isalpha():
        before_word = ""
    if after[:1] == ",":  # round 8: a town and its district ("Lanja, Ratnagiri")
        after = after[1:].lstrip(" ")
    after_word = after.split(None, 1)[0].rstrip(",;:)?!.") if after[:1].isalpha() else ""  # round 7: "Lund Road?"
    return any(_CAPITALISED_WORD_RE.fullmatch(word) for word in (before_word, after_word))


# Round 7: an abbreviation in capitals right before its expansion in brackets, which
# starts with the same letter ("WTF (Whitefield ...)", "BC (Bhandup Colony)"): a place.
_GLOSSED_ABBREVIATION_RE = re.compile(r"(?<![\w])([A-Z]{2,5})(?=\s*\(\s*([A-Z][a-z]+))")


def _word_candidates(text):
    """Every spelling of a word the text could hide abuse in.

    Whole words with separators taken out ("f.u.c.k" -> "fuck"), their parts
    ("bc,mc" -> "bc", "mc") and runs of spaced-out single characters ("f u c k").
    """
    if "+" in text:  # round 5: "+" looks like t ("chu+iya")
        yield from (chunk.replace("+", "t") for chunk in text.split() if _PLUS_FOR_T_RE.search(chunk))
    if "!" in text:  # round 6: "!" for i at the end of a word in leetspeak ("r@nd!")
        for chunk in text.split():
            word = chunk.strip(_EDGE_PUNCTUATION.replace("!", ""))
            if word.endswith("!") and _LEET_INSIDE_RE.search(word.rstrip("!")):
                yield word.rstrip("!") + "i"
    if "  " in text and _SPACED_LETTERS_RE.search(text):
        # Round 5: "F U C K   T H I S": a wider gap ends a spaced-out word.
        for part in _WIDE_GAP_RE.split(text):
            letters = part.split()
            if len(letters) > 1 and all(len(letter) == 1 for letter in letters):
                yield "".join(letters)
    spaced = []
    for chunk in text.split():
        word = chunk.strip(_EDGE_PUNCTUATION_BUT_STARS)
        if not word.strip("*"):
            continue
        if len(word) == 1:
            spaced.append(word)
            continue
        if not word:
            continue
        if len(spaced) > 1:
            yield "".join(spaced)
        spaced = []
        if word.isalnum():
            yield word
            continue
        yield _IN_WORD_SEPARATORS_RE.sub("", word)
        parts = _IN_WORD_SEPARATORS_RE.split(word)
        if len(parts) > 1:
            yield from filter(None, parts)
    if len(spaced) > 1:
        yield "".join(spaced)


class _Post:
    """One post in the forms the rules read, each worked out once."""

    def __init__(self, text, content_filter):
        self.text = normalise(text)
        self.lower = self.text.lower()
        self._filter = content_filter

    @cached_property
    def canonical(self):
        """Lower case, with misspelt app names read as the app ('teligram' -> 'telegram')."""
        return self._filter._canonical_platforms(self.lower)

    @cached_property
    def allowed(self):
        """The text with allowlisted phrases ('bc road', 'MHADA lottery') blanked out."""
        return self._filter._allowlist_re.sub(" ", self.text)

    @cached_property
    def phrases(self):
        # Round 7: with nothing allowlisted (most posts) the canonical text is the one the
        # link rule has already worked out, not worked out a second time.
        allowed = self.allowed
        canonical = self.canonical if allowed == self.text else self._filter._canonical_platforms(allowed.lower())
        return _phrase_form(canonical)

    @cached_property
    def words(self):
        return set(self.phrases.split())

    @cached_property
    def warned(self):
        """Round 8: whether the phrase form has a [warning] phrase of scam_phrases.txt."""
        return self._filter._scam_warnings.found_in(self.phrases, self.words)

    @cached_property
    def stated(self):
        """Round 8: the phrase form without what a warning quotes or reports (the phrase
        form itself, the same object, when there is nothing of the kind)."""
        return self._filter._stated_phrases(self)


class ContentFilter:
    """Checks the text of a post against the rules in order; the first one that matches wins.

    Build one per process and reuse it: the word lists are read and compiled once.
    """

    def __init__(self, config: FilterConfig, data_dir: Path | None = None):
        self.config = config
        data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
        self._psl = _public_suffixes()

        # links
        hosts = _read_list(data_dir / "link_shorteners.txt")
        self._host_re = re.compile(rf"(?<![\w-])(?:{'|'.join(map(_host_pattern, hosts))})(?![\w-])")
        # Round 4: a shortener with a space for its dot, then a path ("tinyurl com / kolkataPG").
        spaced_hosts = "|".join(re.escape(host).replace(r"\.", r"\s+") for host in hosts)
        self._spaced_host_re = re.compile(rf"(?<![\w-])(?:{spaced_hosts})\s*(?:/|\bslash\b)\s*[a-z0-9]")
        self._strong_suffixes = set(_read_list(data_dir / "link_tlds.txt"))
        self._name_words = _read_list(data_dir / "link_name_words.txt")
        self._plain_words = set(_read_list(data_dir / "link_plain_words.txt"))
        self._abbreviations = set(_read_list(data_dir / "abbreviations.txt"))
        brands = data_dir / "brand_domains.txt"  # round 7: companies named by their domain
        self._brand_names = set(_read_list(brands)) if brands.is_file() else set()

        # contact handles
        platforms = _read_list(data_dir / "contact_platforms.txt")
        self._platform_names = set(platforms)
        self._platform_typos = {}
        for name in platforms:
            if len(name) >= 8:  # "signals" is not a typo of "signal"; "telegrm" is one of "telegram"
                for spelling in _deletions(name):
                    self._platform_typos.setdefault(spelling, name)
        self._platform_initials = {name[0] for name in self._platform_typos.values()}
        platform = f"(?:{'|'.join(map(re.escape, sorted(platforms, key=len, reverse=True)))})"
        handle = r"@[a-z0-9_][a-z0-9_.]{2,}"  # not "@ 15k", not "@9k"
        self._handle_re = re.compile(
            rf"\b{platform}\b[^@\n]{{0,25}}(?P<after>{handle})"  # "telegram pe msg karo @rooms_blr"
            rf"|(?P<before>{handle})(?P<between>[^@\n]{{0,25}}?)\b{platform}\b"  # "@rooms_blr on telegram"
        )
        # "insta id", "telegram username", "snapchat, id is ...". The word boundary
        # before is checked in code: a leading \b makes this search several times slower.
        self._profile_id_re = re.compile(
            # not "ID proof"; round 6: not "LinkedIn profile on request"
            rf"{platform}[\s,:-]{{0,3}}(?:id|user\s*name|handle|profile)\b"
            r"(?!\s*(?:proof|card|on\s+request|available|is\s+private))"
        )
        self._platform_any_re = re.compile(platform)
        # Round 8: a name after the app with words for putting it together ("My gmail is
        # sonu kumar 1989 all joined", "insta id: pune flats daily, no spaces").
        self._joined_name_re = re.compile(
            rf"(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,12}}?(?:\bis\b|\bid\b|\bhai\b|:|=|-)\s*"
            r"(?:[a-z0-9_.]+\s+){1,4}[a-z0-9_.]+\s*[,(\-–]?\s*"
            r"(?:all\s+joined|joined(?:\s+together|\s+up)?|no\s+spaces?|without\s+(?:the\s+)?spaces?"
            r"|(?:in|as)\s+one\s+word|sab\s+(?:milake|mila\s+ke|jod\s*ke)|jod\s*ke|milake)\b"
        )
        # Round 8: one id for several apps, given after a few words and a colon ("Add me on
        # Signal or Telegram, same id everywhere: chennaistayz").
        self._id_after_words_re = re.compile(
            rf"(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,30}}?\b(?:id|user\s*name|handle)\b(?:\s+[a-z]+){{1,3}}"
            r"\s*[:=\-–]\s*@?(?P<token>[a-z_][a-z0-9_.]{3,}[a-z0-9_])"
        )
        # Round 6: app names written in an Indic script, by their consonants.
        self._app_skeletons = {}
        for line in _read_list(data_dir / "platform_scripts.txt"):
            name, spelling = line.split(maxsplit=1)
            skeleton = _consonant_skeleton(spelling)
            if len(skeleton) >= _APP_SKELETON_MIN:
                self._app_skeletons[skeleton] = name
        self._platform_token_re = re.compile(rf"(?<![a-z0-9]){platform}(?![a-z0-9]){_HANDLE_AFTER_PLATFORM}")
        # "search roomsdelhi on telegram"
        # Round 3. "TG ~ @ bhopal rooms hub", "Insta: @ l u c k n o w": an @ right after
        # an app name, with the handle spaced out after it.
        self._platform_far_spaced_at_re = re.compile(
            rf"(?<![a-z0-9]){platform}(?![a-z0-9])[^@\n]{{0,40}}@\s*(?:[a-z0-9._]\s+){{4,}}[a-z0-9._]"
        )
        self._platform_spaced_at_re = re.compile(rf"(?<![a-z0-9]){platform}(?![a-z0-9])[^a-z0-9@\n]{{0,4}}@\s+[a-z0-9]")
        # A name to search for on an app, in quotes: 'Search "Lucknow Flat Owners" on
        # telegram', "Truecaller pe search karo 'Ramesh Broker'", or after a colon:
        # "Telegram pe search karo: punekamre".
        quoted = r"[\"'“‘][^\"'“”‘’\n]{3,40}[\"'”’]"
        search = r"(?:search(?:ing)?|find|look\s?up|type|dhundo|dhoondo|dhundho|khojo|shodha)"
        self._searched_name_re = re.compile(
            rf"\b{search}\b[^\"'“‘\n]{{0,15}}{quoted}[^.\n]{{0,20}}?\b(?:on|in|at|pe|par|me|mein|var)\s+{platform}(?![a-z0-9])"
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,20}}?\b{search}(?:\s+kar[oe]?)?[\s:,-]*{quoted}"
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,20}}?\b{search}(?:\s+kar[oe]?)?\s*[:=\-–→➡]\s*[a-z0-9_.]{{4,}}"
            # "on insta, id is roomwala", "telegram, username: flatspune"
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,15}}?\b(?:id|user\s*name|handle)\s*(?:is|:|-|=)\s*@?[a-z_][a-z0-9_.]{{3,}}"
            # 'YouTube channel "Pune Flats Vlog"', "insta page 'flats in indore'"
            # round 6: a few words may come between ('YouTube pe, channel "Pune Room Tour"')
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n\"'“‘]{{0,12}}?\b(?:channel|page|group|account|profile|id|handle|name)"
            rf"[^.\n\"'“‘]{{0,12}}?{quoted}"
            # round 7: the name in quotes first, the verb after ('Facebook pe "Rohit Rentals Pune" search karo')
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n\"'“‘]{{0,15}}?{quoted}[^.\n]{{0,12}}?\b{search}"
        )
        # "faceb00k msg Priya Nair Kochi": an app, a verb to reach someone, then a name
        # in capitals (checked on the text as typed). Not WhatsApp or mail: those need a
        # number or an address, which other rules look for.
        named = "|".join(
            map(re.escape, sorted(set(platforms) - _NUMBER_OR_ADDRESS_APPS, key=len, reverse=True))
        )
        self._platform_name_re = re.compile(
            rf"(?<![a-z0-9])(?:{named})(?![a-z0-9])\s*(?:pe\s+|par\s+|on\s+)?"
            r"(?:msg|message|dm|ping|search|add|follow|find)(?![a-z0-9])"
        )
        # Round 6: a page, channel or group named in capitals after the app ("Find me on
        # FB, page name Sandeep Noida Rentals"), checked on the text as typed like the next one.
        self._platform_page_re = re.compile(
            rf"(?<![a-z0-9])(?:{named})(?![a-z0-9])(?:[^.\n]{{0,12}}?\b(?:page|channel|group|account|profile)"
            r"(?:\s+(?:name|naam|called|named|is)|\s*[:=\-–]))"
        )
        # "Add me on LinkedIn: Rahul Verma Properties Pune": a colon and a longer name.
        self._platform_colon_re = re.compile(rf"(?<![a-z0-9])(?:{named})(?![a-z0-9])\s*[:=\-–→➡]")
        # Round 5: a handle a few words after the app, with other words between
        # ("snapchat pe add karo meghaa.rentals", "telegrm pe aao bhai, id puneflats2024").
        # Round 7: the window is a lookahead, so an app named inside another app's window
        # ("WA pe baat karenge, ... insta bio me hai: kolkata.rentals.official") has its own.
        self._platform_window_re = re.compile(rf"(?<![a-z0-9]){platform}(?![a-z0-9])(?=(?P<window>[^!?\n|]{{1,60}}))")
        self._handle_platform_re = re.compile(
            rf"(?<![\w@.])(?P<token>[a-z0-9][a-z0-9_.]*[a-z0-9_])\s*[-:(]?\s*{platform}(?![a-z0-9])"
        )
        # Round 7: the name may be in quotes ('drop your details to "punerooms" on gmail').
        self._token_platform_re = re.compile(
            rf"(?<![\w@.])(?P<token>[a-z0-9][a-z0-9_.]*[a-z0-9_])[\"'”’]?\s+(?:on|at|pe|par|in)\s+{platform}(?![a-z0-9])"
        )

        # phone numbers
        self._number_words = dict(line.rsplit(maxsplit=1) for line in _read_list(data_dir / "number_words.txt"))
        self._number_word_shapes = {_squeeze(word) for word in self._number_words}  # as in phrase forms
        # Round 3: sound-alikes and words that are also ordinary words ("ate", "for",
        # "edu"), read as digits only right after a spelled digit.
        self._weak_number_words = dict(
            line.rsplit(maxsplit=1) for line in _read_list(data_dir / "number_words_weak.txt")
        )
        # Round 3: stretched spellings ("ninee", "zeroo", "twoo") are the word.
        self._squeezed_number_words = {}
        for word, value in self._number_words.items():
            if word.isascii():
                self._squeezed_number_words.setdefault(_squeeze(word), value)
        # Round 3: Indian-language number words misspelt by one letter ("onbadhu" for
        # ombadhu, "poojiyam" for poojyam). English ones are left out ("there" is one
        # letter from "three"); so are words shorter than six letters.
        self._spelled_vocabulary = {
            *self._number_words, *self._number_word_shapes, *self._weak_number_words,
            *map(_squeeze, self._weak_number_words),
        }
        self._fuzzy_number_words = {}
        self._fuzzy_number_prefixes = set()
        for word, value in self._number_words.items():
            if len(word) >= 6 and word.isascii() and word not in _ENGLISH_NUMBER_WORDS:
                self._fuzzy_number_prefixes.add(word[:2])
                for spelling in _deletions(word):
                    if self._fuzzy_number_words.setdefault(spelling, value) != value:
                        self._fuzzy_number_words[spelling] = None  # ambiguous
        self._tens = {word for word, value in self._number_words.items() if len(value) == 2 and value.endswith("0")}
        self._joiners = set(_read_list(data_dir / "phone_joiners.txt"))
        spelled = "|".join(map(re.escape, sorted(self._number_words, key=len, reverse=True)))
        # Indic vowel signs are not \w, so the Indic blocks (Devanagari to Malayalam) count
        # as word characters.
        word = r"[a-z\u0900-\u0dff]+"
        self._phone_token_re = re.compile(rf"(?P<num>(?<![a-z0-9]){_NUMBER}(?![a-z0-9]))|(?P<word>{word})")
        # "nineeighttwo", "98two2": spelled digits glued to each other or to digits.
        glued = sorted((word for word in self._number_words if word.isascii() and len(word) >= 3), key=len)[::-1]
        self._glued_spelling_re = re.compile(f"(?:{'|'.join(map(re.escape, glued))})+")
        self._spelled_word_re = re.compile("|".join(map(re.escape, glued)))
        self._spelled_prefixes = {word[:3] for word in glued}
        # "double nine" is 99; "double 6,999" is a room for two at 6,999.
        repeaters = "|".join(_REPEATERS)
        self._repeater_re = re.compile(rf"\b({repeaters})[\s-]+({spelled}|[0-9])(?![\w]|[,.][0-9])")
        units = "|".join(map(re.escape, _read_list(data_dir / "number_units.txt")))
        # Small numbers only: "98456 78901 room" still ends in part of a phone number.
        # Round 7: not the last part of digits joined by stars or the like ("7*3*...*2*6 room").
        # Round 10: nor the last of digits in pairs or ones, split by spaces or any symbol,
        # an emoji included ("98⭐20⭐11⭐45⭐67 room for rent", "98 20 11 45 67 room", dev16);
        # "9000 18000 2 months" is still a rent, a deposit and a count.
        self._quantity_re = re.compile(
            rf"(?<![\w.,])(?<![0-9][*_~#|+])(?<!\D\d\d[^\w.,])(?<!\D\d[^\w.,])"
            rf"(?:\d{{1,3}}(?:\.\d+)?|{spelled})\s?(?:{units})(?![a-z])"
        )
        context = _read_sections(data_dir / "number_context.txt")
        self._contact_words = set(context["contact"])
        calls = "|".join(map(re.escape, sorted(context["call"], key=len, reverse=True)))
        # "landline 0251-2435 6789", "call me on 98220 1234": searched in the 30
        # characters before a run of digits (the end of the window is the run's start).
        self._call_before_re = re.compile(rf"(?<![a-z])(?:{calls})(?![a-z])[^0-9\n]{{0,15}}$")
        # "call 98220, 12345": a comma ends a number elsewhere (a list of rents), but
        # right after "call" two halves that make exactly one mobile number are one.
        self._call_halves_re = re.compile(
            rf"(?<![a-z])(?:{calls})(?![a-z])[^0-9\n]{{0,15}}?(\d{{4,6}}), ?(\d{{4,6}})(?![0-9])"
        )
        self._repeater_word_re = re.compile(rf"\b(?:{'|'.join(_REPEATERS)})\b")
        ids = "|".join(map(re.escape, sorted(context["id"], key=len, reverse=True)))
        # "RERA P52100047896", "MahaRERA No. P521...", "GSTIN: 27AAPFU0939F1ZV"
        self._id_re = re.compile(
            rf"\b(?:{ids})\b(?:\s*(?:no|number|num|id|reg|regn|registration)\b)?[\s.:#-]*[a-z0-9/-]*\d[a-z0-9/-]*"
        )
        # Letters glued to a long number: "P52100047896" is an identifier,
        # "call9845678901" a phone number.
        # Round 7: the digits may go on in groups ("P-98265-43107"), read whole.
        self._glued_re = re.compile(r"(?<![a-z0-9])([a-z]+)[-/]?(\d{5,}(?:[-/]\d+)*)")
        self._long_number_re = re.compile(rf"\d{{{config.min_phone_digits},}}")
        # Round 8: "Call 9820." and nothing more of a number there: the start of a mobile.
        self._call_words = {_phrase_form(word).strip() for word in context["call"]}
        self._call_fragment_re = re.compile(
            rf"(?<![a-z])(?:{calls})(?![a-z])[^0-9\n]{{0,15}}?(?<![0-9])([6-9][0-9]{{2,5}})(?![0-9]|[ -]?[0-9])"
        )

        # scams, spam, abuse
        scam = _read_sections(data_dir / "scam_phrases.txt")
        sections = ("scam", "remote", "away", "money", "app", "warning")
        self._scam_phrases, self._scam_remote, self._scam_away, self._scam_money, self._scam_apps, self._scam_warnings = (
            _PhraseSet(map(_phrase_form, scam[section])) for section in sections
        )
        pay = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["pay"])
        self._pay_words = {_phrase_form(entry).strip() for entry in scam["pay"] if " " not in entry.strip()}
        self._pay_amount_re = re.compile(rf" (?:{pay}) (?:[a-z]+ ){{0,2}}0 ")  # "send 5000", "pay rs 2000"
        # Round 3: the scam score (see _scam_score).
        self._scam_demands = _PhraseSet(map(_phrase_form, scam.get("demand", ())))
        self._scam_identity, self._scam_channel, self._scam_no_meet, self._scam_prepay, self._scam_collect, self._scam_hook = (
            _PhraseSet(map(_phrase_form, scam[section]))
            for section in ("identity", "channel", "no_meet", "prepay", "collect", "hook")
        )
        # Round 5: pressure to pay at once, a visit offered, identity papers asked for.
        self._scam_rush, self._scam_shown, self._scam_documents = (
            _PhraseSet(map(_phrase_form, scam.get(section, ()))) for section in ("rush", "shown", "documents")
        )
        # Round 7: the board impersonated or its features sold.
        self._scam_impersonation = _PhraseSet(map(_phrase_form, scam.get("impersonation", ())))
        # Round 8: the poster told not to visit (a further kind of evidence with money asked).
        self._scam_no_visit = _PhraseSet(map(_phrase_form, scam.get("no_visit", ())))
        apps = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["app"])
        self._amount_app_re = re.compile(rf" 0 (?:(?:on|via|by|through|in|to|pe|par|se) )?(?:{apps}) ")
        keys = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["key"])
        send = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["send"])
        # "keys sent by courier", "saavi anupuvom", "courier you the keys": a key word and
        # a sending word with at most three words (no comma or full stop) between.
        # Round 6: words of any script between them and after the sending word ("चावी
        # कुरिअरने पाठवतो", "சாவி கூரியர்ல அனுப்புறேன்"): Indic words take endings.
        word = r"[a-z\u0900-\u0dff]"
        self._keys_sent_re = re.compile(
            rf" (?:{keys}) (?:{word}+ ){{0,3}}(?:{send}){word}* | (?:{send}){word}* (?:{word}+ ){{0,3}}(?:{keys}) "
        )
        # Round 8: the words of a scam, for reading leetspeak ("t0ken", "c0urier", "G-P-a-y").
        self._scam_vocabulary = {
            word
            for section in ("money", "app", "key", "send", "pay", "remote", "prepay", "away")
            for entry in scam[section]
            for word in _phrase_form(entry).split()
            if len(word) >= 3 and word.isalpha() and word not in {"the", "and", "for", "you", "your", "with", "our"}
        }
        upi = "|".join(map(re.escape, scam["upi"]))
        self._upi_id_re = re.compile(rf"[a-z0-9._-]+@(?:{upi})(?![a-z0-9])")  # "rooms@ybl"

        self._spam_phrases = _PhraseSet(map(_phrase_form, _read_list(data_dir / "spam_phrases.txt")))
        combinations = _read_sections(data_dir / "spam_combinations.txt")
        self._spam_jobs, self._spam_fees = (_PhraseSet(map(_phrase_form, combinations[name])) for name in ("job", "fee"))
        # Round 5: an offer that is adult only in a massage or with women on offer.
        self._adult_context, self._adult_offers = (
            _PhraseSet(map(_phrase_form, combinations[name])) for name in ("adult_context", "adult_offer")
        )
        self._services, self._sales = (
            _PhraseSet(map(_phrase_form, combinations.get(name, ()))) for name in ("service", "sales")
        )
        self._allowlist_re = _whole_words(_read_list(data_dir / "allowlist.txt"), re.IGNORECASE)
        # Round 7: spam words that name a place or a company ("Escorts Mujesar metro").
        landmarks = _read_sections(data_dir / "landmark_words.txt")
        self._landmark_names = set(landmarks.get("names", ()))
        landmark_names = "|".join(re.escape(entry.capitalize()) for entry in sorted(self._landmark_names))
        places = "|".join(re.escape(entry).replace(r"\ ", r"\s+") for entry in landmarks.get("places", ()))
        self._place_noun_re = re.compile(
            rf"(?<![\w.@*#$])[A-Z][a-z]{{3,}}(?=\s+(?i:{places}|ghat|ghats|peth|wadi|taluka|tehsil|village|gaon|bazar|bazaar)\b)"
            if places
            else r"(?!x)x"
        )
        self._landmark_re = re.compile(
            rf"(?<![\w.@*#$])(?:{landmark_names})(?=(?:\s+[A-Z][a-z]+){{0,2}}\s+(?i:{places})\b)"
            # "works at Escorts", "near Fortis Escorts, Okhla": after a word for where and
            # at most two Capitalised words (only the name itself is taken out: see _without_landmarks)
            rf"|(?P<keep>\b(?:at|with|near|opp\.?|opposite|behind|from|joined)\s+(?:[A-Z][a-z]+\s+){{0,2}})"
            rf"(?:{landmark_names})(?![\w*#@$])"
            if landmark_names and places
            else r"(?!x)x"
        )
        # Round 6: an offer with nothing about housing in it (topic_words.txt).
        topics = _read_sections(data_dir / "topic_words.txt")
        self._housing_words = _PhraseSet(_phrase_form(entry) for entry in topics["housing"] if entry.isascii())
        self._offer_words, self._promotion_words = (
            [_phrase_form(entry) for entry in topics[name] if entry.isascii()] for name in ("offer", "promotion")
        )
        self._housing_stems, self._offer_stems, self._promotion_stems = (
            tuple(entry for entry in topics[name] if not entry.isascii()) for name in ("housing", "offer", "promotion")
        )
        # "from home" is not a home: "घर बैठे कमाएँ" (earn sitting at home), "ghari basun".
        self._not_housing_re = _whole_words(topics["not_housing"], re.IGNORECASE) if topics.get("not_housing") else None
        self._not_housing_triggers = {
            _phrase_form(entry).split()[0] for entry in topics.get("not_housing", ()) if entry.isascii()
        }

        # profanity_en, _hi, _mr and (round 3) _south: every profanity_*.txt of the data dir.
        profanity = [entry for path in sorted(data_dir.glob("profanity_*.txt")) for entry in _read_list(path)]
        # Round 7: words that are ordinary in another language of the board (homonyms.txt).
        self._homonyms = {}
        for line in _read_list(data_dir / "homonyms.txt") if (data_dir / "homonyms.txt").is_file() else ():
            word, markers = line.split(":", 1)
            self._homonyms[word.strip()] = frozenset(markers.split())
        names = "|".join(re.escape(entry.capitalize()) for entry in _read_list(data_dir / "name_words.txt"))
        self._name_word_re = re.compile(rf"(?<![\w.@*#$]){names}(?![\w*#@$])" if names else r"(?!x)x")
        self._abusive_phrases = _PhraseSet(_phrase_form(entry) for entry in profanity if " " in entry)
        self._abusive_words = [entry for entry in profanity if " " not in entry]
        self._abusive_by_shape = {}
        for entry in self._abusive_words:
            self._abusive_by_shape.setdefault(_squeeze(entry), []).append((entry, _stretchable(entry)))
        # Sound-alike spellings, for those long enough not to collide with ordinary words
        # ("jhaat" would make "Jat", a community, abusive; "gaand" the Dutch "Gand").
        self._abusive_skeletons = {skeleton for entry in self._abusive_words if len(skeleton := _skeleton(entry)) >= 5}
        # Stretched letters keep the first and the last, so most words are ruled out
        # by those two alone.
        self._abusive_ends = {_ends(entry) for entry in [*self._abusive_words, *self._abusive_skeletons]}
        self._abusive_typos = {}
        for skeleton in {_skeleton(entry) for entry in self._abusive_words if entry.isascii()}:
            if len(skeleton) >= _ABUSE_TYPO_MIN_LETTERS:
                for spelling in _deletions(skeleton):
                    self._abusive_typos.setdefault(spelling, set()).add(skeleton)
        # Round 3: Devanagari abuse in any inflection ("लौडा" listed, "लौडे" typed).
        self._devanagari_stems = {
            stem for entry in self._abusive_words if not entry.isascii() and len(stem := entry.rstrip(_MATRAS)) >= 3
        }

        self._folded_stems = tuple(
            entry for entry in self._abusive_words if "\u0900" <= entry[0] <= "\u097f" and len(entry) >= _FOLDED_STEM_MIN
        )
        # Round 6: entries in the other scripts are read in Devanagari too, so each
        # matches every script, inflected ("ಸೂಳೆಮಗನೆ" starts with "ಸೂಳೆಮಗ"); a phrase's last
        # word may carry an ending ("ಸೂಳೆ ಮಗನೆ" is "ಸೂಳೆ ಮಗ" + "-ನೆ").
        self._folded_stems += tuple(
            entry.translate(_TO_DEVANAGARI)
            for entry in self._abusive_words
            if _OTHER_INDIC_RE.match(entry) and len(entry) >= _OTHER_SCRIPT_STEM_MIN
        )
        self._folded_phrase_starts = tuple(
            _phrase_form(entry.translate(_TO_DEVANAGARI)).rstrip()
            for entry in profanity
            if " " in entry and not entry.isascii() and not entry.endswith(".")
        )

        self._shouting_words = _PhraseSet(map(_phrase_form, _read_list(data_dir / "shouting_words.txt")))
        request = _read_sections(data_dir / "request_words.txt")
        self._request_words = _PhraseSet(map(_phrase_form, request["request"]))
        urgency = "|".join(re.escape(_phrase_form(entry).strip()) for entry in request["urgency"])
        self._urgency_re = re.compile(rf"(?<= )(?:{urgency})(?= )")
        self._char_run_re = re.compile(rf"(\S)\1{{{config.max_repeated_char_run},}}")
        self._rules = (
            ("link", self._has_link),
            ("phone_in_text", self._has_phone),
            ("scam", self._is_scam),
            ("spam_phrase", self._has_spam_phrase),
            ("profanity", self._has_profanity),
            ("caps", self._is_shouting),
            ("repetition", self._is_repetitive),
        )
        # Round 9: the review tier (``review``), read once.
        self._review_profanity = {
            entry for entry in self._abusive_words if entry.isascii() and entry.isalpha() and len(entry) >= 4
        }
        self._review_profanity_typos = {}
        for entry in self._review_profanity:
            if len(entry) >= _REVIEW_TYPO_MIN_LETTERS:
                for spelling in _substitutions(entry):
                    self._review_profanity_typos.setdefault(spelling, entry)
        self._spam_model = spam_model.load(data_dir / spam_model.MODEL_PATH.name)
        if self._spam_model is None:
            logger.warning("Content filter: no %s in %s, review() runs without its model", spam_model.MODEL_PATH.name, data_dir)
        logger.debug(
            "Content filter loaded from %s: %d hosts, %d spam phrases, %d abusive words and phrases",
            data_dir,
            len(hosts),
            len(self._spam_phrases),
            len(profanity),
        )

    def check(self, text: str) -> Verdict | None:
        """The first rule ``text`` breaks, or None when the post is clean."""
        post = _Post(text, self)
        for rule, breaks in self._rules:
            if breaks(post):
                # The rule only, never the text: it may hold a phone number.
                logger.debug("Content filter: post rejected by rule %r", rule)
                return Verdict(rule, MESSAGES[rule])
        return None

    # --- round 9: the review tier ---

    def review(self, text: str) -> str | None:
        """Why a post that ``check`` passed should wait for a moderator, or None to publish it.

        The reason is one of ``REVIEW_REASONS`` (for the metrics and the moderator); like a
        verdict it never quotes the post. Called only for posts ``check`` passed: it does
        not repeat the rules, and its signals are evidence a rule would not refuse on
        (a held clean post is delayed, not refused). docs/CONTENT_FILTER.md, "Round 9".
        """
        post = normalise(text)
        lower = post.lower()
        if _has_split_number(lower):
            return "split_number"
        if self._asks_for_code(text, lower):
            return "code_request"
        if not post.isascii() and _has_unusual_script(post):
            return "script_mix"
        if self._has_disguised_profanity(lower):
            return "profanity_disguised"
        words = _REVIEW_PLAIN_WORD_RE.findall(lower)
        if self._repeats_a_word(words):
            return "repetition_near"
        if self._spam_model is None or len(words) < self.config.review_model_min_words:
            return None
        threshold = (
            self.config.review_model_threshold
            if spam_model.latin_share(post) >= _LATIN_POST_SHARE
            else self.config.review_model_threshold_non_latin
        )
        if spam_model.score(self._spam_model, spam_model.features(post)) > threshold:
            return "spam_model"
        return None

    def _asks_for_code(self, text, lower):
        """An OTP, CVV, PIN, card number or "6 digit code" asked for (not in a warning)."""
        if not (_CODE_WORDS_RE.search(lower) and _SHARE_WORDS_RE.search(lower)):
            return False
        return not _Post(text, self).warned

    def _has_disguised_profanity(self, lower):
        """A word with digits, symbols or "v" for "u" that reads as a listed abusive word
        ("st00pid", "fvck"), or (five letters or more) one letter away from one."""
        for word in _REVIEW_WORD_RE.findall(lower):
            if len(word) < 4 or word.isalpha() and "v" not in word or word.isdigit():
                continue
            decoded = _STRETCHED_RE.sub(r"\1", word.translate(_REVIEW_LEET))
            if decoded == word:
                continue
            if decoded in self._review_profanity:
                return True
            if not word.isalpha() and any(spelling in self._review_profanity_typos for spelling in _substitutions(decoded)):
                return True
        return False

    def _repeats_a_word(self, words):
        """One word (four letters or more) said three times or more, making up
        FILTER_REVIEW_REPEATED_WORD_SHARE of the post's words: below what the repetition
        rule refuses ("test test test 123 hello hello is this working test")."""
        if len(words) < self.config.min_words_for_repetition:
            return False
        word, count = Counter(words).most_common(1)[0]
        return count >= 3 and len(word) >= 4 and count / len(words) >= self.config.review_repeated_word_share

    # --- links ---

    def _has_link(self, post):
        text = post.lower
        if ("/" in text and _SCHEME_RE.search(text)) or ("www" in text and _WWW_RE.search(text)):
            return True
        if self._host_re.search(text) or self._has_handle(post):
            return True
        if "." in text and any(self._is_domain(match, post.text) for match in _HOST_RE.finditer(post.text)):
            return True
        if "w" in text and _SPACED_WWW_RE.search(text):  # round 6: "w w w dot ..."
            return True
        typed = post.text
        if not typed.isascii():
            # Round 3: "punerooms डॉट कॉम"; round 6: the rest of an address in Devanagari
            # ("sachin.more ॲट जीमेल डॉट कॉम", "वेबसाइट गोवारेंटल्स डॉट कॉम").
            for word, latin in _DEVANAGARI_LINK_WORDS:
                if word in typed:
                    typed = typed.replace(word, latin)
            if " dot " in typed and _INDIC_NAME_DOT_RE.search(typed):
                return True
        if any(self._is_obfuscated_domain(match) for match in _overlapping(_OBFUSCATED_HOST_RE, typed)):
            return True
        # Round 6: an e-mail address with the "@" spelled out ("roomsnoida at the rate yahoo",
        # "r.e.n.t.a.l.s.k.o.l at outlook").
        if " at" in typed.lower() and any(provider in typed.lower() for provider in _MAIL_PROVIDERS):
            for match in _SPELLED_EMAIL_RE.finditer(typed.lower()):
                name = match["name"]
                if match["rate"] or any(char in name for char in "._-0123456789") or self._looks_made_up(name):
                    return True
        if "dot" in text and _GLUED_DOT_HOST_RE.search(text):
            return True
        for match in _QUOTED_HOST_RE.finditer(text) if ('"' in text or "'" in text or "“" in text) else ():
            name, suffix = match[1], match[2].replace(" ", ".")
            if self._psl.publicsuffix(suffix) == suffix and (
                suffix in _NEVER_WORD_SUFFIXES or suffix in self._strong_suffixes or self._looks_made_up(name)
            ):
                return True
        # Round 3: an obfuscated e-mail ("rahul.flats[at]gmail"), or a link in pieces with
        # the instructions to put it together ("punerooms com (add the dot)").
        if "at" in text and _BRACKETED_AT_RE.search(text):
            return True
        if _REASSEMBLE_LINK_RE.search(text) and ("@" in text or _BARE_SUFFIX_RE.search(text)):
            return True
        if " ." in text or ". " in text:
            for match in _SPACED_DOTS_LINK_RE.finditer(text):
                suffix = match[2].split("/")[0].replace(" ", "")
                if self._psl.publicsuffix(f"{match[1]}.{suffix}") == suffix:
                    return True
        if self._spaced_host_re.search(text):  # round 4: "tinyurl com / kolkataPG", "bit ly slash rooms"
            return True
        # "W W W . R O O M S . C O M": spaced-out letters, read joined up.
        if _SPACED_OUT_RE.search(post.text):
            joined = _SPACED_OUT_RE.sub(lambda match: match.group().replace(" ", ""), post.text)
            if "at" in joined.lower() and _BRACKETED_AT_RE.search(joined.lower()):
                return True  # round 7: "s e l v a m 7 7 [at] g m a i l"
            return _WWW_RE.search(joined.lower()) is not None or any(
                self._is_domain(match, joined) for match in _HOST_RE.finditer(joined)
            )
        return False

    def _is_domain(self, match, text):
        host = match.group()
        lower = host.lower()
        suffix = self._psl.publicsuffix(lower)
        if not suffix or suffix == lower:
            return False  # "sq.ft", "no.1", "Dr.Kulkarni": no such suffix
        labels = lower[: -len(suffix) - 1].split(".")
        name = labels[-1]
        if name.isdigit() or name in self._abbreviations or all(len(label) == 1 for label in labels):
            return False  # "2.5 lakh", "etc.in", "B.Com", "e.g.co"
        typed_suffix = host[-len(suffix) :]
        if typed_suffix[0].isupper() and typed_suffix[1:].islower() and suffix not in _NEVER_WORD_SUFFIXES:
            return False  # "Good locality.In case": two sentences missing a space
        intent = _LINK_INTENT_RE.search(text[max(0, match.start() - 40) : match.start()].lower()) is not None
        if suffix in _WORD_SUFFIXES and not intent and not self._looks_made_up(name):
            # "near the station.in front of Big Bazaar": a missing space before a word
            # that goes on the sentence; "olx.in." or "olx.in, ..." ends it, and so does
            # a Hindi postposition, which only follows a name ("olx.in par dekho").
            after = text[match.end() : match.end() + 8]
            if re.match(r" +[a-z]", after, re.IGNORECASE) and not _POSTPOSITION_RE.match(after):
                return False
        if not intent and text[match.end() : match.end() + 1] != "/" and (
            (
                name in self._brand_names
                and not _BRAND_PUSH_RE.search(text[max(0, match.start() - 30) : match.start()])
                and not _BRAND_PUSH_AFTER_RE.match(text, match.end())  # round 8: "olx.in par dekho"
            )
            or (
                _is_employer_domain(host, name, text, match)
                and (host[:1].isupper() or not self._looks_made_up(name))
            )
        ):
            return False  # round 7: "both work at Booking.com", "ordered from pepperfry.com"
        if "." in suffix or suffix in self._strong_suffixes:
            return True
        # A suffix that is also a word ("pool.club house", "floor.top floor"): the dot
        # alone is not enough.
        return (
            self._looks_made_up(name)
            or text[match.end() : match.end() + 2][:1] == "/"  # "rentnow.online/hyd"
            or intent
        )

    def _is_obfuscated_domain(self, match):
        name, suffix = match["name"].lower(), match["suffix"].lower()
        if match["bracket"]:
            suffix = suffix.replace("0", "o")  # round 3: "punerooms [dot] c0m"
        if name in self._abbreviations or name.isdigit() or self._psl.publicsuffix(suffix) != suffix:
            return False
        if match["bracket"]:  # "punerooms [d0t] com", "homesindia[.]xyz"
            return True
        if not match["suffix"].islower() and (match["spaced"] or match["symbol"] or match["comma"]):
            return False  # "at the office. Com..." would be a sentence
        # "flats4u dot com", "roomshub . net", "pgpune . online"; not "polka dot in the curtains"
        return suffix in _NEVER_WORD_SUFFIXES or self._looks_made_up(name)

    def _looks_made_up(self, name):
        """'flatsdekho', 'rooms4u', 'rent-easy', 'punerooms': not a word someone ends a sentence with."""
        if "-" in name or "_" in name:
            return True
        if name[0].isalpha() and any(map(str.isdigit, name)):
            return True
        if name in self._plain_words:
            return False
        # A word with more around it: "punerooms", "flatsdekho". Not a word with an
        # English ending: "rooms", "searching", "listed".
        return any(
            word in name and len(name) >= len(word) + 2 and name[len(word) :] not in _ENGLISH_ENDINGS
            for word in self._name_words
        )

    def _canonical_platforms(self, lower):
        """'teligram' -> 'telegram', 'insta gram' -> 'instagram': app names as their apps.
        Round 6: also written in an Indic script ('টেলিগ্রাম', 'व्हाट्सएप').
        Round 7: mail providers said aloud ('gee mail', 'hot mail'), and "underscore"
        spelled out inside a handle ('chennai underscore roommates')."""
        if " mail" in lower or "-mail" in lower or ".mail" in lower or " male" in lower:
            lower = _SPOKEN_MAIL_RE.sub(lambda match: _SPOKEN_MAIL[match[1][0]], lower)
        if "underscore" in lower or "under score" in lower or "under_score" in lower or "अंडरस्कोर" in lower:
            lower = _SPELLED_UNDERSCORE_RE.sub("_", lower)
        if self._app_skeletons and not lower.isascii() and _INDIC_WORD_RE.search(lower):
            lower = _INDIC_WORD_RE.sub(self._indic_platform, lower)
        if "plane" in lower and _DESCRIBED_APP_RE.search(lower):  # round 8: "the blue paper plane app"
            lower = _DESCRIBED_APP_RE.sub(" telegram ", lower)
        if "\U0001f47b" in lower:  # round 6: the ghost is Snapchat's logo ("sc - pg.wali.didi 👻")
            lower = lower.replace("\U0001f47b", " snapchat ")
        if " " in lower and _SPACED_APP_INITIALS_RE.search(lower):  # round 6: "i g: ...", "t g - ..."
            lower = _SPACED_APP_INITIALS_RE.sub(r"\1\2", lower)
        if any(prefix in lower for prefix in ("tele", "teli", "insta", "snap", "whats", "wats")):
            lower = _SPACED_PLATFORM_RE.sub(r"\1\2", lower)
        if "@" in lower or "$" in lower or any(map(str.isdigit, lower)):
            lower = _LEET_WORD_RE.sub(self._leet_platform, lower)
        lower = _LETTER_BY_LETTER_RE.sub(self._spelled_platform, lower)
        return _PLATFORM_CANDIDATE_RE.sub(self._platform_spelling, lower)

    def _indic_platform(self, match):
        name = self._app_skeletons.get(_consonant_skeleton(match.group()))
        return f" {name} " if name else match.group()

    def _platform_name(self, word):
        """The app ``word`` names, allowing one typo in long names, or None."""
        if word in self._platform_names:
            return word
        if word[:1] in self._platform_initials:
            for spelling in _deletions(word):
                name = self._platform_typos.get(spelling)
                if name is not None:
                    return name
        return None

    def _leet_platform(self, match):
        """'sn@pchat' -> 'snapchat'; any other word (an email address, a flat number) as it is."""
        token = match.group()
        return self._platform_name(token.translate(_LEET_LETTERS)) or token

    def _spelled_platform(self, match):
        """'t.e.l.e.g.r.a.m' -> 'telegram'; other letters in a row ("a b c d") as they are."""
        joined = "".join(char for char in match.group() if char.isalpha())
        name = self._platform_name(joined)
        return name if name is not None and len(name) >= 4 else match.group()

    def _platform_spelling(self, match):
        word = match.group()
        if word[0] not in self._platform_initials or word in self._platform_names:
            return word
        # Round 3: letters that look like another ("telegrarn" is telegram, "vv" a w).
        for candidate in dict.fromkeys((word, word.replace("rn", "m").replace("vv", "w"))):
            for spelling in _deletions(candidate):
                name = self._platform_typos.get(spelling)
                if name is not None:
                    return name
        return word

    def _has_handle(self, post):
        text = post.canonical
        if "@" in text:
            for match in self._handle_re.finditer(text):
                handle = match["after"] or match["before"]
                if self._is_place(post.text, handle):
                    continue
                # "@baner, insta pics on request" is a place; "@roomsdelhi on telegram" a handle.
                if match["after"] or _NAMES_PLATFORM_RE.fullmatch(match["between"]):
                    return True
                if self._is_handle(handle[1:], named=True):
                    return True
            # No app named, but a handle no place or price looks like: "DM @pune_rooms",
            # "follow @flats.daily". Not "PG @Baner", "@9k", "@Sector62", "@rs.9000".
            if _BARE_HANDLE_RE.search(text):
                return True
        # Round 6: a message to an @handle ("X pe DM karo @MumbaiPGwala"): nobody DMs a place.
        if "@" in text and _DM_HANDLE_RE.search(text):
            return True
        # Round 6: an @handle in camel case ("@MumbaiPGwala"), wherever it stands.
        if "@" in post.text and any(_is_camel_case(match[1]) for match in _AT_WORD_RE.finditer(post.text)):
            return True
        # Round 6: words joined by "_" are a handle wherever they stand ("find kolkata_mess_daily"):
        # nothing else in a post is written that way (not "@sector_5", a place).
        if "_" in text and any(_is_underscore_handle(match.group()) for match in _UNDERSCORE_TOKEN_RE.finditer(text)):
            return True
        # Round 6: an id with no app named, when it looks like nothing else ("ping me on the
        # blue app with the paper plane icon, id is hydhomes_99").
        for match in _HANDLE_LABEL_RE.finditer(text) if ("id" in text or "name" in text or "handle" in text) else ():
            token = match["token"]
            if _is_handle_shaped(token) or (len(token) >= 6 and token.isalpha() and self._looks_made_up(token)):
                return True
        # Round 7: WhatsApp's two letters and a colon before a handle ("wa: raj.pg.blr"); not
        # an app name of its own, because "wa" starts many words ("want", "Wakad").
        if "wa" in text and any(_is_handle_shaped(match[1]) for match in _WA_HANDLE_RE.finditer(text)):
            return True
        if not self._platform_any_re.search(text):
            return False  # every check below needs an app named; most posts name none
        if any(_starts_word(text, match.start()) for match in self._profile_id_re.finditer(text)):
            return True
        if "@" in text and (self._platform_spaced_at_re.search(text) or self._platform_far_spaced_at_re.search(text)):
            return True  # round 8: a few words may come between ("Insta pe dekho Patna rooms: @ _ p . a . t . n . a _ rooms")
        if self._searched_name_re.search(text) and not (
            # round 8: "don't fall for the Telegram groups selling "verified PG lists"" names no handle
            post.stated is not post.phrases
            and not self._searched_name_re.search(_REPORTED_SPAN_RE.sub(" . ", text))
        ):
            return True
        if self._joined_name_re.search(text):  # round 8: "my gmail is sonu kumar 1989 all joined"
            return True
        if any(self._is_handle(match["token"], named=True) for match in self._id_after_words_re.finditer(text)):
            return True  # round 8: "same id everywhere: chennaistayz"
        if len(text) == len(post.text):  # offsets in the canonical text are those of the text as typed
            for match in self._platform_name_re.finditer(text):
                if _TYPED_NAME_RE.match(post.text, match.end()):
                    return True
            for match in self._platform_page_re.finditer(text):
                if _PAGE_NAME_RE.match(post.text, match.end()):
                    return True
            for match in self._platform_colon_re.finditer(text):
                name = _PAGE_NAME_RE.match(post.text, match.end())
                if name and len(name.group().split()) >= 3:
                    return True
        if _SPACED_OUT_RE.search(text):  # round 6: "i g: m u m b a i . r e n t a l s"
            text = _SPACED_OUT_RE.sub(lambda match: match.group().replace(" ", ""), text)
        if " . " in text:  # round 4: "Snapchat: guwahati . rentals"
            text = _SPACED_DOT_RE.sub(".", text)
        if " dot " in text:  # round 6: "find me on insta as kolkata dot bari dot bhara"
            text = _SPELLED_DOT_RE.sub(".", text)
        for match in self._platform_token_re.finditer(text):
            if self._is_handle(match["token"], named=bool(match["colon"] or match["colon_id"])):
                return True
        if any(self._is_handle(match["token"], named=True) for match in self._token_platform_re.finditer(text)):
            return True
        # Round 6: a handle right before the app, with no "on" ("pg.wali.didi 👻", the ghost
        # being Snapchat's logo), when it looks like nothing else.
        if any(_is_handle_shaped(match["token"]) for match in self._handle_platform_re.finditer(text)):
            return True
        # Round 6: a name in camel case a few words after the app, as typed ("sharechat pe
        # search karo PatnaRoomWale").
        if any(
            _is_camel_case(token.strip(_EDGE_PUNCTUATION))
            for match in self._platform_window_re.finditer(post.lower)
            for token in _SENTENCE_BREAK_RE.split(post.text[match.start("window") : match.end("window")])[0].split()[
                :_HANDLE_WINDOW_WORDS
            ]
        ):
            return True
        return any(
            _is_handle_shaped(token)
            for match in self._platform_window_re.finditer(text)
            for token in _SENTENCE_BREAK_RE.split(match["window"])[0].split()[:_HANDLE_WINDOW_WORDS]
        )

    @staticmethod
    def _is_place(text, handle):
        """'@Baner', '@Koramangala': a capitalised place name after "at", not a handle."""
        found = re.search(re.escape(handle), text, re.IGNORECASE)
        typed = found.group()[1:] if found else ""
        return typed[:1].isupper() and typed[1:].islower() and typed.isalpha()

    def _is_handle(self, token, named):
        """'roomhunter_22', 'pune.rooms.daily', 'rooms4u'; where a name is expected ("insta:
        punerooms", "roomsdelhi on telegram") also a made-up word like 'punerooms'."""
        if not any(map(str.isalpha, token)):
            return False  # a number: the phone rule's business
        if "_" in token:
            return True
        if "." in token.strip("."):
            # Round 5: not a missing space after a short word ("whatsapp me.budget 20k").
            return token.split(".", 1)[0] not in _NOT_HANDLE_FIRST or named
        if token[0].isalpha() and any(map(str.isdigit, token)):
            return True
        return named and self._looks_made_up(token)

    # --- phone numbers ---

    def _has_phone(self, post):
        # Round 6: ten Roman numerals in a row ("IX VIII IV IX I II III IV V VI").
        if "I " in post.text and _ROMAN_RUN_RE.search(post.text):
            return True
        # Round 8: Roman numerals with other digits or words ("IX VIII VII ... I and then zero"),
        # read as digits.
        if post.text.count("I") + post.text.count("V") >= 3 and _ROMAN_SOME_RE.search(post.text):
            converted = _ROMAN_TOKEN_RE.sub(lambda match: _ROMAN_VALUES[match.group()], post.text).lower()
            if any(self._is_phone(run.parts, run.word_split) for run in self._runs(converted)):
                return True
        digit_count = sum(map(str.isdigit, post.lower))
        if (
            digit_count < 3
            and not (post.words & self._number_word_shapes)
            and not self._has_glued_spelling(post.lower)
        ):
            return False  # no digits to speak of and no spelled ones: most posts
        lower = post.lower
        # Round 6: a letter defined as a digit ("7 0 4 5 x x 1 2 3 9 (x = 6)").
        if "=" in lower or " is " in lower:
            for letter, digit in dict(_DIGIT_DEFINITION_RE.findall(lower)).items():
                lower = re.sub(rf"(?<![a-z]){re.escape(letter)}(?![a-z])", digit, lower)
        if self._has_counted_parts(lower):
            return True
        masked = self._mask_non_phones(lower)
        text = _LOOKALIKE_DIGIT_TOKEN_RE.sub(_decode_lookalikes, masked)
        disguised = text != masked  # letters typed for digits: "98Z4O5I7B6"
        if self._long_number_re.search(text):  # also inside words: "call9845678901"
            return True
        # Round 3: digits with letters between them, "9x8x4x5x0x1x2x3x4x5": one mobile number
        # when the letters are taken out, and no more letters than digits.
        for match in _INTERLEAVED_RE.finditer(text):
            token = match.group()
            digits = "".join(filter(str.isdigit, token))
            if len(token) - len(digits) <= len(digits) and self._is_dialable(digits, exact=True):
                return True
        if self._matched_by_libphonenumber(text):
            return True
        # Round 7: single digits typed in groups with words between the groups ("9 8 4 5
        # call me 0 1 2 3 room available 6 7"): ten of them, in five groups or fewer, that
        # make one mobile number, with only a few words and no punctuation between groups
        # (a list of rooms, "7 8 9 ready, 2 3 4 next month", has commas).
        if digit_count >= self.config.min_phone_digits and lower.count(" ") >= 9:
            groups = list(_SINGLE_DIGIT_GROUP_RE.finditer(lower))
            digits = "".join(group.group().replace(" ", "") for group in groups)
            if (
                2 <= len(groups) <= 5
                and len(digits) == self.config.min_phone_digits
                and digits[0] in "6789"
                and all(
                    _WORDS_BETWEEN_GROUPS_RE.fullmatch(lower[first.end() : second.start()])
                    for first, second in zip(groups, groups[1:])
                )
            ):
                return True
        runs = list(self._runs(text))
        if any(self._is_phone(run.parts, run.word_split, disguised) or self._is_attempt(run, text) for run in runs):
            return True
        # Round 3: "nain ait for faiv zeero wan too tree for faiv": words that spell digits
        # only as sound-alikes, read as digits throughout; a phone number only when
        # spelled out in six words or more (see _is_attempt).
        if self._could_be_spelled_number(post) and any(
            run.spelled >= _ATTEMPT_MIN_SPELLED and self._is_attempt(run, text)
            for run in self._runs(text, permissive=True)
        ):
            return True
        if any(
            not _looks_like_amounts(halves) and self._is_dialable("".join(halves), exact=True)
            for halves in self._call_halves_re.findall(text)
        ):
            return True
        # Round 3: "98 + 40 + 1 + 23 + 4567, just write them together": every number of
        # the post in order, when the post says to join them.
        if _REASSEMBLE_RE.search(lower) or (
            any(mark in lower for mark in _LEFT_TO_READER_MARKS) and _LEFT_TO_READER_RE.search(lower)
        ):
            if self._joined_numbers_are_phone(text):
                return True
            # Round 6: the same with the numbers as typed: a pincode or a deposit may be
            # half of it ("Rent 9820, deposit 123456, read both together and call"), and
            # masking would have hidden it.
            if self._joined_numbers_are_phone(_DATE_RE.sub(_hide_date, lower)):
                return True
        # Round 6: two runs split by a comma that make exactly one mobile number ("98 20
        # double 5, 67 89"); a list of rents or flats never does.
        for first, second in zip(runs, runs[1:]):
            gap = text[first.end : second.start]
            if (
                gap.strip(" ") == ","
                and not (first.word_split or second.word_split)
                and not _looks_like_amounts(first.parts + second.parts)
            ):
                if self._is_dialable("".join(first.parts + second.parts).replace(",", ""), exact=True):
                    return True
                # Round 8: without weak words at the end ("98 one 9 zero, 12 three 4 five for 1BHK":
                # "for" after "five" was read as a 4)
                if second.weak_tail and self._is_dialable(
                    "".join(first.parts + second.parts[: -second.weak_tail]).replace(",", ""), exact=True
                ):
                    return True
        # Round 8: digits and lookalike letters one by one ("9 8 2 O 4 S 6 7 l O"), or any
        # letters between digits when the post says to ignore them ("ignore the letters").
        if self._has_spaced_lookalikes(lower, text):
            return True
        # Round 8: a number begun after "call" and finished in later sentences, between
        # other numbers ("Call 9820. Deposit 30k. 45. Only family. 6173.").
        if not post.words.isdisjoint(self._call_words) and any(
            self._call_fragment_is_phone(match, text) for match in self._call_fragment_re.finditer(text)
        ):
            return True
        # Round 3: "54321 05489, reverse it", "number ulta likha hai": a number typed
        # backwards, when the post says so.
        if _REVERSED_RE.search(text):
            return any(self._is_dialable("".join(run.parts)[::-1], exact=True) for run in self._runs(text))
        return False

    def _mask_non_phones(self, text):
        """The text with everything that is a number but not a phone number masked out:
        dates, identifiers (RERA), pincodes, amounts of money and quantities.
        Round 7: a pattern is applied only when the characters it needs are there (a
        date needs a separator, an amount a currency or "/-", junk a bracket): the same
        result, a little faster."""
        if "/" in text or "." in text or "-" in text:
            text = _DATE_RE.sub(_hide_date, text)
        if any(map(str.isalpha, text)):
            text = self._id_re.sub(_MASK, text)
            text = self._glued_re.sub(self._unglue, text)
        text = _PINCODE_RE.sub(_MASK, text)
        if "₹" in text or "rs" in text or "inr" in text or "/-" in text:
            # Round 8: not after a word for calling ("contact Rs. 98301 24567"): a price is
            # not what one calls.
            text = _AMOUNT_RE.sub(
                lambda match: match.group().lstrip("₹rsin.:- ")
                if self._call_before_re.search(text, max(0, match.start() - 30), match.start())
                else _MASK,
                text,
            )
        text = self._quantity_re.sub(_MASK, text)  # "2 months", "5 lakh", "do mahine"
        text = _DIGIT_COUNT_RE.sub(" then ", text)  # "first five digits 98450 and last five 31277"
        text = _LONE_LOOKALIKE_RE.sub(lambda m: m[1] + m[2].translate(_LETTER_DIGITS), text)
        if "(" in text or "[" in text or "{" in text or "<" in text:
            text = _BRACKETED_JUNK_RE.sub(" ", text)
        text = _GLUED_TOKEN_RE.sub(self._unglue_spelling, text)
        if "s" in text and _COUNTED_REPEAT_RE.search(text):  # round 6: "four 5s"
            text = _COUNTED_REPEAT_RE.sub(_expand_counted_repeat, text)
        if ("ba" in text or "times" in text or "zero" in text or "shunya" in text) and _TIMES_REPEAT_RE.search(text):
            text = _TIMES_REPEAT_RE.sub(_expand_times_repeat, text)  # round 8: "paanch baar 1"
        if self._repeater_word_re.search(text):
            text = self._repeater_re.sub(lambda m: " ".join([m[2]] * _REPEATERS[m[1]]), text)
        return text

    def _has_spaced_lookalikes(self, lower, text):
        for match in _SPACED_CHARACTERS_RE.finditer(text):
            chars = match.group().replace(" ", "").replace(".", "").replace("-", "")
            if sum(map(str.isdigit, chars)) >= 6 and self._is_dialable(chars.translate(_LETTER_DIGITS), exact=True):
                return True
        if "ignore" in lower and _IGNORE_LETTERS_RE.search(lower):
            without = _LETTERS_BETWEEN_DIGITS_RE.sub(" ", text)
            return any(self._is_phone(run.parts, run.word_split) for run in self._runs(without))
        return False

    def _call_fragment_is_phone(self, match, text):
        """A fragment of a mobile number right after a word for calling, completed by the
        numbers that follow it in order, whatever stands between them: exactly one mobile
        number, with no amount ("12,000", "15000") among the parts."""
        runs = self._runs(text[match.start(1) :])
        first = next(runs, None)
        if first is None or len("".join(first.parts)) >= self.config.min_phone_digits:
            return False  # a whole number after "call": the other checks read it
        joined, count = "", 0
        for part in itertools.chain(first.parts, (part for run in runs for part in run.parts)):
            if "," in part or (count and len(part) >= 4 and part.endswith("00")):
                return False
            joined, count = joined + part, count + 1
            if len(joined) >= self.config.min_phone_digits:
                return count > 1 and self._is_dialable(joined, exact=True)
        return False

    def _has_counted_parts(self, lower):
        """Counted or placed parts of one number, however far apart: "first half 98290 ...
        (anything) ... second half 41573", in either order ("last four digits 2345, first
        six 984501"); round 6: three parts or more ("first three 984, next three 562, last
        four 1234", "starts 99 ends 77, middle 110 233"), a part hidden with x's and given
        elsewhere ("94141xxxxx (last 5: 27 90 3)"), and a half glued to a name
        ("first half 98201, second half is in my name: Sunil47563")."""
        halves = [re.sub(r"\D", "", half) for half in _COUNTED_PART_RE.findall(lower)][:_COUNTED_PARTS_MAX]
        if not halves:
            return False
        if len(halves) >= 2 and any(
            self._is_dialable(first + second, exact=True) or self._is_dialable(second + first, exact=True)
            for first, second in zip(halves, halves[1:])
        ):
            return True
        if len(halves) >= 3 and any(
            self._is_dialable("".join(order), exact=True)
            for start in range(len(halves) - 2)
            for order in itertools.permutations(halves[start : start + 3])
        ):
            return True
        for before, hidden, after in _HIDDEN_DIGITS_RE.findall(lower):
            if any(len(half) == len(hidden) and self._is_dialable(before + half + after, exact=True) for half in halves):
                return True
        if len(halves) == 1 and len(halves[0]) >= 4:
            for glued in _GLUED_DIGITS_RE.findall(lower):
                if self._is_dialable(halves[0] + glued, exact=True) or self._is_dialable(glued + halves[0], exact=True):
                    return True
        return False

    def _has_glued_spelling(self, lower):
        """Round 6: spelled digits glued into one long word ("nineeightonefive...")."""
        return any(
            word[:3] in self._spelled_prefixes and self._glued_spelling_re.fullmatch(word)
            for word in _LONG_WORD_RE.findall(lower)
        )

    def _unglue_spelling(self, match):
        """'nineeight' -> 'nine eight', '98two2' -> '98 two 2'; any other word as it is."""
        token = match.group()
        if token.isdigit() or (token.isalpha() and token[:3] not in self._spelled_prefixes):
            return token
        pieces = []
        for piece in _DIGITS_OR_LETTERS_RE.findall(token):
            if piece.isdigit():
                pieces.append(piece)
                continue
            words = self._spelled_word_re.findall(piece) if self._glued_spelling_re.fullmatch(piece) else ()
            if "".join(words) != piece:
                return token
            pieces.extend(words)
        return " ".join(pieces) if len(pieces) > 1 else token

    def _could_be_spelled_number(self, post):
        """Whether the post has a weak number word and at least _ATTEMPT_MIN_SPELLED words
        that spell digits, weak ones included: the only posts worth a permissive pass."""
        if post.words.isdisjoint(self._weak_number_words):
            return False
        vocabulary = self._spelled_vocabulary
        return sum(word in vocabulary for word in post.phrases.split()) >= _ATTEMPT_MIN_SPELLED

    def _joined_numbers_are_phone(self, text):
        """Whether consecutive numbers of ``text``, joined, make exactly one mobile number.
        Round 7: labels of the parts are not parts ("Part 1: 984 | Part 2: 501")."""
        if "part" in text:
            text = _PART_LABEL_RE.sub(" | ", text)
        numbers = [part for run in self._runs(text) for part in run.parts]
        for start in range(len(numbers)):
            joined = ""
            for number in numbers[start:]:
                if "," in number:
                    break  # round 7: an amount ("9,800"), never half of a number
                joined += number
                if len(joined) >= self.config.min_phone_digits:
                    if self._is_dialable(joined, exact=True):
                        return True
                    break
        return False

    def _digit_word(self, word, weak_ok):
        """The digits a word spells: listed, stretched ("ninee", "zeroo"), a weak word
        when ``weak_ok``, or an Indian-language word one letter off; else None."""
        digits = self._number_words.get(word)
        if digits is not None or not word.isascii():
            return digits
        squeezed = _squeeze(word) if _DOUBLED_RE.search(word) else word
        if squeezed != word:
            digits = self._squeezed_number_words.get(squeezed)
            if digits is not None:
                return digits
        if weak_ok:
            digits = self._weak_number_words.get(word) or self._weak_number_words.get(squeezed)
            if digits is not None:
                return digits
        # One letter off: only words that start like one (or come right after a spelled digit).
        if len(word) >= 6 and (weak_ok or word[:2] in self._fuzzy_number_prefixes):
            return self._fuzzy_number(word)
        return None

    def _fuzzy_number(self, word):
        """The digit an Indian-language number word one letter off spells, or None."""
        for spelling in _deletions(word):
            value = self._fuzzy_number_words.get(spelling)
            if value is not None:
                return value
        return None

    def _unglue(self, match):
        letters, digits = match.groups()
        if letters in self._contact_words:
            return f"{letters} {digits}"  # "call9845678901"
        # Round 6: a spelled digit is part of the number, not an identifier's prefix
        # ("98-two-two-zero-41735"): an identifier's letters are a code, never a number word.
        if letters in self._number_words:
            return f"{letters} {digits}"
        # Round 6: a name glued to a mobile number ("ravi9582214470") is a number given:
        # identifiers (RERA, GSTIN, order ids) are not ten digits starting 6-9.
        if self._is_dialable(digits.replace("-", "").replace("/", ""), exact=True):
            return f"{letters} {digits}"  # round 7: also in groups ("RERA no. hai: P-98265-43107")
        return _MASK  # "p52100047896": an identifier

    def _matched_by_libphonenumber(self, text):
        """Numbers written as numbers, found by libphonenumber.

        Leniency VALID: the number must be valid in India's numbering plan, so
        "15000 30000", "801 802 803 804" and "2025 2026" (which POSSIBLE accepts) are
        not numbers; grouping is left free (STRICT_GROUPING would miss "98 45 67 89
        01"). What it finds must still pass the same checks as a joined run.
        """
        if sum(map(str.isdigit, text)) < self.config.min_phone_digits:
            return False
        for match in PhoneNumberMatcher(text, "IN", leniency=Leniency.VALID):
            if self._is_phone(_DIGITS_RE.findall(match.raw_string), word_split=False):
                return True
        return False

    def _runs(self, text, permissive=False):
        """Numbers and spelled digits joined into runs while only symbols, emoji,
        joining words ("and then") or a single other word sit between them.

        Words of number_words_weak.txt ("for", "won", "nain") are digits right after a
        spelled digit, or anywhere when ``permissive``."""
        run, end = _Run(), 0
        for match in self._phone_token_re.finditer(text):
            gap = text[end : match.start()]
            # A list of spelled digits may have commas: "nine eight two two zero, one two ..."
            spelled_on = (
                run.last_was_spelled
                and (match["word"] in self._number_words or match["word"] in self._weak_number_words)
                and "\n" not in gap
            )
            # Round 6: ", then" goes on with the same number ("9 8, then two 7s, then 6 5 4 3 2 1").
            # A comma between single digits goes on too ("9, 8, 2, 2, 0, ...").
            continued = gap.strip() == "," and (
                match["word"] in _CONTINUING_WORDS
                or (match["num"] is not None and len(match["num"]) == 1 and len(run.parts[-1] if run.parts else "") == 1)
            )
            if run.parts and _breaks(gap) and not spelled_on and not continued:
                yield run
                run = _Run()
            if not run.parts:
                run.start = match.start()
            end = match.end()
            if match["num"]:
                digits, tens = match["num"].translate(_DIGIT_LOOKALIKES), False
                run.last_was_spelled = False
            else:
                word = match["word"]
                if run.parts and not run.word_pending and word in _ZERO_LETTERS:
                    digits = "0" * len(word)  # round 6: "98 one one OO 8 8 7 6"
                else:
                    digits = self._digit_word(word, permissive or (run.last_was_spelled and not run.word_pending))
                if digits is None:
                    if word in self._joiners or not run.parts:
                        continue
                    if run.word_pending:  # two words: the number has ended
                        yield run
                        run = _Run(match.start())
                    else:
                        run.word_pending = True
                    continue
                tens = word in self._tens
                weak = word not in self._number_words and word in self._weak_number_words
                run.last_was_spelled = True
                run.spelled += 1
                if run.last_was_tens and not tens and len(digits) == 1 and not run.word_pending:
                    run.parts[-1] = run.parts[-1][0] + digits  # "ninety eight" is 98
                    run.last_was_tens = False
                    run.end = match.end()
                    continue
            if run.word_pending:
                run.word_split, run.word_pending = True, False
            run.weak_tail = run.weak_tail + 1 if match["word"] and weak else 0
            run.parts.append(digits)
            run.end = match.end()
            run.last_was_tens = tens
        if run.parts:
            yield run

    def _is_phone(self, parts, word_split, disguised=False):
        """A long enough number; one joined from parts must also be dialable in India.

        So "2025 2026 2027", "Flats 801 802 803 804" and "rent 14999 30000" stay numbers.
        """
        digits = "".join(parts).replace(",", "")
        if len(digits) < self.config.min_phone_digits:
            return False
        if len(parts) == 1:
            return True
        # Round 3: ten digits or more typed one by one, whatever their order ("9 4 9 8 ...").
        if len(parts) >= self.config.min_phone_digits and all(len(part) == 1 for part in parts):
            return True
        if _looks_like_amounts(parts) or _looks_like_list(parts):
            return False
        # Round 3: a mobile's length, give or take a digit, typed in parts with symbols
        # between, four or more with one of one or two digits ("98 + 40 + 1 + 23 +
        # 4567") or three with letters for digits ("9B4O-IZ3-AS67"): a number given,
        # even when mistyped. Not amounts ("8750 + 1250 + 375") nor flat numbers.
        digits_only = digits.replace(",", "")
        if (
            not word_split
            and len(parts) >= 3
            and (disguised or (len(parts) >= 4 and min(map(len, parts)) <= 2))
            and len(digits_only) <= self.config.min_phone_digits + 1
            and digits_only[0] in "6789"
            and not _looks_like_numbering(parts)
        ):
            return True
        if word_split:  # "98220 ghar 12345": exactly one mobile number, or nothing
            return self._is_dialable(digits, exact=True)
        # A number may be followed by stray parts ("98456 78901 7 pm"): try each part
        # boundary as its start.
        parts = [part.replace(",", "") for part in parts]
        for start in range(len(parts)):
            candidate = ""
            for part in parts[start:]:
                candidate += part
                if len(candidate) >= self.config.min_phone_digits and self._is_dialable(candidate):
                    return True
        return False

    def _is_attempt(self, run, text):
        """A number someone meant to give, though it is not dialable as written (a digit
        missing, a landline grouped oddly): nine digits or more (one fewer than
        min_phone_digits) that start like an
        Indian number (0 or 6-9), either spelled out in six words or more ("double nine
        triple eight zero four five six") or right after "call", "landline", "whatsapp"
        ("landline 0251-2435 6789"). Amounts and lists of flat numbers are still not."""
        digits = "".join(run.parts).replace(",", "")
        if len(digits) < self.config.min_phone_digits - _ATTEMPT_SHORTFALL_DIGITS or digits[0] not in "06789":
            return False
        if _looks_like_amounts(run.parts) or _looks_like_numbering(run.parts):
            return False
        # "0251-2435 6789" is an STD code and a number; "0801 0802 0803" a list of flats.
        if _looks_like_list(run.parts) and not (digits[0] == "0" and all(part[0] != "0" for part in run.parts[1:])):
            return False
        if run.spelled >= _ATTEMPT_MIN_SPELLED:
            return True
        return self._call_before_re.search(text, max(0, run.start - 30), run.start) is not None

    def _is_dialable(self, digits, exact=False):
        """A mobile number (6-9 and nine more digits), with or without +91/0091/0 in
        front, or a landline valid in India's plan with its 0 or +91 in front."""
        for prefix in ("0091", "091", "91", "0", ""):
            if not digits.startswith(prefix):
                continue
            national = digits[len(prefix) :]
            if len(national) == 10 and national[0] in "6789":
                return True
            if prefix and not exact and 10 <= len(national) <= 11:
                number = phonenumbers.parse(national.lstrip("0"), "IN")
                if phonenumbers.is_valid_number(number):
                    return True
        if not exact and digits.startswith(("1800", "1860")) and 11 <= len(digits) <= 13:
            return True  # toll-free and shared-cost numbers
        # A different length from the config (min_phone_digits below 10) in a test setup.
        return not exact and self.config.min_phone_digits < 10 and digits[0] in "6789"

    # --- scams and words ---

    def _stated_phrases(self, post):
        """Round 8: the phrase form without what a warning quotes, reports or forbids
        (_QUOTED_SPAN_RE, _REPORTED_SPAN_RE); the phrase form itself when the post does not
        warn or has nothing of the kind."""
        phrases = post.phrases
        if post.words.isdisjoint(_WARNS_OF_WORDS) and not post.warned:
            return phrases  # most posts
        warnings = _ASSURANCE_RE.sub(" ", phrases) if _MAY_ASSURE_RE.search(phrases) else phrases
        if not (_WARNS_OF_RE.search(warnings) or self._scam_warnings.found_in(warnings)):
            return phrases  # most posts: nothing warns, read after the cheaper checks
        text = post.allowed
        if not (_QUOTED_SPAN_RE.search(text) or _REPORTED_SPAN_RE.search(text)):
            return phrases
        # A quotation becomes one word, not a full stop: a report goes on after it
        # ('someone says he is an "army officer", asks 5000 token ...').
        text = _REPORTED_SPAN_RE.sub(" . ", _QUOTED_SPAN_RE.sub(" quotation ", text))
        return _phrase_form(self._canonical_platforms(text.lower()))

    @staticmethod
    def _without_restrictions(phrases, words):
        """The phrase form with visits restricted by time and calls before the visit taken out."""
        if (" not " in phrases or " no " in phrases) and _TIMED_REFUSAL_RE.search(phrases):
            # Round 6: "visits not possible on weekdays" restricts a visit, it does not refuse one.
            phrases = _TIMED_REFUSAL_RE.sub(" ", phrases)
        if not words.isdisjoint(_CONTACT_WORDS):
            # Round 6: "call before visiting", "येण्याआधी फोन करा": a call before the visit is
            # not a payment before it.
            phrases = _without_call_before(phrases)
        return phrases

    def _is_scam(self, post):
        if self._is_scam_post(post):
            return True
        # Round 8, phase 2: the scam's words in leetspeak or spelled apart ("Send t0ken
        # am0unt 3k on G-P-a-y ... keys by c0urier"), read again decoded.
        lower = post.lower
        if not _DISGUISED_WORD_HINT_RE.search(lower):
            return False
        leet = _LEET_HINT_RE.search(lower) is not None
        apart = ("-" in lower or "." in lower) and _SPELLED_APART_HINT_RE.search(lower) is not None
        changed = {_squeeze(_unleet(match)) for match in (_LEET_SCAM_WORD_RE.finditer(lower) if leet else ())} | {
            _squeeze(_unspell(match)) for match in (_SPELLED_APART_RE.finditer(lower) if apart else ())
        }
        if changed.isdisjoint(self._scam_vocabulary):
            return False  # nothing decoded is a word of a scam ("b4", "flat4u", "e.g.")
        decoded = _SPELLED_APART_RE.sub(_unspell, _LEET_SCAM_WORD_RE.sub(_unleet, lower))
        return decoded != lower and self._is_scam_post(_Post(decoded, self))

    def _is_scam_post(self, post):
        # Round 8: the post's own words; what a warning quotes or reports is left out
        # (_stated_phrases), except when the warnings themselves are read.
        full = self._without_restrictions(post.phrases, post.words)
        stated = post.stated
        phrases = full if stated is post.phrases else self._without_restrictions(stated, set(stated.split()))
        words = post.words if phrases is post.phrases else set(phrases.split())
        if self._scam_phrases.found_in(phrases, words):
            return True
        # Round 8: a UPI id with a [pay] verb (as round 2 meant: "Pay at UPI id kirbhelp@ybl").
        if "@" in post.lower and self._upi_id_re.search(post.lower) and (
            self._asks_for_money(phrases, words) or not words.isdisjoint(self._pay_words)
        ):
            return True
        if self._is_scam_shape(phrases, words):
            return True
        warnings = _REFUND_AFTER_RE.sub(" ", full) if " refund" in full else full
        if not words.isdisjoint(_ASSURED_WORDS) and _MAY_ASSURE_RE.search(warnings):
            # Round 8: an assurance ("no fraud, no fake", "100% not a scam") is not a warning.
            warnings = _ASSURANCE_RE.sub(" ", warnings)
        if " fake " in warnings or " fraud " in warnings or " else " in warnings:
            # Round 8: nor a scammer's excuse ("too many fake visitors", "don't share it with anyone else").
            warnings = _EXCUSE_RE.sub(" ", warnings)
        if post.warned if warnings is post.phrases else self._scam_warnings.found_in(warnings):
            return False  # "Beware of fake owners asking for a token before the visit"
        if " otp " in phrases and _OTP_SHARED_RE.search(phrases):
            return True  # round 7: "you will get an OTP on your phone, just share it with me"
        # Round 8: read after the warnings ("after the visit, pay ..." is honest): money to
        # prove one is genuine, a free stay paid for first (not a trial: "free for the
        # first 3 days"; not a place shown).
        if (" prove " in phrases or " know " in phrases or " show " in phrases) and _PROVE_GENUINE_RE.search(phrases):
            return True
        if (
            " fre " in phrases
            and _FREE_STAY_RE.search(phrases)
            and _ONLY_PAY_RE.search(phrases)
            and _PAID_BEFORE_RE.search(phrases)  # paid before: "in advance", "first", "to our account"
            and " for the first " not in phrases
            and not self._scam_shown.found_in(phrases, words)
        ):
            return True
        # Round 8, phase 2: money for an authority's threat, a scheme's benefit, a result
        # bought; money "returned" from an overpayment.
        if (
            not words.isdisjoint(_AUTHORITY_WORDS)
            and _AUTHORITY_RE.search(phrases)
            and _THREAT_RE.search(phrases)
            and self._asks_for_money_or_channel(phrases, words)
        ):
            return True
        if not words.isdisjoint(_BENEFIT_WORDS) and _BENEFIT_RE.search(phrases) and (
            _FEE_FOR_BENEFIT_RE.search(phrases) or (_FREE_BENEFIT_RE.search(phrases) and _REGISTER_FEE_RE.search(phrases))
        ):
            return True
        if (
            (" return " in phrases or " refund " in phrases or " back " in phrases)
            and _RETURN_EXTRA_RE.search(phrases)
            and self._asks_for_money_or_channel(phrases, words)
        ):
            return True
        if (
            not words.isdisjoint(_BOUGHT_WORDS)
            and _BOUGHT_RESULT_RE.search(phrases)
            and _GUARANTEED_RESULT_RE.search(phrases)
            and _RESULT_RE.search(phrases)
            and (" 0 " in phrases or self._asks_for_money(phrases, words))
        ):
            return True
        if self._scam_demands.found_in(phrases, words):
            return True  # round 4: "share the OTP you receive", "deposit in Amazon gift cards"
        if self._scam_impersonation.found_in(phrases, words) and (
            self._pay_amount_re.search(phrases)
            or not words.isdisjoint(self._pay_words)
            or self._amount_app_re.search(phrases)
            or self._scam_apps.found_in(phrases, words)
            or self._scam_channel.found_in(phrases, words)
        ):
            return True  # round 7: "KIRB SUPPORT: your listing has been flagged ... pay 10"
        if self._scam_score(phrases, words) >= self.config.scam_score_threshold:
            return True
        if not (self._scam_remote.found_in(phrases, words) or self._scam_away.found_in(phrases, words)):
            return False
        # Round 5: an owner away who asks for a token on an app is an honest NRI owner when
        # someone shows the flat ("caretaker shows the flat any evening").
        shown = self._scam_shown.found_in(phrases, words)
        return any(self._is_scam_sentence(f" {sentence} ", shown) for sentence in _SENTENCE_END_RE.split(phrases))

    def _is_scam_shape(self, phrases, words):
        """Round 8: scams refused whatever else the post says, like the [scam] phrases
        (unless a warning quotes them: see _stated_phrases): a payment that "receives"
        money, a prize claimed for a fee, a price for unlocking anything."""
        if (
            " scan " in phrases or " qr " in phrases or " pin " in phrases or " aprove " in phrases
            or " acept " in phrases or " enter " in phrases or " confirm " in phrases
        ) and _PAY_TO_RECEIVE_RE.search(phrases):
            return True
        if (" claim" in phrases or not phrases.isascii()) and _PRIZE_RE.search(phrases) and _CLAIM_RE.search(phrases):
            if self._asks_for_money(phrases, words) or _PRICE_WORDS_RE.search(phrases) is not None:
                return True
        if " unlock " in phrases and _PAY_TO_UNLOCK_RE.search(phrases):
            return True
        return False

    def _asks_for_money_or_channel(self, phrases, words):
        return (
            self._asks_for_money(phrases, words)
            or self._amount_app_re.search(phrases) is not None
            or self._scam_apps.found_in(phrases, words)
            or self._scam_channel.found_in(phrases, words)
        )

    def _scam_score(self, phrases, words):
        """Round 3: evidence of an advance-fee scam across the whole post, in any language
        (scam_phrases.txt explains the weights). 0 unless money or a payment channel is
        asked for."""
        # An amount next to an app asks for money too: "pehle 2000 GPay karo".
        money = self._asks_for_money(phrases, words) or self._amount_app_re.search(phrases) is not None
        # round 7: money first, then the visit (read only with a word for "first")
        first_then = _FIRST_MARK_RE.search(phrases) is not None and _FIRST_THEN_SHOWN_RE.search(phrases) is not None
        money = money or first_then
        # round 8: contact lists and data sold ("pay via GPay and we send the full list")
        list_sold = (
            any(word in phrases for word in _CONTACTS_SOLD)
            and any(word in phrases for word in (" list", " numbers ", " contacts ", " data", " pdf ", " excel ", " shet "))
            and _PAY_FOR_LIST_RE.search(phrases) is not None
        )
        # round 8: a fee to see the place asks for money ("PG dekhne ke liye 300 lagega")
        pay_to_see = (
            (" se " in phrases or " view " in phrases or " visit " in phrases or " enter " in phrases
             or " it " in phrases or " dekhne " in phrases or " dikhane " in phrases or not phrases.isascii())
            and _PAY_TO_SEE_RE.search(phrases) is not None
        )
        money = money or list_sold or pay_to_see
        pay_first = None
        if not money and _FIRST_MARK_RE.search(phrases):
            # round 7: "Pay first, keys by DTDC" asks for money too
            money = pay_first = _PAY_FIRST_RE.search(phrases) is not None
        channel = self._scam_apps.found_in(phrases, words) or self._scam_channel.found_in(phrases, words)
        if not (money or channel):
            return 0
        score = money + channel
        away = self._scam_away.found_in(phrases, words) or self._scam_identity.found_in(phrases, words)
        hook = self._scam_hook.found_in(phrases, words)
        documents = self._scam_documents.found_in(phrases, words) or _DOCUMENTS_SENT_RE.search(phrases) is not None
        score += away + documents
        if pay_first is None:
            pay_first = _PAY_FIRST_RE.search(phrases) is not None
        # "token first, visit afterwards"; round 7: or money on an app now and the visit later
        # ("Abhi 2000 token GPay karo ... visit baad me kar lena")
        visit_later = (pay_first or (money and channel)) and _VISIT_LATER_RE.search(phrases) is not None
        # The room kept from view, each kind of evidence once: keys sent, a [remote]
        # phrase, no meeting, paying before the visit (or a visit only after paying, the
        # address only after paying), a race to pay.
        kinds = [
            self._keys_sent_re.search(phrases) is not None,
            self._scam_remote.found_in(phrases, words),
            self._scam_no_meet.found_in(phrases, words),
            self._scam_prepay.found_in(phrases, words)
            or _VISIT_AFTER_PAYING_RE.search(phrases) is not None
            or _ADDRESS_AFTER_RE.search(phrases) is not None
            or _SHOWN_AFTER_PAYING_RE.search(phrases) is not None
            or first_then
            or visit_later
            or pay_to_see  # round 8: a fee to see the place
            or list_sold,
            list_sold,  # round 8: contact lists sold, no room at all: two kinds, like first_then
            money and self._scam_no_visit.found_in(phrases, words),  # round 8: "visit not needed" and money
            first_then,
        ]
        # Round 5: a race to pay ("transfer deposit today", "before someone else does")
        # with a refund promised or the owner away keeps the room from view too, unless a
        # visit is offered. Round 6: or with another kind of evidence, to which it adds.
        kinds.append(
            bool(
                (hook or away or any(kinds))
                and self._scam_rush.found_in(phrases, words)
                and not self._scam_shown.found_in(phrases, words)
            )
        )
        remote = sum(kinds)
        collect = self._scam_collect.found_in(phrases, words)
        if not (remote or collect):
            # Money on an app, an owner away and a room blocked is also an honest NRI
            # owner's post: a scam needs the room kept from view or a collect request.
            return 0
        # Round 6: the first kind of evidence scores 2, each further kind 1 ("visits not
        # possible" and "pay the deposit first"; "paid before seeing the flat" and "no
        # visits without payment"), and paying first (_PAY_FIRST_RE), which honest owners
        # also ask for, counts only as a further kind (unless the visit comes after it).
        if remote:
            remote += 1 + (pay_first and not visit_later)
        score += remote + 2 * collect
        return score + hook

    def _is_scam_sentence(self, sentence, shown=False):
        words = set(sentence.split())
        remote = self._scam_remote.found_in(sentence, words)
        if not (remote or self._scam_away.found_in(sentence, words)):
            return False
        money = self._asks_for_money(sentence, words)
        app = self._scam_apps.found_in(sentence, words)
        return (remote and (money or app)) or (money and app and (remote or not shown))

    def _asks_for_money(self, phrases, words):
        return (
            self._scam_money.found_in(phrases, words)
            or self._pay_amount_re.search(phrases) is not None
            or (not words.isdisjoint(_HINGLISH_PAY_WORDS) and _AMOUNT_THEN_PAY_RE.search(phrases) is not None)  # "999 bhejo"
            or (" before " in phrases and _PAY_BEFORE_SEEING_RE.search(phrases) is not None)  # round 8: "pay before seeing"
        )

    def _has_spam_phrase(self, post):
        phrases, words = post.phrases, post.words
        if post.stated is not phrases:
            # Round 8: "Got a message: "You have won a free stay, pay 999 to claim". Deleted it."
            phrases = post.stated
            words = set(phrases.split())
        elif not words.isdisjoint(self._landmark_names) and self._landmark_re.search(post.allowed):
            # Round 7: "near Escorts Mujesar metro station" names a station, not a service.
            without = self._landmark_re.sub(lambda match: f"{match['keep'] or ''} ", post.allowed)
            phrases = _phrase_form(self._canonical_platforms(without.lower()))
            words = set(phrases.split())
        if self._spam_phrases.found_in(phrases, words):
            return True
        # Round 3: a job that costs a fee to join.
        if self._spam_jobs.found_in(phrases, words) and self._spam_fees.found_in(phrases, words):
            return True
        if self._adult_offers.found_in(phrases, words) and self._adult_context.found_in(phrases, words):
            return True
        # Round 7: a tenant's service sold like a product (movers with "best rates").
        if self._services.found_in(phrases, words) and self._sales.found_in(phrases, words):
            return True
        return self._is_off_topic_offer(post)

    def _is_off_topic_offer(self, post):
        """Round 6: a post that sells or promises something and names nothing of housing
        (topic_words.txt): an [offer] (earning, profit, tips, loans, prizes), or two
        [promotion] words or one and a percentage (investing, trading, marketing, joining),
        and no [housing] word (a room, rent, a flat, a PG, "something near" ... in any of
        the board's languages)."""
        # Housing words first: nearly every post has one, and then nothing else is read.
        lower = post.lower
        if "flat" in lower and " off" in lower:
            lower = _FLAT_DISCOUNT_RE.sub(" discount ", lower)  # round 8: "FLAT 50% OFF on all sarees"
        if self._not_housing_re and (not lower.isascii() or post.words & self._not_housing_triggers):
            lower = self._not_housing_re.sub(" ", lower)
        phrases = post.phrases if lower == post.lower else _phrase_form(lower)
        if self._housing_words.found_in(phrases) or _GLUED_HOME_SIZE_RE.search(lower):
            return False
        if not post.text.isascii() and any(stem in lower for stem in self._housing_stems):
            return False
        strong = sum(phrase in phrases for phrase in self._offer_words)
        weak = sum(phrase in phrases for phrase in self._promotion_words) + ("%" in post.text)
        if not post.text.isascii():
            strong += sum(stem in lower for stem in self._offer_stems)
            weak += sum(stem in lower for stem in self._promotion_stems)
        return strong >= 1 or weak >= self.config.off_topic_min_promotions

    def _has_profanity(self, post):
        # Round 8: a community vilified ("Bihari log ... sab chor hain", "madrasi aur bihari
        # log gande hote hain"): a group named, then what they are said to be or to deserve.
        if not post.words.isdisjoint(_GROUP_NOUNS) and _VILIFIED_GROUP_RE.search(post.phrases):
            return True
        if self._abusive_phrases.found_in(post.phrases, post.words):
            return True
        if any(self._is_abusive(word) for word in _word_candidates(self._without_names(post.allowed))):
            # Round 8: unless the word is a place, Capitalised before a place noun ("Kuthi
            # ghat"); read only when a word is abusive, most posts having none.
            if not self._place_noun_re.search(post.allowed):
                return True
            without_places = self._place_noun_re.sub(" ", post.allowed)
            if any(self._is_abusive(word) for word in _word_candidates(self._without_names(without_places))):
                return True
        if any(mark in post.lower for mark in "*#@$%") and _MASKED_THREAT_RE.search(post.lower):
            return True
        if _OTHER_INDIC_RE.search(post.text) and self._has_folded_abuse(post):
            return True
        if self._has_split_compound(post.phrases):
            return True
        # Round 6: abusive phrases in leetspeak ("b0l1 m4g4", "s00le m4ga").
        lower = post.allowed.lower()
        if any(map(str.isdigit, lower)) and _LETTERS_AND_DIGITS_RE.search(lower):
            decoded = _phrase_form(_LETTERS_AND_DIGITS_RE.sub(lambda match: match.group().translate(_LEET_DIGITS), lower))
            return decoded != post.phrases and (
                self._abusive_phrases.found_in(decoded) or self._has_split_compound(decoded)
            )
        return False

    def _has_split_compound(self, phrases):
        """A compound split in two: "madar chod", "behen chod"."""
        words = [word for word in phrases.split() if len(word) >= 3 and word.isalpha()]
        return any(self._is_abusive(first + second, typos=False) for first, second in zip(words, words[1:]))

    def _without_names(self, text):
        """Round 5: 'Lund University', 'Randi Zuckerberg': a word of name_words.txt typed
        Capitalised next to another Capitalised word of the same sentence is a name.
        Round 7: an abbreviation glossed in brackets ("WTF (Whitefield, obviously)"), and a
        word of homonyms.txt in a post written in the language where it is ordinary."""
        if "(" in text:
            text = _GLOSSED_ABBREVIATION_RE.sub(
                lambda match: " " if match[1][0] == match[2][0] else match.group(), text
            )
        if self._homonyms:
            words = None
            for word, markers in self._homonyms.items():
                if word in text.lower():
                    words = words or set(_phrase_form(text).split())
                    if word in words and len(words & markers) >= 2:
                        text = re.sub(rf"(?i)(?<![\w]){re.escape(word)}(?![\w])", " ", text)
        if not self._name_word_re.search(text):
            return text
        return self._name_word_re.sub(lambda match: " " if _is_proper_name(text, match) else match.group(), text)

    def _has_folded_abuse(self, post):
        """Round 4: abuse in another Indic script, read in Devanagari (see _TO_DEVANAGARI)."""
        folded = post.allowed.translate(_TO_DEVANAGARI)
        folded_phrases = _phrase_form(folded)
        if self._abusive_phrases.found_in(folded_phrases):
            return True
        if any(start in folded_phrases for start in self._folded_phrase_starts):
            return True
        for chunk in folded.split():
            word = chunk.strip(_EDGE_PUNCTUATION)
            if word.isascii():
                continue
            if self._is_abusive(word, typos=False) or word.startswith(self._folded_stems):
                return True
        return False

    def _is_abusive(self, typed, typos=True):
        word = typed.lower()
        if not word.isascii():
            stem = word.rstrip(_MATRAS)
            if stem != word and stem in self._devanagari_stems:
                return True
        if word.isalpha():  # most words: no leetspeak to undo
            if _ends(word) in self._abusive_ends and self._matches(word, typed, typos):
                return True
            if word[-1] != "s" or len(word) < _PLURAL_MIN_LETTERS:  # most words: no plural to undo
                return False
            stem = _plural_stem(word)
            return stem is not None and _ends(stem) in self._abusive_ends and self._matches(stem, typed, False)
        if "*" in word or "@" in word or "#" in word:  # "f*ck", "f**k", "F***", "f@cking", "f#ck"
            masked = word.replace("@", "*").replace("#", "*").translate(_LEET_SYMBOLS)
            if sum(map(str.isalpha, masked)) >= 2:
                masked = masked.translate(_LEET_DIGITS)  # "m0th3rf#cker"
            if masked.count("*") >= 2 or sum(map(str.isalpha, masked)) >= 2:
                if self._matches_masked(masked):
                    return True
        word = word.translate(_LEET_SYMBOLS)
        if sum(map(str.isalpha, word)) < 2:
            return False
        word = word.translate(_LEET_DIGITS)
        if "*" in word:
            return self._matches(word.replace("*", ""), typed, typos)
        if self._matches(word, typed, typos):
            return True
        stem = _plural_stem(word)
        return stem is not None and self._matches(stem, typed, False)  # round 7: "r@ndis"

    def _matches(self, word, typed, typos=True):
        shape = _squeeze(word) if _DOUBLED_RE.search(word) else word
        for entry, pattern in self._abusive_by_shape.get(shape, ()):
            # Two letters are an abbreviation only in lower case: "bc", not "B.C. Roy Road".
            if pattern.fullmatch(word) and (len(entry) > 2 or typed.islower()):
                return True
        if len(word) < 5:
            return False
        skeleton = _skeleton(word)
        if skeleton in self._abusive_skeletons:
            return True
        # Round 3: one typo in a long word ("madarchd", "bhenchood", "motherfukcer"),
        # with its first and last letters right.
        if typos and len(skeleton) >= _ABUSE_TYPO_MIN_LETTERS:
            for spelling in _deletions(skeleton):
                for entry in self._abusive_typos.get(spelling, ()):
                    if entry[0] == skeleton[0] and entry[-1] == skeleton[-1]:
                        return True
        return False

    def _matches_masked(self, word):
        """'f*ck', 'f**k', 'f*u*c*k' after stars are dropped elsewhere; here stars stand for letters."""
        return any(
            len(entry) == len(word) and all(char in ("*", wanted) for char, wanted in zip(word, entry))
            for entry in self._abusive_words
            if word[0] == entry[0]
        )

    # --- shape of the text ---

    def _is_shouting(self, post):
        """Capitals that urge ("CALL NOW", "BEST PRICE") or rant ("CHEAT", "WHY").

        Round 10: capitals alone are how some people type ("FLAT AVAILABLE!!! 1BHK THANE
        WEST MAJIWADA, 18K, NO BROKERAGE.", dev16), however long the post or many its
        exclamation marks; such a post goes on to the other rules and the review tier.
        """
        upper = sum(map(str.isupper, post.text))
        letters = upper + sum(map(str.islower, post.text))
        if letters < self.config.min_letters_for_caps or upper <= self.config.max_caps_ratio * letters:
            return False
        if not self._shouting_words.found_in(post.phrases, post.words):
            return False
        return not self._is_urgent_request(post)

    def _is_urgent_request(self, post):
        """'URGENT: NEED 1BHK IN WAKAD' (round 5): one short line in capitals that asks for
        a home may say how urgent it is, as a title on a classifieds page. One that
        exclaims, or runs longer than a headline, is shouting."""
        if "\n" in post.text.strip() or "!" in post.text:
            return False
        words = len(post.text.split())
        if words > _HEADLINE_MAX_WORDS:
            facts = _HEADLINE_SEPARATOR_RE.split(post.text)
            if words > _LISTED_HEADLINE_MAX_WORDS or any(len(fact.split()) > _HEADLINE_MAX_WORDS for fact in facts):
                return False
        if not self._request_words.found_in(post.phrases, post.words):
            return False
        phrases = self._urgency_re.sub(" ", post.phrases)
        return not self._shouting_words.found_in(phrases)

    def _is_repetitive(self, post):
        # Digits and layout characters may run long: "₹10000000", "......", "-----".
        # Round 6: not in a post with nothing else in it, no letter or digit at all.
        text = post.lower
        if any(match[1] not in "0123456789.-_=*~#" for match in self._char_run_re.finditer(text)):
            return True
        if not any(map(str.isalnum, text)):
            # Round 6: symbols or emoji and nothing else, in a run or many of them
            # ("🔥💰🔥💰🔥💰🔥💰").
            return self._char_run_re.search(text) is not None or len("".join(text.split())) >= _SYMBOLS_ONLY_MIN
        # Round 6: a post of keyboard mashing ("asdfghjkl qwertyuiop") or test words
        # ("test test 123"), with nothing to say.
        tokens = [token for token in (chunk.strip(_EDGE_PUNCTUATION) for chunk in text.split()) if token]
        mashed = [token for token in tokens if _is_keyboard_run(token)]
        if mashed and 2 * len(mashed) >= len(tokens) and (len(mashed) >= 2 or len(mashed[0]) >= 6):
            return True
        if (
            len(tokens) >= 3
            and not _PLACEHOLDER_WORDS.isdisjoint(tokens)
            and all(token in _PLACEHOLDER_WORDS or token.isdigit() or _is_keyboard_run(token) for token in tokens)
        ):
            return True
        # Units after numbers are not repetition: "1 BHK, 2 BHK, 3 BHK flats for rent".
        words, previous = [], ""
        for chunk in post.lower.split():
            word = chunk.strip(_EDGE_PUNCTUATION)
            if any(map(str.isalpha, word)) and not previous.isdigit():
                words.append(word)
            previous = word
        if len(words) < self.config.min_words_for_repetition:
            return False
        # Round 5: a label before a number is not repetition either ("floor 1 office,
        # floor 2 office, floor 3 office").
        labels = Counter(_LABEL_BEFORE_NUMBER_RE.findall(post.lower))
        counts = Counter(words)
        counts.subtract(labels)
        (_, count), = counts.most_common(1)
        if count > self.config.max_repeated_word_share * len(words):
            return True
        # Numbers stay in the words compared below: "1.5 km to station, 2.3 km to market".
        words = [word for word in map(lambda chunk: chunk.strip(_EDGE_PUNCTUATION), post.lower.split()) if word]
        # Round 5: a phrase said over and over ("BROKERS STAY AWAY. BROKERS STAY AWAY. ...",
        # "asdfgh jkl qwerty asdfgh jkl ..."), each word of it under the share above: a
        # stretch of the post whose words repeat with a period of a few words, nearly three
        # times over or more, covering most of the post. A list ("1.5 km to station, 2.3 km
        # to market") repeats only some of its words, so its stretches are short.
        for period in range(2, _REPEATED_PHRASE_MAX_WORDS + 1):
            if len(words) < _REPEATED_PHRASE_MIN_TIMES * period - 1:
                break
            # Round 8: a stretch of 3p-1 words needs 2p-1 words equal to the one p before
            # (counted in C first: most periods of most posts have fewer).
            if sum(map(operator.eq, words, words[period:])) < (_REPEATED_PHRASE_MIN_TIMES - 1) * period - 1:
                continue
            longest = run = end = 0
            for index in range(len(words) - period):
                run = run + 1 if words[index] == words[index + period] else 0
                if run > longest:
                    longest, end = run, index + period
            covered = longest + period
            if covered < _REPEATED_PHRASE_MIN_TIMES * period - 1 or covered < _REPEATED_PHRASE_SHARE * len(words):
                continue
            # One word over and over is the share rule's business ("room room room").
            if len(set(words[end - period + 1 : end + 1])) > 1:
                return True
        return False


# --- round 9: the review tier's signals (ContentFilter.review) ---

REVIEW_REASONS = ("split_number", "code_request", "script_mix", "profanity_disguised", "repetition_near", "spam_model")

# Groups of three digits or more (a thousands comma inside is not a break).
_DIGIT_GROUP_RE = re.compile(r"\d(?:,?\d)+")
_MOBILE_DIGITS = 10
_MOBILE_FIRST_DIGITS = "6789"


def _has_split_number(lower):
    """Two or three groups of digits that, joined in order, make an Indian mobile number
    (ten digits, the first 6 to 9), each too short to be one: "starting 98230 ... last
    five 44127", "rent ₹98,204 and deposit ₹56,712 (dial both together)"."""
    groups = [group.replace(",", "") for group in _DIGIT_GROUP_RE.findall(lower)]
    groups = [group for group in groups if 3 <= len(group) < _MOBILE_DIGITS]
    for start, first in enumerate(groups):
        if first[0] not in _MOBILE_FIRST_DIGITS:
            continue
        joined = first
        for group in groups[start + 1 : start + 3]:
            joined += group
            if len(joined) >= _MOBILE_DIGITS:
                break
        if len(joined) == _MOBILE_DIGITS and joined != first:
            return True
    return False


_CODE_WORDS_RE = re.compile(
    r"\b(?:otp|cvv|m?pin|upi pin|one time password|verification code|\d digit code|card number|card details|expiry)\b"
)
_SHARE_WORDS_RE = re.compile(
    r"\b(?:share|send|enter|tell|give|reply|replying|forward|type|batao|bhejo|bhej|de do|dijiye)\b"
)

# Scripts of the board's languages; letters of any other script (Greek, Cyrillic and
# letter-like symbols that normalise does not fold: "ƒυcк уσυ") are a disguise.
_BOARD_SCRIPTS = (
    "LATIN", "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA",
    "MALAYALAM", "ARABIC", "SINHALA",
)


@lru_cache(maxsize=4096)
def _is_board_letter(char):
    return unicodedata.name(char, "").startswith(_BOARD_SCRIPTS)


def _has_unusual_script(text):
    return any(char.isalpha() and not char.isascii() and not _is_board_letter(char) for char in text)


_REVIEW_WORD_RE = re.compile(r"[a-z0-9@$!|]+")
_REVIEW_PLAIN_WORD_RE = re.compile(r"[^\W\d_]+")
_REVIEW_LEET = str.maketrans("0134579@$!|v", "oieastgasiiu")
_REVIEW_TYPO_MIN_LETTERS = 5
# A post is scored against the Latin-script threshold when at least this share of its
# letters is ASCII; others against the non-Latin one (the model's scores of posts in
# Indic scripts run higher: fewer of them in the tuning corpora).
_LATIN_POST_SHARE = 0.5


def _substitutions(word):
    """``word`` with each letter in turn replaced by "?": two words one substitution
    apart share one of these."""
    return [f"{word[:index]}?{word[index + 1:]}" for index in range(len(word))]


# --- Corpora -----------------------------------------------------------------------


def read_corpus(path):
    """The posts of a corpus file: one a line; lines starting with '#' and blank lines are skipped."""
    return [
        line
        for line in Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@dataclass
class CorpusScore:
    """How a filter did on one corpus; spam is the positive class."""

    true_positives: int
    false_negatives: int
    false_positives: list  # [(rule, post)]: clean posts refused
    missed: list  # [post]: spam let through
    clean_total: int
    rules: Counter  # which rule caught the spam

    @property
    def spam_total(self):
        return self.true_positives + self.false_negatives

    @property
    def precision(self):
        flagged = self.true_positives + len(self.false_positives)
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self):
        return self.true_positives / self.spam_total if self.spam_total else 1.0

    def summary(self):
        return (
            f"{self.true_positives}/{self.spam_total} spam caught (recall {self.recall:.1%}), "
            f"{len(self.false_positives)}/{self.clean_total} clean refused (precision {self.precision:.1%})"
        )


@dataclass
class CorpusReview:
    """Round 9: what the review tier holds of the posts of a corpus that check() passes."""

    clean_held: list  # [(reason, post)]
    spam_held: list  # [(reason, post)]
    reasons: Counter  # why posts (clean and spam) were held


def review_corpus(content_filter, clean, spam):
    """Run ``content_filter.review`` over the posts of a corpus that ``check`` passes."""
    held = ([], [])
    reasons = Counter()
    for label, posts in enumerate((clean, spam)):
        for post in posts:
            if content_filter.check(post) is None and (reason := content_filter.review(post)):
                held[label].append((reason, post))
                reasons[reason] += 1
    return CorpusReview(clean_held=held[0], spam_held=held[1], reasons=reasons)


def score_corpus(content_filter, clean, spam):
    """Run ``content_filter`` over lists of clean and spam posts."""
    false_positives = [(verdict.rule, post) for post in clean if (verdict := content_filter.check(post))]
    rules, missed = Counter(), []
    for post in spam:
        verdict = content_filter.check(post)
        if verdict:
            rules[verdict.rule] += 1
        else:
            missed.append(post)
    return CorpusScore(
        true_positives=len(spam) - len(missed),
        false_negatives=len(missed),
        false_positives=false_positives,
        missed=missed,
        clean_total=len(clean),
        rules=rules,
    )
