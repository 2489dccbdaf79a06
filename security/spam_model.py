"""The review tier's statistical layer (round 9): naive Bayes over what a post is made of.

``ContentFilter.review`` holds a post that ``check`` passed for a moderator when, among
other signals, this model scores it above a threshold. A false positive here delays an
honest post (a moderator approves it); it never refuses one, which is why a model that
failed as a *refusing* rule in round 4 (docs/CONTENT_FILTER.md, "Round 4") can serve as
a *hold* signal.

The model is a Bernoulli naive Bayes of the features a post has (its words, pairs of
words and the character 3-, 4- and 5-grams of its words, digits read as their count),
scored as the sum of the log-odds of the features present, divided by the square root
of their number so long and short posts compare. Pure Python, no dependency; the
weights are a JSON file in security/data written by ``manage.py filter_train`` from the
tuning corpora, deterministic (same corpora, same file), loaded once per process.
"""

import json
import math
import re
from collections import Counter
from functools import lru_cache
from itertools import repeat
from pathlib import Path

MODEL_PATH = Path(__file__).resolve().parent / "data" / "spam_model.json"

# Words (letters and digits of every script), the symbols spam leans on, and emoji.
_TOKEN_RE = re.compile(r"[^\W_]+|[₹$€£@#%&*!?]|[\U0001F300-\U0001FAFF\u2600-\u27bf]")
_CHAR_GRAMS = (3, 4, 5)

# Training: Laplace smoothing, features seen fewer times than this are dropped, and so
# are features whose weight is too small to matter (a smaller file, the same scores to
# within noise). See filter_train.
ALPHA = 1.0
MIN_COUNT = 3
MIN_WEIGHT = 0.5


def features(text):
    """The set of features of ``text``, which is already normalised (content_filter.normalise)."""
    tokens = []
    for token in _TOKEN_RE.findall(text.lower()):
        if token.isdigit():
            # A number is its length only: "9000" and "8500" are one feature, and no
            # phone number or price is ever learnt (or stored in the weights file).
            token = f"<{min(len(token), 6)}>"
        tokens.append(token)
    found = {"w:" + token for token in tokens}
    found.update(f"b:{first}_{second}" for first, second in zip(tokens, tokens[1:]))
    for token in tokens:
        if token[0] != "<":
            found.update(_char_grams(token))
    return found


@lru_cache(maxsize=65536)
def _char_grams(token):
    """The character n-grams of a word (with a space either side), worked out once per
    word: most words of a post have been seen before."""
    padded = f" {token} "
    return tuple(
        "c:" + padded[start : start + size] for size in _CHAR_GRAMS for start in range(len(padded) - size + 1)
    )


def latin_share(text):
    """The share of a text's letters that are ASCII (1.0 for a text with no letter)."""
    if text.isascii():
        return 1.0
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 1.0
    return sum(char.isascii() for char in letters) / len(letters)


class FeatureCounts:
    """How many clean and spam posts have each feature; added and subtracted per corpus,
    so leave-one-corpus-out models cost one count each."""

    def __init__(self):
        self.features = (Counter(), Counter())  # (clean, spam)
        self.posts = [0, 0]

    def add(self, posts, label):
        for post_features in posts:
            self.features[label].update(post_features)
            self.posts[label] += 1
        return self

    def __add__(self, other):
        total = FeatureCounts()
        for label in (0, 1):
            total.features[label].update(self.features[label])
            total.features[label].update(other.features[label])
            total.posts[label] = self.posts[label] + other.posts[label]
        return total

    def __sub__(self, other):
        rest = FeatureCounts()
        for label in (0, 1):
            rest.features[label].update(self.features[label])
            rest.features[label].subtract(other.features[label])
            rest.posts[label] = self.posts[label] - other.posts[label]
        return rest


def train(counts, alpha=ALPHA, min_count=MIN_COUNT, min_weight=MIN_WEIGHT):
    """{feature: weight}: the log-odds of spam given the feature, for features seen at
    least ``min_count`` times and weighing at least ``min_weight`` either way."""
    clean, spam = counts.features
    clean_posts, spam_posts = counts.posts
    weights = {}
    for feature in set(clean) | set(spam):
        in_spam, in_clean = spam[feature], clean[feature]
        if in_spam + in_clean < min_count:
            continue
        weight = math.log(
            ((in_spam + alpha) / (spam_posts + 2 * alpha)) / ((in_clean + alpha) / (clean_posts + 2 * alpha))
        )
        if abs(weight) >= min_weight:
            weights[feature] = weight
    return weights


def score(weights, post_features):
    """The model's score of a post's features: higher is more like spam."""
    return sum(map(weights.get, post_features, repeat(0.0))) / math.sqrt(len(post_features) + 1)


def save(weights, path, metadata):
    """Write the weights (rounded, sorted: the same corpora give the same file)."""
    document = {"metadata": metadata, "weights": {feature: round(weights[feature], 3) for feature in sorted(weights)}}
    Path(path).write_text(json.dumps(document, ensure_ascii=False, sort_keys=True, indent=0) + "\n", encoding="utf-8")


def load(path=MODEL_PATH):
    """The weights of a model file, or None when there is none (review then has no model signal)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return document["weights"]
