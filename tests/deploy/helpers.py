"""Reading the deployment files the way their tools would, for cross-checks."""

import ast
import fnmatch
import json
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEPLOY = BASE_DIR / "deploy"
SETTINGS = BASE_DIR / "kirb_project" / "settings.py"

# Readers in kirb_project/settings.py whose first argument is an environment variable.
_ENV_READERS = {"env_str", "env_bool", "env_int", "env_float", "env_list", "env_int_tuple", "_parse_networks"}


def kirb_env_vars():
    """Every environment variable Kirb's settings read: the env_* calls, plus KIRB_<key>
    for each key of KIRB_DEFAULTS (core/env.py with_env_overrides)."""
    tree = ast.parse(SETTINGS.read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ENV_READERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == "KIRB_DEFAULTS" for target in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            names.update(f"KIRB_{key.value}" for key in node.value.keys if isinstance(key, ast.Constant))
    return names


# --- PromQL ------------------------------------------------------------------------------

_PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "inf", "nan", "atan2",
}
# Series Prometheus makes itself rather than scraping them.
SYNTHETIC_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS", "ALERTS_FOR_STATE"}
# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = {"job", "instance"}


def _strip_promql(expr):
    expr = re.sub(r"\$\{?\w+\}?", "", expr)  # Grafana variables ($__rate_interval)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
    return expr


def promql_metric_names(expr):
    """Metric names an expression selects (not functions, keywords or label names)."""
    expr = _strip_promql(expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if expr[match.end():].lstrip().startswith("("):
            continue  # a function
        if match.group().lower() in _PROMQL_KEYWORDS:
            continue
        names.add(match.group())
    return names


def promql_label_matchers(expr):
    """``(metric, label)`` for every ``metric{label=...}`` in the expression."""
    pairs = set()
    for metric, matchers in re.findall(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}", _strip_promql(expr)):
        for label in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers):
            pairs.add((metric, label))
    return pairs


def promql_grouping_labels(expr):
    """``(metric names, labels)`` for every ``sum by (labels) (...)`` in the expression."""
    expr = _strip_promql(expr)
    groups = []
    for match in re.finditer(r"\bby\s*\(([^)]*)\)", expr):
        labels = {label.strip() for label in match.group(1).split(",") if label.strip()}
        # The aggregated expression: the balanced parentheses after the by clause.
        rest = expr[match.end():].lstrip()
        depth, end = 0, 0
        for index, char in enumerate(rest):
            depth += char == "("
            depth -= char == ")"
            if depth == 0 and char == ")":
                end = index + 1
                break
        groups.append((promql_metric_names(rest[:end]), labels))
    return groups


def dashboard_expressions(dashboard):
    expressions = []

    def walk(panels):
        for panel in panels:
            expressions.extend(target["expr"] for target in panel.get("targets", []) if target.get("expr"))
            walk(panel.get("panels", []))

    walk(dashboard.get("panels", []))
    return expressions


def load_dashboards():
    return {path.name: json.loads(path.read_text()) for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))}


def rule_expressions(rules):
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


# --- Docker ------------------------------------------------------------------------------


def dockerfile_instructions(path=BASE_DIR / "Dockerfile"):
    """``[(INSTRUCTION, arguments)]``, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def dockerignored(relative_path, path=BASE_DIR / ".dockerignore"):
    """Whether the build context leaves ``relative_path`` out (last matching rule wins)."""
    ignored = False
    for line in path.read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule[1:] if negate else rule
        pattern = pattern.strip("/")
        parts = Path(relative_path).parts
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.replace("**/", "")) for prefix in prefixes):
            ignored = not negate
    return ignored
