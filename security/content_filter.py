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

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache
from pathlib import Path

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from publicsuffixlist import PublicSuffixList

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
    for code in (0x034F, 0x180B, 0x180C, 0x180D, 0x180F, 0x20E3, 0x20DD, 0x20DE, 0x20DF, 0x20E0, 0x20E4):
        table[code] = None  # combining grapheme joiner, Mongolian selectors, enclosing marks
    table.update(dict.fromkeys(map(ord, _LOOKALIKE_DOTS), "."))
    table.update(dict.fromkeys(map(ord, _BLANKS), " "))
    table[0x093C] = None  # the Devanagari nukta: "लौड़े" reads as "लौडे" (typed either way)
    table[0x0130] = "I"  # İ: its lower case is two characters, which would shift offsets
    table.update(_LOOKALIKES)
    for code in range(0x30, 0x3A):
        table.pop(code, None)
    return table


_LATIN_ACCENTS_RE = re.compile("[\u0300-\u036f]")


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


def _starts_word(text, index):
    return index == 0 or not text[index - 1].isalnum()


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
_NUMBER_OR_ADDRESS_APPS = {"whatsapp", "gmail", "yahoo", "hotmail", "rediffmail", "protonmail", "signal"}
# A person's name as typed: two to four capitalised words.
_TYPED_NAME_RE = re.compile(r"\s+(?:me\s+)?[A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,3}\b")
_SPACED_PLATFORM_RE = re.compile(r"\b(tele|teli|insta|snap|whats|wats)[\s._-]+(gram|grm|chat|app|ap)\b")
# App names written to get past a filter: with symbols for letters ("Sn@pchat",
# "Telegr@m", "in$ta", "1nsta") or letter by letter ("T.e.l.e.g.r.a.m", "t e l e g r a m").
_LEET_WORD_RE = re.compile(r"(?<![\w@$])(?=[a-z0-9@$]*[a-z][a-z0-9@$]*[a-z])[a-z0-9@$]*[@$0-9][a-z0-9@$]*(?![\w@$])")
_LEET_LETTERS = str.maketrans("@$0134", "asoiea")
_LETTER_BY_LETTER_RE = re.compile(r"(?<![a-z0-9])[a-z](?:[.\-_*\s]{1,2}[a-z]){3,}(?![a-z0-9])")


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
    r"|\b(?:first|last|next|remaining|other|pehle|pahle|pehla|agle|baaki|baki|shevatche|pahile)\s+"
    r"(?:(?:one|two|three|four|five|six|seven|1|2|3|4|5|6|7|ek|do|teen|char|paanch|panch|chhe|saat)\s+)?"
    r"(?:digits?|numbers?|nos?\.?|ank|anka|ankde)(?![a-z])"
    r"|\b(?:first|last|next|remaining)\s+(?:three|four|five|six|seven|3|4|5|6|7)"
    r"(?=\s*[:=-]?\s*(?:(?:are|is|hai|hain|were)\s+)?[0-9])"  # round 4: "the last five are 45617"
)
# Round 3: words that say a number is typed backwards.
_REVERSED_RE = re.compile(r"\b(?:reverse|reversed|backwards?|ulta|ulte|ultaa|ulti|ulat|palat|palatke|upside)\b")
# Round 3: a counted part and the digits it introduces, wherever it is in the post.
_COUNTED_PART_RE = re.compile(
    rf"(?:{_DIGIT_COUNT_RE.pattern})[\s:=-]*(?:(?:are|is|hai|hain|were)\s+)?(\d{{3,7}})(?![0-9])"
)
# A lone O, l or I between digits is a digit: "9 7 O 4 l 2 3 8 8 6". Only there, so
# words ("O Block", "I live") are left alone. Round 4: two of them too ("98.IO.22.33.44").
_LONE_LOOKALIKE_RE = re.compile(r"(?<=[0-9])([^a-z0-9\n]{1,3})([oil]{1,2})(?=[^a-z0-9\n]{1,3}[0-9])")
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
_BRACKETED_JUNK_RE = re.compile(r"(?<=[0-9])\s*[\[({<][^0-9\[\](){}<>\n]{1,30}[\])}>]\s*(?=[0-9])")
_GLUED_TOKEN_RE = re.compile(r"(?<![a-z0-9])[a-z0-9]{5,}(?![a-z0-9])")


