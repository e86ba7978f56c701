"""What the Rust sources say, read with regexes: the environment variables a
binary reads and the defaults the code states next to them, constants, the
routes of an axum router, the authorizer's default ROUTE_SCOPES.

Shared by the contract tests that derive their expectations from the code
rather than from a copy: infra/tests/test_contract.py (the HCL),
infra/tests/test_reference.py (docs/reference.md and the docs' settings
tables) and loadtest/tests/test_tollgate_defaults.py (the load test's copies).
Standard library only: the load test's venv has no HCL parser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def rust_files(*paths: str) -> list[Path]:
    """The .rs files of each path (a file, a directory searched recursively,
    or a glob such as `issuer/src/routes*`), in a stable order."""
    files: list[Path] = []
    for path in paths:
        matches = sorted(ROOT.glob(path)) if any(c in path for c in "*?[") else [ROOT / path]
        for p in matches:
            if p.is_dir():
                files.extend(sorted(p.rglob("*.rs")))
            elif p.suffix == ".rs" and p.is_file():
                files.append(p)
    assert files, paths
    return files


def read(files: list[Path]) -> str:
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def strip_tests(source: str) -> str:
    """The source without `#[cfg(test)]` modules (unit tests are not the binary)."""
    return re.split(r"#\[cfg\(test\)\]", source)[0]


def env_names(source: str) -> set[str]:
    """Environment variable names a source reads: upper-case string literals
    with an underscore passed to an env lookup or a settings helper. Not
    those of `env!(` (compile time) nor of `.env(` (set for a child process)."""
    names = set()
    for m in re.finditer(r"\"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\"", source):
        before = source[max(0, m.start() - 60):m.start()]
        if re.search(r"\benv!\(\s*$", before) or re.search(r"\.env\(\s*$", before):
            continue
        names.add(m.group(1))
    return names


# Sources each Lambda function's binary is built from (its crate, minus unit tests).
FUNCTION_SOURCES = {
    # DPoP proofs and their replay store (dpop), JWKs (jose): linked in.
    "authorizer": ["authorizer/src", "telemetry/src", "dpop/src", "jose/src"],
    "issuer": ["issuer/src", "telemetry/src", "identity/src", "dpop/src", "jose/src"],
    # The rotation binary: its main, the rotation steps and the secret store.
    "issuer-rotation": ["issuer/src/bin/issuer-rotation.rs", "issuer/src/rotation.rs",
                        "issuer/src/keys/secrets_manager.rs", "issuer/src/config.rs", "telemetry/src"],
    "backend": ["backend/src", "telemetry/src", "identity/src"],
}
# The tollgate CLI and local stack's own sources: the package in src/ (and
# the Lambda host once it is a crate of its own) and the CloudWatch sink
# `serve --metrics cloudwatch` uses. The issuer, authorizer and books crates
# it embeds read their own variables (FUNCTION_SOURCES).
# The stack chooses its stores through the issuer's one place for it.
TOLLGATE_SOURCES = ["src", "lambda-host/src", "telemetry-cloudwatch/src", "issuer/src/stores.rs"]


def function_source(fn: str) -> str:
    """The source of a Lambda function's binary, without unit tests."""
    files = rust_files(*FUNCTION_SOURCES[fn])
    if fn == "issuer-rotation":
        # Of config.rs, all but the issuer service's own settings.
        config = strip_tests((ROOT / "issuer/src/config.rs").read_text(encoding="utf-8"))
        rotation_config = re.sub(r"\nimpl IssuerConfig \{.*?\n\}\n", "\n", config, flags=re.S)
        assert rotation_config != config, "impl IssuerConfig not found in issuer/src/config.rs"
        files = [f for f in files if f.name != "config.rs" or "issuer" not in str(f)]
        return "\n".join([*(strip_tests(f.read_text(encoding="utf-8")) for f in files), rotation_config])
    return "\n".join(strip_tests(f.read_text(encoding="utf-8")) for f in files)


def tollgate_source() -> str:
    """The tollgate CLI and local stack's own source, without unit tests."""
    present = [p for p in TOLLGATE_SOURCES if (ROOT / p).exists()]
    return "\n".join(strip_tests(f.read_text(encoding="utf-8")) for f in rust_files(*present))


def binary_source(binary: str) -> str:
    """A binary's own source: a Lambda function's, or `tollgate`'s."""
    return tollgate_source() if binary == "tollgate" else function_source(binary)


# ---------------------------------------------------------------- values

