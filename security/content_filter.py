"""Keeps links, phone numbers, spam and abuse out of the text of posts.

Posts are short, public and anonymous, and the poster's phone number sits behind a
click-to-reveal button: a number or a contact link typed into the text defeats the one
privacy feature the board has, and is what scammers and spammers rely on.

The rules are plain and deterministic. A rejection names a rule and gives the poster a
fixed sentence to act on; it never quotes the post, which could copy a phone number
into a page or a log. Word lists live in ``security/data/`` so moderators can extend
them without touching code. Thresholds come from ``FilterConfig``.
"""

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class FilterConfig:
    max_caps_ratio: float  # share of upper-case letters above which a post is "shouting"
    min_letters_for_caps: int  # the caps rule only applies to texts with at least this many letters
    max_repeated_char_run: int  # "!!!!!!!!!" or "heyyyyyyyy" beyond this run length
    max_repeated_word_share: float  # one word making up more than this share of the words...
    min_words_for_repetition: int  # ...in texts with at least this many words
    min_phone_digits: int  # a run of digits this long is a phone number


DEFAULT_CONFIG = FilterConfig(
    # Real posts are full of short capitals (2BHK, PG, HSR, AC, "NO BROKER", "URGENT");
    # the clean posts in tests/data peak at 0.33. Shouting posts are at 0.9 and above.
    max_caps_ratio=0.7,
    # Below this, "URGENT 1BHK HSR" is a headline, not shouting.
    min_letters_for_caps=20,
    # People stretch a word a little ("pleaseee", "!!!"); six of one character is noise.
    # Digits and layout runs ("₹10000000", "......", "-----") never count.
    max_repeated_char_run=5,
    # No word makes up more than 0.29 of a clean post in tests/data; "room room room
    # room" is all one word, "cheap cheap cheap cheap flat available" 0.67.
    max_repeated_word_share=0.4,
    # In fewer words a share means little: "Room room available" is a typo, not spam.
    min_words_for_repetition=5,
    # Indian mobiles have 10 digits, landlines 10-11 with the STD code. Pincodes (6),
    # flat numbers, rents and years are shorter, so they are never phones by length.
    min_phone_digits=10,
)


@dataclass(frozen=True)
class Verdict:
    rule: str  # "link", "phone_in_text", "spam_phrase", "profanity", "caps" or "repetition"
    message: str  # a sentence for the poster; never quotes the post


MESSAGES = {
    "link": "Links and contact handles are not allowed in posts.",
    "phone_in_text": (
        "Please remove the phone number from the text: people can reveal your number with the button instead."
    ),
    "spam_phrase": "This post looks like spam or a scam, so it can't be published.",
    "profanity": "Please keep posts free of abusive language.",
    "caps": "Please don't write the post mostly in capital letters.",
    "repetition": "Please don't repeat the same letters, symbols or words over and over.",
}


# --- Normalisation -----------------------------------------------------------------

# Characters that only hide things: soft hyphen, zero-width spaces and joiners, the
# emoji variation selectors and the keycap mark that turns 9 into 9️⃣.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u20e3"))
# Cyrillic letters that look Latin: "fuсk" with a Cyrillic с.
_LOOKALIKES = str.maketrans("аеорсхуіјѕԁАВЕКМНОРСТХ", "aeopcxyijsdABEKMHOPCTX")
# Digits of Indian and Arabic scripts ("९८४५" is 9845). NFKD already folds
# fullwidth (９), circled (⑨) and bold maths (𝟗) digits and letters.
_SCRIPT_DIGITS = {
    code: str(unicodedata.decimal(chr(code)))
    for code in range(0x0660, 0x0DF0)
    if unicodedata.decimal(chr(code), None) is not None
}
_FOLD_TABLE = {**_INVISIBLE, **_LOOKALIKES, **_SCRIPT_DIGITS}
_LATIN_ACCENTS_RE = re.compile("[\u0300-\u036f]")


def fold(text):
    """The text as it reads: compatibility forms, accents, invisibles and lookalikes undone.

    Case is kept: the caps rule and a few word rules need it.
    """
    text = _LATIN_ACCENTS_RE.sub("", unicodedata.normalize("NFKD", text)).translate(_FOLD_TABLE)
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
_WORDS_AND_CLAUSE_ENDS_RE = re.compile(r"[\w\u0900-\u0dff]+|[.,;:!?|]+(?=\s|$)|\n")