def _decode_lookalikes(match):
    token = match.group()
    letters = sum(map(str.isalpha, token))
    if not letters or letters > len(token) - letters + 1 or _ORDINAL_OR_DECADE_RE.fullmatch(token):
        return token
    return token.translate(_LETTER_DIGITS)


def _hide_date(match):
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

    __slots__ = ("parts", "word_split", "word_pending", "last_was_tens", "last_was_spelled", "spelled", "start")

    def __init__(self, start=0):
        self.parts, self.word_split, self.word_pending = [], False, False
        self.last_was_tens = self.last_was_spelled = False
        self.spelled = 0  # how many parts were spelled out ("nine", "nau")
        self.start = start  # where the first part begins in the text


# --- Profanity ---------------------------------------------------------------------

# A headline in capitals has at most this many words ("SEMI FURNISHED 2BHK IN KHARADI,
# FLAT 801, READY TO MOVE" has 10); longer text in capitals is shouting. The shape of
# a title, not a deployment tunable.
_HEADLINE_MAX_WORDS = 12
# Round 4: a title that lists its facts between dashes, bars or commas may run to this
# many words, each fact no longer than a headline ("DADAR WEST ROOM AVAILABLE — SINGLE
# OCCUPANCY ₹19,000 — SHIVAJI PARK 600 M — WORKING PROFESSIONALS ONLY", 16 words). No
# capitalised spam of any tuning corpus relied on the length alone: each urges, sells,
# rants, exclaims or repeats itself.
_LISTED_HEADLINE_MAX_WORDS = 24
_HEADLINE_SEPARATOR_RE = re.compile(r"\s[—–|•-]+\s|,")

# Round 5, repetition: a stretch of words repeating with a period of 2-6 words, nearly
# three times over or more (the last time may be cut short), covering at least 60% of a
# post's words (shapes, not deployment choices).
_REPEATED_PHRASE_MAX_WORDS = 6
_REPEATED_PHRASE_MIN_TIMES = 3
_REPEATED_PHRASE_SHARE = 0.6
# "visit possible only after token", "visit only after you pay": a visit that costs money.
_VISIT_AFTER_PAYING_RE = re.compile(
    r" visit(?:ing)? (?:[a-z]+ ){0,3}only after (?:the |you |your |a )?"
    r"(?:payment|paying|pay|token|advance|booking|transfer|0 (?:token|advance|booking|rs|rupees|on|via|by))"
)