def rust_value(expression: str, source: str):
    """The value of a constant expression of `source`: a whole number (`24 *
    3600`, `4_096`), a string literal, a `Duration::from_secs`/`from_millis`
    (in seconds), or the name of a `const` of `source` with such a value."""
    expression = expression.strip()
    string = re.fullmatch(r'"([^"\\]*)"', expression)
    if string:
        return string.group(1)
    duration = re.fullmatch(r"(?:std::time::)?Duration::from_(secs|millis)\((.+)\)", expression, re.S)
    if duration:
        value = rust_value(duration.group(2), source)
        return value if duration.group(1) == "secs" else value / 1000
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", expression):
        return rust_constant(source, expression)
    arithmetic = re.sub(r"(?<=\d)_(?=\d)", "", expression)
    arithmetic = re.sub(r"\b(\d+)(?:u64|u32|usize)\b", r"\1", arithmetic)
    arithmetic = re.sub(r"\b[A-Z][A-Z0-9_]*\b", lambda m: str(rust_constant(source, m.group(0))), arithmetic)
    if re.fullmatch(r"[\d\s*+\-()]+", arithmetic):
        return int(eval(arithmetic, {"__builtins__": {}}))  # digits and + - * ( ) only
    raise ValueError(f"not a constant expression: {expression!r}")


def rust_constant(source: str, name: str):
    """The value of `const NAME: T = ...;` in `source` (see rust_value)."""
    found = re.search(rf"\bconst {name}\s*:\s*[^=]+=\s*(.+?);", source, re.S)
    if not found:
        raise KeyError(f"const {name} not found")
    return rust_value(found.group(1), source)


# A settings read whose default stands next to the name: `number("NAME", 30)`,
# `number_in(NAME_VAR, DEFAULT, 1..=3600)`, the authorizer's `capped("NAME", 10)`.
NUMBER_READ = re.compile(r"\b(?:number_in|number|capped)\(\s*(\"[A-Z][A-Z0-9_]*\"|[A-Z][A-Z0-9_]*)\s*,\s*([^,()]+?)\s*[,)]")
# `text("NAME").as_deref().unwrap_or("RS256")`, `.text("NAME").unwrap_or_else(||
# "/tmp/x".to_owned())`, the local stack's `env("NAME").unwrap_or_else(|| CONST.to_owned())`.
TEXT_READ = re.compile(r"\b(?:text|env)\(\s*\"([A-Z][A-Z0-9_]*)\"\s*\)\s*(?:\.as_deref\(\)\s*)?"
                       r"\.unwrap_or(?:_else)?\(\s*(?:\|\|\s*)?(\"[^\"]*\"|[A-Z][A-Z0-9_]*)")
# `flag("NAME")`: false when unset (environment::Settings::flag).
FLAG_READ = re.compile(r"\bflag\(\s*\"([A-Z][A-Z0-9_]*)\"\s*\)")


def setting_defaults(source: str) -> dict[str, object]:
    """{variable: default} of every settings read in `source` whose default
    is stated in the call: numbers (Duration constants in seconds), texts
    with an `unwrap_or` literal, flags (false). A name read with two
    different defaults is an error."""
    found: dict[str, object] = {}

    def add(name, value):
        assert found.get(name, value) == value, f"{name}: defaults {found[name]!r} and {value!r}"
        found[name] = value

    for m in NUMBER_READ.finditer(source):
        name = rust_value(m.group(1), source)
        add(name, rust_value(m.group(2), source))
    for m in TEXT_READ.finditer(source):
        add(m.group(1), rust_value(m.group(2), source))
    for m in FLAG_READ.finditer(source):
        add(m.group(1), False)
    return found


# ---------------------------------------------------------------- routes

def axum_routes(*paths: str) -> list[tuple[str, str]]:
    """(METHOD, path) of every `.route("/path", get(a).post(b))` in the files
    of `paths` (globs allowed: `issuer/src/routes*` is routes.rs or routes/)."""
    source = read(rust_files(*paths))
    methods = r"(?:get|post|put|patch|delete|head|options)\([a-z_]+\)"
    routes = []
    for route, handlers in re.findall(rf'\.route\(\s*"([^"]+)",\s*((?:{methods}\s*\.?\s*)+)', source):
        for method in re.findall(r"([a-z]+)\([a-z_]+\)", handlers):
            routes.append((method.upper(), route))
    assert routes, paths
    return routes


def default_route_scopes() -> list[tuple[str, str, str]]:
    """The demo API's ROUTE_SCOPES (infra/api-routes.json): the authorizer
    binary's default and what the root module passes to the authorizer:
    (METHOD, path, scopes)."""
    table = json.loads((ROOT / "infra/api-routes.json").read_text(encoding="utf-8"))
    routes = [(*key.split(" ", 1), scopes) for key, scopes in table["route_scopes"].items()]
    assert routes
    return routes