def _phrase_form(text):
    """'Earn-money  FROM hooome! ok' -> ' earn money from home ! ok ', for whole-word search."""
    return " " + " ".join(_WORDS_AND_CLAUSE_ENDS_RE.findall(_squeeze(text.lower()))) + " "


def _read_list(path):
    """One entry a line; '#' starts a comment; blank lines are ignored. Entries are folded like posts."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            entries.append(fold(line).lower())
    return entries


# --- Links -------------------------------------------------------------------------

# How people write the dot of a domain to get past a filter: "x.com", "x (.) com",
# "x[dot]com", "x dot com".
_DOT = r"(?:\.|\s*[\[(]\s*(?:\.|dot)\s*[\])]\s*|\s+dot\s+)"
# TLDs that are everyday words, so a written-out "dot in" / "dot me" is not a domain.
_WORD_TLDS = {"in", "me"}
_SCHEME_RE = re.compile(r"h\s*t\s*t\s*p\s*s?\s*:?\s*/\s*/")
_WWW_RE = re.compile(r"(?<![a-z0-9])www(?![a-z0-9])")


def _starts_word(text, index):
    return index == 0 or not text[index - 1].isalnum()


def _host_pattern(host):
    """'bit.ly' -> also 'bit . ly', 'bit dot ly': these names are links however they are spaced."""
    return rf"(?:\s*\.\s*|{_DOT})".join(re.escape(part) for part in host.split("."))


# --- Phone numbers -----------------------------------------------------------------

# Dates are where short numbers sit together with dots and dashes ("from 01.12.2026
# 15000 rent"). Valid ones are taken out before the parts of numbers are joined.
_DATE_RE = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](?:\d{4}|\d{2})\b|\b\d{4}[./-](\d{1,2})[./-](\d{1,2})\b")
# A number, with letters standing in for digits (98O45, 9l876, 99I00) and commas
# as thousands separators (1,50,000).
_NUMBER = r"[0-9oil]*[0-9][0-9oil]*(?:,[0-9]{2,3}(?![0-9]))*"
_DIGIT_LOOKALIKES = str.maketrans("oil", "011")
# What may sit between two parts of one phone number: "98 45", "98-456", "98.456",
# "(080) 2345", "+91 - 98456", "98456,78901". Not ", " (a list), "/" (dates and
# ranges) or ". " (a new sentence).
_PHONE_GAP_RE = re.compile(r"[ \t]{0,2}[-–—_.,()+]{0,2}[ \t]{0,2}")
_REPEATERS = {"double": 2, "triple": 3}


def _hide_date(match):
    first, second = (int(part) for part in match.groups() if part)
    if (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31):
        return " # "
    return match.group()


def _joins(gap):
    return _PHONE_GAP_RE.fullmatch(gap) is not None and not gap.startswith((". ", ", "))


def _looks_like_amounts(run):
    """'15000 30000', '12500-18000', '6,999 7,999': rent and deposit, a budget range, a price list.

    Each part is written with a thousands comma or is a round (..00) or shop (..99) price.
    """
    return len(run) > 1 and all("," in part or (len(part) >= 3 and part.endswith(("00", "99"))) for part in run)


# --- Profanity ---------------------------------------------------------------------

_EDGE_PUNCTUATION = "\"'`.,;:!?()[]{}<>-_*~…|/\\#=+"
# Separators inside a word: f.u.c.k, mother-fucker, bc,mc.
_IN_WORD_SEPARATORS_RE = re.compile(r"[.\-_,:;|/\\'`~+=]")
_LEET_SYMBOLS = str.maketrans("@$!", "asi")
# Only for words that already have two letters, so flat "A-455" is not "ass".
_LEET_DIGITS = str.maketrans("431057", "aeiost")


def _stretchable(entry):
    """'ass' -> a+s+s+: stretched letters match, but a letter written twice must be there twice."""
    return re.compile("".join(re.escape(char) + "+" for char in entry))


def _word_candidates(text):
    """Every spelling of a word the text could hide abuse in.

    Whole words with separators taken out ("f.u.c.k" -> "fuck"), their parts
    ("bc,mc" -> "bc", "mc") and runs of spaced-out single characters ("f u c k").
    """
    spaced = []
    for chunk in text.split():
        word = chunk.strip(_EDGE_PUNCTUATION)
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

    def __init__(self, text):
        self.text = fold(text)
        self.lower = self.text.lower()

    @cached_property
    def phrases(self):
        return _phrase_form(self.text)


class ContentFilter:
    """Checks the text of a post against the rules in order; the first one that matches wins.

    Build one per process and reuse it: the word lists are read and compiled once.
    """

    def __init__(self, config: FilterConfig, data_dir: Path | None = None):
        self.config = config
        data_dir = Path(data_dir) if data_dir is not None else DATA_DIR

        hosts = _read_list(data_dir / "link_shorteners.txt")
        tlds = "|".join(map(re.escape, _read_list(data_dir / "link_tlds.txt")))
        word_tlds = "|".join(map(re.escape, _read_list(data_dir / "link_word_tlds.txt")))
        platforms = _read_list(data_dir / "contact_platforms.txt")
        self._host_re = re.compile(rf"(?<![\w-])(?:{'|'.join(map(_host_pattern, hosts))})(?![\w-])")
        self._domain_re = re.compile(
            rf"(?<![\w-])[a-z0-9][a-z0-9-]*[a-z0-9](?P<dot>{_DOT})"
            rf"(?:(?P<tld>{tlds})(?![\w-])|(?P<word_tld>{word_tlds})(?=/))",  # "rentnow.online/hyd"
            re.IGNORECASE,
        )
        platform = f"(?:{'|'.join(map(re.escape, platforms))})"
        handle = r"@[a-z_][a-z0-9_.]{2,}"  # not "@ 15k", not "@ Koramangala"
        self._handle_re = re.compile(
            rf"\b{platform}\b[^@\n]{{0,25}}{handle}"  # "telegram pe msg karo @rooms_blr"
            rf"|{handle}[^@\n]{{0,25}}\b{platform}\b"  # "@rooms_blr on telegram"
        )
        # "insta id", "telegram username". The word boundary before is checked in code:
        # a leading \b makes this search several times slower.
        self._profile_id_re = re.compile(rf"{platform}\s*(?:id|user\s*name|handle)\b")

        self._number_words = dict(line.split() for line in _read_list(data_dir / "number_words.txt"))
        spelled = "|".join(map(re.escape, sorted(self._number_words, key=len, reverse=True)))
        self._phone_part_re = re.compile(rf"(?<![a-z0-9])(?:{_NUMBER}|{spelled})(?![a-z0-9])")
        # "double nine" is 99; "double 6,999" is a room for two at 6,999.
        self._repeater_re = re.compile(rf"\b(double|triple)[\s-]+({spelled}|[0-9])(?![\w]|[,.][0-9])")
        self._long_number_re = re.compile(rf"\d{{{config.min_phone_digits},}}")
        units = "|".join(map(re.escape, _read_list(data_dir / "number_units.txt")))
        # Small numbers only: "98456 78901 room" still ends in part of a phone number.
        self._quantity_re = re.compile(rf"(?<![\w.,])(?:\d{{1,3}}(?:\.\d+)?|{spelled})\s?(?:{units})(?![a-z])")

        self._spam_phrases = [_phrase_form(phrase) for phrase in _read_list(data_dir / "spam_phrases.txt")]

        profanity = _read_list(data_dir / "profanity_en.txt") + _read_list(data_dir / "profanity_hi.txt")
        self._abusive_phrases = [_phrase_form(entry) for entry in profanity if " " in entry]
        self._abusive_words = [entry for entry in profanity if " " not in entry]
        self._abusive_by_shape = {}
        for entry in self._abusive_words:
            self._abusive_by_shape.setdefault(_squeeze(entry), []).append((entry, _stretchable(entry)))
        # Stretched letters keep the first and the last, so most words are ruled out
        # by those two alone.
        self._abusive_ends = {(entry[0], entry[-1]) for entry in self._abusive_words}

        self._char_run_re = re.compile(rf"(\S)\1{{{config.max_repeated_char_run},}}")
        self._rules = (
            ("link", self._has_link),
            ("phone_in_text", self._has_phone),
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
        post = _Post(text)
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
        if self._host_re.search(text) or ("@" in text and self._handle_re.search(text)):
            return True
        if any(_starts_word(text, match.start()) for match in self._profile_id_re.finditer(text)):
            return True
        return any(self._is_domain(match) for match in self._domain_re.finditer(post.text))

    @staticmethod
    def _is_domain(match):
        dot, tld = match["dot"], match["tld"] or match["word_tld"]
        if dot == "." and tld[0].isupper() and tld[1:].islower():
            return False  # "Good locality.In case..." is two sentences missing a space
        if dot.strip() == "dot" and tld.lower() in _WORD_TLDS:
            return False  # "polka dot in the curtains"
        return True

    # --- phone numbers ---

    def _has_phone(self, post):
        text = _DATE_RE.sub(_hide_date, post.lower)
        if self._long_number_re.search(text):  # also inside words: "call9845678901"
            return True
        text = self._quantity_re.sub(" # ", text)  # "2 months", "5 lakh", "do mahine"
        if "double" in text or "triple" in text:
            text = self._repeater_re.sub(lambda m: " ".join([m[2]] * _REPEATERS[m[1]]), text)
        # Numbers and spelled digits, joined into one run while only separators sit
        # between them; a word in between ends the run.
        run, end = [], 0
        for match in self._phone_part_re.finditer(text):
            if run and not _joins(text[end : match.start()]):
                if self._is_phone(run):
                    return True
                run = []
            part = match.group()
            run.append(self._number_words.get(part) or part.translate(_DIGIT_LOOKALIKES))
            end = match.end()
        return self._is_phone(run)

    def _is_phone(self, run):
        """A long enough run of digits; one joined from parts must also start like an Indian number.

        Mobiles start with 6-9, "+91" with 9, STD and "0091" prefixes with 0. So
        "2025 2026 2027", "flat 1204 560034" and "rent 14999 30000" stay numbers.
        """
        digits = "".join(run).replace(",", "")
        if len(digits) < self.config.min_phone_digits:
            return False
        return len(run) == 1 or (digits[0] in "06789" and not _looks_like_amounts(run))

    # --- words ---

    def _has_spam_phrase(self, post):
        return any(phrase in post.phrases for phrase in self._spam_phrases)

    def _has_profanity(self, post):
        if any(phrase in post.phrases for phrase in self._abusive_phrases):
            return True
        return any(self._is_abusive(word) for word in _word_candidates(post.text))

    def _is_abusive(self, typed):
        word = typed.lower()
        if word.isalpha():  # most words: no leetspeak to undo
            return (word[0], word[-1]) in self._abusive_ends and self._matches(word, typed)
        word = word.translate(_LEET_SYMBOLS)
        if sum(map(str.isalpha, word)) < 2:
            return False
        word = word.translate(_LEET_DIGITS)
        if "*" in word:  # "f*ck", "f**k", or "f*u*c*k"
            return self._matches(word.replace("*", ""), typed) or self._matches_masked(word)
        return self._matches(word, typed)

    def _matches(self, word, typed):
        shape = _squeeze(word) if _DOUBLED_RE.search(word) else word
        for entry, pattern in self._abusive_by_shape.get(shape, ()):
            # Two letters are an abbreviation only in lower case: "bc", not "B.C. Roy Road".
            if pattern.fullmatch(word) and (len(entry) > 2 or typed.islower()):
                return True
        return False

    def _matches_masked(self, word):
        return any(
            len(entry) == len(word) and all(char in ("*", wanted) for char, wanted in zip(word, entry))
            for entry in self._abusive_words
        )

    # --- shape of the text ---

    def _is_shouting(self, post):
        upper = sum(map(str.isupper, post.text))
        letters = upper + sum(map(str.islower, post.text))
        return letters >= self.config.min_letters_for_caps and upper > self.config.max_caps_ratio * letters

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
        (_, count), = Counter(words).most_common(1)
        return count > self.config.max_repeated_word_share * len(words)