_EDGE_PUNCTUATION = "\"'`.,;:!?()[]{}<>-_*~…|/\\#=+"
# Stars stay on a word for the profanity rule: "F***" is a masked word, not "F".
_EDGE_PUNCTUATION_BUT_STARS = _EDGE_PUNCTUATION.replace("*", "")
# Separators inside a word: f.u.c.k, mother-fucker, bc,mc.
_IN_WORD_SEPARATORS_RE = re.compile(r"[.\-_,:;|/\\'`~+=]")
_LEET_SYMBOLS = str.maketrans("@$!", "asi")
# Only for words that already have two letters, so flat "A-455" is not "ass".
_LEET_DIGITS = str.maketrans("431057", "aeiost")
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
    r"\b(?:teri|tera|tor|tar|tari|tumhari|tumar|tuzi|tujhi|tuji)\s+"
    r"(?:maa?|maak|maiya|behen|bahen|behan|bhen|bhain|pen|bon|ben|aai|aaich)\s+"
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
_SPACED_LETTERS_RE = re.compile(r"(?<!\S)\S \S \S(?!\S)")
_WIDE_GAP_RE = re.compile(r"\s{2,}")
# Round 5: a handle some words after an app must look like nothing else: letters with
# a "_", letters joined by "." ("meghaa.rentals", not "e.g." or "10.30"), or a name with
# two digits or more at its end ("puneflats2024", not "sector62" or "covid19").
_HANDLE_WINDOW_WORDS = 8
_SENTENCE_BREAK_RE = re.compile(r"[.;]\s")
_HANDLE_SHAPE_RE = re.compile(
    r"[a-z][a-z0-9]*_[a-z0-9_.]*[a-z0-9]|[a-z]{2,}[0-9]*(?:\.[a-z]{2,}[0-9]*)+|(?P<name>[a-z]{3,})[0-9]{2,}"
)
_NOT_HANDLE_FIRST = frozenset("me us it now only pe par karo here there please pls msg call dm text ok thanks".split())
_NOT_HANDLE_LAST = frozenset("nagar road rd colony vihar park marg chowk peth wadi layout nivas society".split())
_NOT_HANDLE_NAMES = frozenset(
    "sector phase block tower wing plot flat flats room rooms gate lane road stage floor unit shop covid ward zone "
    "house building apartment bhk pin no".split()
)


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
    after_word = after.split(None, 1)[0].rstrip(",;:)") if after[:1].isalpha() else ""
    return any(_CAPITALISED_WORD_RE.fullmatch(word) for word in (before_word, after_word))


def _word_candidates(text):
    """Every spelling of a word the text could hide abuse in.

    Whole words with separators taken out ("f.u.c.k" -> "fuck"), their parts
    ("bc,mc" -> "bc", "mc") and runs of spaced-out single characters ("f u c k").
    """
    if "+" in text:  # round 5: "+" looks like t ("chu+iya")
        yield from (chunk.replace("+", "t") for chunk in text.split() if _PLUS_FOR_T_RE.search(chunk))
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
        return _phrase_form(self._filter._canonical_platforms(self.allowed.lower()))

    @cached_property
    def words(self):
        return set(self.phrases.split())


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
            rf"{platform}[\s,:-]{{0,3}}(?:id|user\s*name|handle|profile)\b(?!\s*(?:proof|card))"  # not "ID proof"
        )
        self._platform_any_re = re.compile(platform)
        self._platform_token_re = re.compile(rf"(?<![a-z0-9]){platform}(?![a-z0-9]){_HANDLE_AFTER_PLATFORM}")
        # "search roomsdelhi on telegram"
        # Round 3. "TG ~ @ bhopal rooms hub", "Insta: @ l u c k n o w": an @ right after
        # an app name, with the handle spaced out after it.
        self._platform_spaced_at_re = re.compile(rf"(?<![a-z0-9]){platform}(?![a-z0-9])[^a-z0-9@\n]{{0,4}}@\s+[a-z0-9]")
        # A name to search for on an app, in quotes: 'Search "Lucknow Flat Owners" on
        # telegram', "Truecaller pe search karo 'Ramesh Broker'", or after a colon:
        # "Telegram pe search karo: punekamre".
        quoted = r"[\"'“‘][^\"'“”‘’\n]{3,40}[\"'”’]"
        search = r"(?:search|find|look\s?up|type|dhundo|dhoondo|dhundho|khojo|shodha)"
        self._searched_name_re = re.compile(
            rf"\b{search}\b[^\"'“‘\n]{{0,15}}{quoted}[^.\n]{{0,20}}?\b(?:on|in|at|pe|par|me|mein|var)\s+{platform}(?![a-z0-9])"
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,20}}?\b{search}(?:\s+kar[oe]?)?[\s:,-]*{quoted}"
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,20}}?\b{search}(?:\s+kar[oe]?)?\s*[:=\-–→➡]\s*[a-z0-9_.]{{4,}}"
            # "on insta, id is roomwala", "telegram, username: flatspune"
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])[^.\n]{{0,15}}?\b(?:id|user\s*name|handle)\s*(?:is|:|-|=)\s*@?[a-z_][a-z0-9_.]{{3,}}"
            # 'YouTube channel "Pune Flats Vlog"', "insta page 'flats in indore'"
            rf"|(?<![a-z0-9]){platform}(?![a-z0-9])\s*(?:channel|page|group|account|profile|id|handle|name)\s*[:=,\-–]?\s*{quoted}"
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
        # Round 5: a handle a few words after the app, with other words between
        # ("snapchat pe add karo meghaa.rentals", "telegrm pe aao bhai, id puneflats2024").
        self._platform_window_re = re.compile(rf"(?<![a-z0-9]){platform}(?![a-z0-9])(?P<window>[^!?\n|]{{1,60}})")
        self._token_platform_re = re.compile(
            rf"(?<![\w@.])(?P<token>[a-z0-9][a-z0-9_.]*[a-z0-9_])\s+(?:on|at|pe|par|in)\s+{platform}(?![a-z0-9])"
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
        self._quantity_re = re.compile(rf"(?<![\w.,])(?:\d{{1,3}}(?:\.\d+)?|{spelled})\s?(?:{units})(?![a-z])")
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
        self._glued_re = re.compile(r"(?<![a-z0-9])([a-z]+)[-/]?(\d{5,})")
        self._long_number_re = re.compile(rf"\d{{{config.min_phone_digits},}}")

        # scams, spam, abuse
        scam = _read_sections(data_dir / "scam_phrases.txt")
        sections = ("scam", "remote", "away", "money", "app", "warning")
        self._scam_phrases, self._scam_remote, self._scam_away, self._scam_money, self._scam_apps, self._scam_warnings = (
            _PhraseSet(map(_phrase_form, scam[section])) for section in sections
        )
        pay = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["pay"])
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
        apps = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["app"])
        self._amount_app_re = re.compile(rf" 0 (?:(?:on|via|by|through|in|to|pe|par|se) )?(?:{apps}) ")
        keys = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["key"])
        send = "|".join(re.escape(_phrase_form(entry).strip()) for entry in scam["send"])
        # "keys sent by courier", "saavi anupuvom", "courier you the keys": a key word and
        # a sending word with at most three words (no comma or full stop) between.
        self._keys_sent_re = re.compile(
            rf" (?:{keys}) (?:[a-z]+ ){{0,3}}(?:{send})[a-z]* | (?:{send})[a-z]* (?:[a-z]+ ){{0,3}}(?:{keys}) "
        )
        upi = "|".join(map(re.escape, scam["upi"]))
        self._upi_id_re = re.compile(rf"[a-z0-9._-]+@(?:{upi})(?![a-z0-9])")  # "rooms@ybl"

        self._spam_phrases = _PhraseSet(map(_phrase_form, _read_list(data_dir / "spam_phrases.txt")))
        combinations = _read_sections(data_dir / "spam_combinations.txt")
        self._spam_jobs, self._spam_fees = (_PhraseSet(map(_phrase_form, combinations[name])) for name in ("job", "fee"))
        # Round 5: an offer that is adult only in a massage or with women on offer.
        self._adult_context, self._adult_offers = (
            _PhraseSet(map(_phrase_form, combinations[name])) for name in ("adult_context", "adult_offer")
        )
        self._allowlist_re = _whole_words(_read_list(data_dir / "allowlist.txt"), re.IGNORECASE)

        # profanity_en, _hi, _mr and (round 3) _south: every profanity_*.txt of the data dir.
        profanity = [entry for path in sorted(data_dir.glob("profanity_*.txt")) for entry in _read_list(path)]
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

    # --- links ---

    def _has_link(self, post):
        text = post.lower
        if ("/" in text and _SCHEME_RE.search(text)) or ("www" in text and _WWW_RE.search(text)):
            return True
        if self._host_re.search(text) or self._has_handle(post):
            return True
        if "." in text and any(self._is_domain(match, post.text) for match in _HOST_RE.finditer(post.text)):
            return True
        typed = post.text
        if "डॉट" in typed or "डाट" in typed:  # round 3: "punerooms डॉट कॉम"
            typed = typed.replace("डॉट", " dot ").replace("डाट", " dot ").replace("कॉम", "com")
        if any(self._is_obfuscated_domain(match) for match in _OBFUSCATED_HOST_RE.finditer(typed)):
            return True
        if "dot" in text and _GLUED_DOT_HOST_RE.search(text):
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
        """'teligram' -> 'telegram', 'insta gram' -> 'instagram': app names as their apps."""
        if any(prefix in lower for prefix in ("tele", "teli", "insta", "snap", "whats", "wats")):
            lower = _SPACED_PLATFORM_RE.sub(r"\1\2", lower)
        if "@" in lower or "$" in lower or any(map(str.isdigit, lower)):
            lower = _LEET_WORD_RE.sub(self._leet_platform, lower)
        lower = _LETTER_BY_LETTER_RE.sub(self._spelled_platform, lower)
        return _PLATFORM_CANDIDATE_RE.sub(self._platform_spelling, lower)

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
        if not self._platform_any_re.search(text):
            return False  # every check below needs an app named; most posts name none
        if any(_starts_word(text, match.start()) for match in self._profile_id_re.finditer(text)):
            return True
        if "@" in text and self._platform_spaced_at_re.search(text):
            return True
        if self._searched_name_re.search(text):
            return True
        if len(text) == len(post.text):  # offsets in the canonical text are those of the text as typed
            for match in self._platform_name_re.finditer(text):
                if _TYPED_NAME_RE.match(post.text, match.end()):
                    return True
        if " . " in text:  # round 4: "Snapchat: guwahati . rentals"
            text = _SPACED_DOT_RE.sub(".", text)
        for match in self._platform_token_re.finditer(text):
            if self._is_handle(match["token"], named=bool(match["colon"] or match["colon_id"])):
                return True
        if any(self._is_handle(match["token"], named=True) for match in self._token_platform_re.finditer(text)):
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
        if sum(map(str.isdigit, post.lower)) < 3 and not (post.words & self._number_word_shapes):
            return False  # no digits to speak of and no spelled ones: most posts
        # "first half 98290 ... (anything) ... second half 41573": counted halves join
        # however far apart they are.
        halves = _COUNTED_PART_RE.findall(post.lower)
        # Either order: "last four digits 2345, first six 984501".
        if len(halves) >= 2 and any(
            self._is_dialable(first + second, exact=True) or self._is_dialable(second + first, exact=True)
            for first, second in zip(halves, halves[1:])
        ):
            return True
        masked = self._mask_non_phones(post.lower)
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
        if any(
            self._is_phone(run.parts, run.word_split, disguised) or self._is_attempt(run, text)
            for run in self._runs(text)
        ):
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
        if _REASSEMBLE_RE.search(text) and self._joined_numbers_are_phone(text):
            return True
        # Round 3: "54321 05489, reverse it", "number ulta likha hai": a number typed
        # backwards, when the post says so.
        if _REVERSED_RE.search(text):
            return any(self._is_dialable("".join(run.parts)[::-1], exact=True) for run in self._runs(text))
        return False

    def _mask_non_phones(self, text):
        """The text with everything that is a number but not a phone number masked out:
        dates, identifiers (RERA), pincodes, amounts of money and quantities."""
        text = _DATE_RE.sub(_hide_date, text)
        if any(map(str.isalpha, text)):
            text = self._id_re.sub(_MASK, text)
            text = self._glued_re.sub(self._unglue, text)
        text = _PINCODE_RE.sub(_MASK, text)
        text = _AMOUNT_RE.sub(_MASK, text)
        text = self._quantity_re.sub(_MASK, text)  # "2 months", "5 lakh", "do mahine"
        text = _DIGIT_COUNT_RE.sub(" then ", text)  # "first five digits 98450 and last five 31277"
        text = _LONE_LOOKALIKE_RE.sub(lambda m: m[1] + m[2].translate(_DIGIT_LOOKALIKES), text)
        text = _BRACKETED_JUNK_RE.sub(" ", text)
        text = _GLUED_TOKEN_RE.sub(self._unglue_spelling, text)
        if self._repeater_word_re.search(text):
            text = self._repeater_re.sub(lambda m: " ".join([m[2]] * _REPEATERS[m[1]]), text)
        return text

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
        """Whether consecutive numbers of ``text``, joined, make exactly one mobile number."""
        numbers = [part for run in self._runs(text) for part in run.parts]
        for start in range(len(numbers)):
            joined = ""
            for number in numbers[start:]:
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
            if run.parts and _breaks(gap) and not spelled_on:
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
                run.last_was_spelled = True
                run.spelled += 1
                if run.last_was_tens and not tens and len(digits) == 1 and not run.word_pending:
                    run.parts[-1] = run.parts[-1][0] + digits  # "ninety eight" is 98
                    run.last_was_tens = False
                    continue
            if run.word_pending:
                run.word_split, run.word_pending = True, False
            run.parts.append(digits)
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

    def _is_scam(self, post):
        phrases, words = post.phrases, post.words
        if self._scam_phrases.found_in(phrases, words):
            return True
        if "@" in post.lower and self._upi_id_re.search(post.lower) and self._asks_for_money(phrases, words):
            return True
        if self._scam_warnings.found_in(phrases, words):
            return False  # "Beware of fake owners asking for a token before the visit"
        if self._scam_demands.found_in(phrases, words):
            return True  # round 4: "share the OTP you receive", "deposit in Amazon gift cards"
        if self._scam_score(phrases, words) >= self.config.scam_score_threshold:
            return True
        if not (self._scam_remote.found_in(phrases, words) or self._scam_away.found_in(phrases, words)):
            return False
        # Round 5: an owner away who asks for a token on an app is an honest NRI owner when
        # someone shows the flat ("caretaker shows the flat any evening").
        shown = self._scam_shown.found_in(phrases, words)
        return any(self._is_scam_sentence(f" {sentence} ", shown) for sentence in _SENTENCE_END_RE.split(phrases))

    def _scam_score(self, phrases, words):
        """Round 3: evidence of an advance-fee scam across the whole post, in any language
        (scam_phrases.txt explains the weights). 0 unless money or a payment channel is
        asked for."""
        # An amount next to an app asks for money too: "pehle 2000 GPay karo".
        money = self._asks_for_money(phrases, words) or self._amount_app_re.search(phrases) is not None
        channel = self._scam_apps.found_in(phrases, words) or self._scam_channel.found_in(phrases, words)
        if not (money or channel):
            return 0
        score = money + channel
        away = self._scam_away.found_in(phrases, words) or self._scam_identity.found_in(phrases, words)
        hook = self._scam_hook.found_in(phrases, words)
        score += away + self._scam_documents.found_in(phrases, words)
        remote = (
            self._keys_sent_re.search(phrases) is not None
            or self._scam_remote.found_in(phrases, words)
            or self._scam_no_meet.found_in(phrases, words)
            or self._scam_prepay.found_in(phrases, words)
        )
        remote = remote or _VISIT_AFTER_PAYING_RE.search(phrases) is not None
        # Round 5: a race to pay ("transfer deposit today", "before someone else does")
        # with a refund promised or the owner away keeps the room from view too, unless
        # a visit is offered.
        remote = remote or (
            (hook or away)
            and self._scam_rush.found_in(phrases, words)
            and not self._scam_shown.found_in(phrases, words)
        )
        collect = self._scam_collect.found_in(phrases, words)
        if not (remote or collect):
            # Money on an app, an owner away and a room blocked is also an honest NRI
            # owner's post: a scam needs the room kept from view or a collect request.
            return 0
        score += 2 * remote + 2 * collect
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
        return self._scam_money.found_in(phrases, words) or self._pay_amount_re.search(phrases) is not None

    def _has_spam_phrase(self, post):
        if self._spam_phrases.found_in(post.phrases, post.words):
            return True
        # Round 3: a job that costs a fee to join.
        if self._spam_jobs.found_in(post.phrases, post.words) and self._spam_fees.found_in(post.phrases, post.words):
            return True
        return self._adult_offers.found_in(post.phrases, post.words) and self._adult_context.found_in(
            post.phrases, post.words
        )

    def _has_profanity(self, post):
        if self._abusive_phrases.found_in(post.phrases, post.words):
            return True
        if any(self._is_abusive(word) for word in _word_candidates(self._without_names(post.allowed))):
            return True
        if any(mark in post.lower for mark in "*#@$%") and _MASKED_THREAT_RE.search(post.lower):
            return True
        if _OTHER_INDIC_RE.search(post.text) and self._has_folded_abuse(post):
            return True
        # A compound split in two: "madar chod", "behen chod".
        words = [word for word in post.phrases.split() if len(word) >= 3 and word.isalpha()]
        return any(self._is_abusive(first + second, typos=False) for first, second in zip(words, words[1:]))

    def _without_names(self, text):
        """Round 5: 'Lund University', 'Randi Zuckerberg': a word of name_words.txt typed
        Capitalised next to another Capitalised word of the same sentence is a name."""
        if not self._name_word_re.search(text):
            return text
        return self._name_word_re.sub(lambda match: " " if _is_proper_name(text, match) else match.group(), text)

    def _has_folded_abuse(self, post):
        """Round 4: abuse in another Indic script, read in Devanagari (see _TO_DEVANAGARI)."""
        folded = post.allowed.translate(_TO_DEVANAGARI)
        if self._abusive_phrases.found_in(_phrase_form(folded)):
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
            return _ends(word) in self._abusive_ends and self._matches(word, typed, typos)
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
        return self._matches(word, typed, typos)

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
        upper = sum(map(str.isupper, post.text))
        letters = upper + sum(map(str.islower, post.text))
        if letters < self.config.min_letters_for_caps or upper <= self.config.max_caps_ratio * letters:
            return False
        return not self._is_headline(post)

    def _is_headline(self, post):
        """'SPACIOUS 3BHK IN BANJARA HILLS FOR RENT': one short line in capitals that
        describes a home is a title, as on a classifieds page. One that urges ("CALL
        NOW", "BEST PRICE"), rants ("CHEAT", "WHY") or exclaims is shouting, and so is
        anything longer than a headline."""
        if "\n" in post.text.strip() or "!" in post.text:
            return False
        words = len(post.text.split())
        if words > _HEADLINE_MAX_WORDS:
            facts = _HEADLINE_SEPARATOR_RE.split(post.text)
            if words > _LISTED_HEADLINE_MAX_WORDS or any(len(fact.split()) > _HEADLINE_MAX_WORDS for fact in facts):
                return False
        if not self._shouting_words.found_in(post.phrases, post.words):
            return True
        # Round 5: a request may say how urgent it is ("URGENT: NEED 1BHK IN WAKAD").
        if not self._request_words.found_in(post.phrases, post.words):
            return False
        phrases = self._urgency_re.sub(" ", post.phrases)
        return not self._shouting_words.found_in(phrases)

    def _is_repetitive(self, post):
        # Digits and layout characters may run long: "₹10000000", "......", "-----".
        if any(match[1] not in "0123456789.-_=*~#" for match in self._char_run_re.finditer(post.lower)):
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
