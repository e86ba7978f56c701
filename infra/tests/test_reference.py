"""docs/reference.md, and every docs table of settings, checked against the code.

Expectations are read from the sources (rust_source.py, the regexes the HCL
contract test uses too; hcl2 for Terraform), never from a copy kept here:

- the environment variables each binary reads, and the defaults the code
  states next to their names (a few by hand: HAND_CHECKED_DEFAULTS);
- the issuer's and the backend's axum routes, the local gateway's own, the
  authorizer's default ROUTE_SCOPES;
- the tollgate CLI's commands, arguments, flags and flag defaults (clap);
- the metric names, units, decisions and reasons each service records;
- the bench ids of benches/benches/verify.rs;
- the inputs and outputs of the authorizer module and the root module;
- the rows of the load test's summary.json.

The settings tables of the task pages (any table with a `default` column
in README.md, docs/*.md and the module's README) are held to the same
code: every name they list must be read by that binary, every default they
state must be the code's. Run by `make infra-check` (part of `make test`).
"""

from __future__ import annotations

import json
import re
from functools import cache

import hcl2
import pytest

from rust_source import (
    ROOT,
    axum_routes,
    binary_source,
    default_route_scopes,
    env_names,
    read,
    rust_files,
    setting_defaults,
    strip_tests,
)

REFERENCE = ROOT / "docs" / "reference.md"
BINARIES = ["authorizer", "issuer", "issuer-rotation", "backend", "tollgate"]
LAMBDAS = ["authorizer", "issuer", "issuer-rotation", "backend"]
ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")

# ---------------------------------------------------------------- Markdown


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.M | re.S)


def sections(text: str, level: int) -> dict[str, str]:
    """{heading: body} of the headings of one level (`##`: 2)."""
    marker = "#" * level + " "
    found: dict[str, str] = {}
    title = None
    for line in prose(text).splitlines(keepends=True):
        if line.startswith(marker):
            title = line[len(marker):].strip()
            found[title] = ""
        elif re.match(rf"#{{1,{level}}} ", line):
            title = None
        elif title is not None:
            found[title] += line
    return found


def section(text: str, *path: str) -> str:
    """The body under `## path[0]`, then `### path[1]`."""
    body = text
    for level, title in enumerate(path, start=2):
        found = sections(body, level)
        assert title in found, f"no {'#' * level} {title} (have {sorted(found)})"
        body = found[title]
    return body


def cells(line: str) -> list[str]:
    """The cells of a table row (`\\|` inside a cell is a literal bar)."""
    parts = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [p.strip().replace("\\|", "|") for p in parts]


def tables(text: str) -> list[dict]:
    """Every pipe table: {"header": [...], "rows": [[...], ...]}."""
    found = []
    lines = prose(text).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip()):
            if i > 0 and lines[i - 1].startswith("|"):
                continue
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(cells(row))
            found.append({"header": [h.lower() for h in cells(line)], "rows": rows})
    return found


def one_table(text: str) -> dict:
    found = tables(text)
    assert len(found) == 1, f"expected one table, found {len(found)}"
    return found[0]


def column(table: dict, name: str) -> int:
    return table["header"].index(name)


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def env_names_in(cell: str) -> list[str]:
    return [span for span in code_spans(cell) if ENV_NAME.fullmatch(span)]


MISSING = object()


def documented_value(cell: str):
    """The value a default cell states first: its leading code span or word,
    as a number or a boolean where it reads as one; MISSING when it states
    none (`required`, `unset`, prose)."""
    cell = cell.strip()
    if cell.startswith("`"):
        text = code_spans(cell)[0]
    elif re.match(r"\d", cell):
        text = re.match(r"[\d.]+", cell).group(0)
    elif re.match(r"(true|false)\b", cell):
        text = cell.split()[0]
    elif re.match(r"(on|off)\b", cell):
        return cell.split()[0] == "on"  # a switch, as local-stack.md says of a flag
    else:
        return MISSING
    if re.fullmatch(r"\d+", text):
        return int(text)
    if re.fullmatch(r"\d+\.\d+", text):
        return float(text)
    return {"true": True, "false": False}.get(text, text)


def documented_defaults(names: list[str], cell: str) -> dict:
    """{name: value} of a row naming one setting, or several with as many
    defaults (`A` / `B` with `300 / 3600`); {} when it cannot be told."""
    if len(names) == 1:
        return {names[0]: documented_value(cell)}
    parts = [p.strip() for p in cell.split(" / ")]
    if len(parts) == len(names):
        return {name: documented_value(part) for name, part in zip(names, parts)}
    return {}


# ---------------------------------------------------------------- variables


# Upper-case literals of a binary's source that are not variables.
NOT_VARIABLES = {
    # The Secrets Manager label of a version a save has staged.
    "TOLLGATE_SAVING": ("issuer/src/keys/secrets_manager.rs", r'pub const SAVING: &str = "TOLLGATE_SAVING";'),
}
# Read by the AWS SDK's standard configuration (aws-clients/src/lib.rs),
# never named in Tollgate's code, in every binary that links the SDK.
SDK_VARIABLES = {"AWS_ENDPOINT_URL"}
# The crates whose manifests say whether a binary links the AWS SDK.
CRATES = {
    "authorizer": ["authorizer"],
    "issuer": ["issuer"],
    "issuer-rotation": ["issuer"],
    "backend": ["backend"],
    "tollgate": [".", "issuer", "backend", "telemetry-cloudwatch"],
}


def links_aws_sdk(binary: str) -> bool:
    for crate in CRATES[binary]:
        manifest = (ROOT / crate / "Cargo.toml").read_text(encoding="utf-8")
        dependencies = re.search(r"^\[dependencies\]\n(.*?)(?=^\[|\Z)", manifest, re.M | re.S).group(1)
        if re.search(r"^aws-(clients|config|sdk-\w+)\b", dependencies, re.M):
            return True
    return False


@cache
def variables_read(binary: str) -> frozenset[str]:
    """What the binary's own code reads (tollgate: src/, not the crates it embeds)."""
    return frozenset(env_names(binary_source(binary)) - set(NOT_VARIABLES))


def variables_documentable(binary: str) -> set[str]:
    """What a page may list for the binary: what it reads, and the SDK's."""
    names = set(variables_read(binary)) | (SDK_VARIABLES if links_aws_sdk(binary) else set())
    if binary == "tollgate":
        # serve embeds the issuer, the authorizer and the books API.
        for embedded in ("authorizer", "issuer", "backend"):
            names |= variables_read(embedded)
    return names


# Defaults the code states away from the read, checked by hand: the value,
# where the code says it, and why it is not a literal at the read.
HAND_CHECKED_DEFAULTS = {
    # The enum's #[default] variant, taken when the variable is unset.
    ("authorizer", "STATUS_LIST_CHECK"): ("if_present", "authorizer/src/config.rs",
                                          r'#\[default\]\s*IfPresent[\s\S]*"if_present" => Some\(Self::IfPresent\)'),
    ("authorizer", "DPOP_MODE"): ("if_bound", "authorizer/src/sender_settings.rs",
                                  r'#\[default\]\s*IfBound[\s\S]*"if_bound" => Some\(Self::IfBound\)'),
    # dpop's DEFAULT_ALGORITHMS, a constant array taken when the list is unset.
    **{(fn, "DPOP_ALGORITHMS"): ("ES256,EdDSA,PS256,RS256", "dpop/src/settings.rs",
                                 r'DEFAULT_ALGORITHMS: \[Algorithm; 4\] = \[\s*Algorithm::ES256,\s*Algorithm::EdDSA,\s*Algorithm::PS256,\s*Algorithm::RS256,\s*\]')
       for fn in ("authorizer", "issuer")},
    # ClaimMapping::default(), kept for each claim setting that is unset.
    ("authorizer", "SCOPE_CLAIMS"): ("scope,scp", "authorizer/src/claim_mapping.rs",
                                     r'scope_claims: vec!\[ClaimPath\("scope"\.into\(\)\), ClaimPath\("scp"\.into\(\)\)\]'),
    ("authorizer", "PRINCIPAL_CLAIM"): ("sub", "authorizer/src/claim_mapping.rs", r'principal_claim: ClaimPath\("sub"\.into\(\)\)'),
    # telemetry::init_logging: the filter falls back to `info`.
    **{(fn, name): ("info", "telemetry/src/logging.rs", r'unwrap_or_else\(\|\| EnvFilter::new\("info"\)\)')
       for fn in LAMBDAS for name in ("AWS_LAMBDA_LOG_LEVEL", "RUST_LOG")},
    # tracing's EnvFilter reads RUST_LOG itself; the CLI falls back to `info`.
    ("tollgate", "RUST_LOG"): ("info", "src/main.rs", r'EnvFilter::try_from_default_env\(\)\.unwrap_or_else\(\|_\| "info"\.into\(\)\)'),
}


@pytest.mark.parametrize("key", sorted(HAND_CHECKED_DEFAULTS), ids="/".join)
def test_the_hand_checked_defaults_are_still_the_codes(key):
    value, path, pattern = HAND_CHECKED_DEFAULTS[key]
    assert re.search(pattern, (ROOT / path).read_text(encoding="utf-8")), f"{key}: {value!r} no longer in {path}"
    assert key[1] in variables_read(key[0]), key


def test_the_literals_that_are_not_variables_are_still_what_they_were():
    for name, (path, pattern) in NOT_VARIABLES.items():
        assert re.search(pattern, (ROOT / path).read_text(encoding="utf-8")), name


@cache
def code_defaults(binary: str) -> dict:
    defaults = setting_defaults(binary_source(binary))
    for (fn, name), (value, _, _) in HAND_CHECKED_DEFAULTS.items():
        if fn == binary:
            defaults[name] = value
    return defaults


def check_settings_rows(binary: str, table: dict, where: str) -> set[str]:
    """Every row's variables are documentable for `binary`, and each stated
    default is the code's; a default the code does not state is an error.
    Returns the variables listed."""
    name_col = 0
    default_col = column(table, "default")
    listed: set[str] = set()
    for row in table["rows"]:
        names = env_names_in(row[name_col])
        if not names:
            continue
        listed |= set(names)
        unknown = set(names) - variables_documentable(binary)
        assert not unknown, f"{where}: {binary} reads no {sorted(unknown)}"
        for name, value in documented_defaults(names, row[default_col]).items():
            expected = code_defaults(binary).get(name, MISSING)
            if value is MISSING and expected is MISSING:
                continue
            assert value == expected, f"{where}: {name} defaults to {expected!r} in the code, the page says {row[default_col]!r}"
    return listed


@pytest.mark.parametrize("binary", BINARIES)
def test_the_reference_lists_every_variable_the_binary_reads(binary):
    body = section(REFERENCE.read_text(encoding="utf-8"), "Environment variables", f"`{binary}`")
    listed = check_settings_rows(binary, one_table(body), f"reference.md, {binary}")
    expected = set(variables_read(binary)) | (SDK_VARIABLES if links_aws_sdk(binary) else set())
    assert listed == expected, (
        f"{binary}: not listed {sorted(expected - listed)}, listed but not read {sorted(listed - expected)}"
    )


def test_the_reference_has_a_section_per_binary():
    found = sections(section(REFERENCE.read_text(encoding="utf-8"), "Environment variables"), 3)
    assert [code_spans(title)[0] for title in found] == BINARIES


# ---------------------------------------------------------------- the task pages' settings tables

# Every table with a `default` column in the pages a reader navigates, and
# what it documents: a binary's variables (and, for tollgate, serve's
# flags), or a Terraform module's variables.
SETTINGS_TABLES = {
    "README.md": ["authorizer"],
    "docs/authorizer.md": ["authorizer", "authorizer"],
    "docs/issuer.md": ["issuer"],
    "docs/books.md": ["backend"],
    "docs/local-stack.md": ["tollgate"],
    "docs/deploy.md": ["terraform:infra"],
    "docs/reference.md": ["authorizer", "issuer", "issuer-rotation", "backend", "tollgate", "cli",
                          "terraform:infra/modules/authorizer", "terraform:infra"],
    "infra/modules/authorizer/README.md": ["terraform:infra/modules/authorizer"],
}


def settings_tables(path: str) -> list[dict]:
    return [t for t in tables((ROOT / path).read_text(encoding="utf-8")) if "default" in t["header"]]


def test_every_settings_table_of_the_docs_is_checked():
    pages = ["README.md", *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "docs").glob("*.md"))),
             "infra/modules/authorizer/README.md"]
    for page in pages:
        found = len(settings_tables(page))
        assert found == len(SETTINGS_TABLES.get(page, [])), f"{page}: {found} tables with a default column; map them in SETTINGS_TABLES"


TASK_PAGE_TABLES = [(page, i, subject) for page, subjects in SETTINGS_TABLES.items() if page != "docs/reference.md"
                    for i, subject in enumerate(subjects)]


@pytest.mark.parametrize("page,index,subject", TASK_PAGE_TABLES, ids=[f"{p}#{i}" for p, i, _ in TASK_PAGE_TABLES])
def test_a_task_pages_settings_table_agrees_with_the_code(page, index, subject):
    table = settings_tables(page)[index]
    where = f"{page} table {index + 1}"
    if subject.startswith("terraform:"):
        check_terraform_table(subject.split(":", 1)[1], table, where, complete=False)
        return
    listed = check_settings_rows(subject, table, where)
    flags = check_flag_rows("serve", table, where) if subject == "tollgate" else set()
    assert listed or flags, f"{where}: no variable found"


# ---------------------------------------------------------------- CLI (clap)


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower().replace("_", "-")


def clap_value(text: str):
    """A clap default_value / default_value_t as the CLI shows it."""
    text = text.strip()
    if text.startswith('"'):
        return text.strip('"')
    if re.fullmatch(r"[\d_]+", text):
        return int(text.replace("_", ""))
    enum = re.fullmatch(r"\w+::(\w+)", text)
    if enum:
        return kebab(enum.group(1))
    raise ValueError(text)


ATTRIBUTE_OR_DOC = r"(?:[ \t]*(?:///[^\n]*|#\[[^\n]*\])\n)*"


def clap_fields(body: str, source: str) -> dict:
    """{"--flag" or "NAME": default (MISSING: none)} of a variant's or
    struct's fields; `#[command(flatten)]` fields are expanded."""
    found: dict = {}
    for attrs, name, type_ in re.findall(rf"({ATTRIBUTE_OR_DOC})[ \t]*(?:pub )?(\w+): ([^,\n]+),?", body):
        if "#[command(subcommand)]" in attrs:
            continue
        if "#[command(flatten)]" in attrs:
            found.update(clap_fields(struct_body(source, type_.strip()), source))
            continue
        arg = re.search(r"#\[arg\(([^\n]*)\)\]", attrs)
        if arg and re.search(r"\blong\b", arg.group(1)):
            default = re.search(r"default_value(?:_t)? = (\"[^\"]*\"|[\w:]+)", arg.group(1))
            if default:
                value = clap_value(default.group(1))
            elif type_.strip() == "bool":
                value = False
            else:
                value = MISSING
            found["--" + kebab(name)] = value
        else:
            found[name.upper()] = MISSING
    return found


def struct_body(source: str, name: str) -> str:
    return re.search(rf"(?:pub )?struct {name} \{{\n(.*?)\n\}}", source, re.S).group(1)


def enum_variants(source: str, name: str) -> list[tuple[str, str, str]]:
    """(attributes, Variant, fields or `(SubEnum)`) of a clap Subcommand enum."""
    body = re.search(rf"(?:pub )?enum {name} \{{\n(.*?)\n\}}", source, re.S).group(1)
    return re.findall(rf"({ATTRIBUTE_OR_DOC})    ([A-Z]\w*)(\(\w+\)| \{{.*?\}}|)?,", body, re.S)


def cli_commands() -> dict[str, dict]:
    """{"serve": {"--addr": "127.0.0.1:8080", ...}, "user add": {...}, ...}:
    every command of `tollgate`, with its arguments and flags (global ones
    apart)."""
    source = "\n".join(strip_tests(f.read_text(encoding="utf-8"))
                       for f in rust_files("src/main.rs", "src/commands", "src/lambda_mode_args.rs"))
    commands: dict[str, dict] = {}

    def walk(enum: str, prefix: str):
        for attrs, variant, fields in enum_variants(source, enum):
            command = f"{prefix}{kebab(variant)}"
            inner = re.fullmatch(r"\((\w+)\)", fields)
            if inner and re.search(rf"(?:pub )?enum {inner.group(1)} \{{", source):
                walk(inner.group(1), command + " ")
                continue
            if inner:  # a command whose arguments are a struct of its own
                fields = struct_body(source, inner.group(1))
            commands[command] = clap_fields(fields.strip().strip("{}"), source)
            nested = re.search(r"#\[command\(subcommand\)\]\s*(?:pub )?\w+: Option<(\w+)>", fields)
            if nested:
                walk(nested.group(1), command + " ")

    walk("Command", "")
    return commands


def cli_globals() -> dict:
    source = (ROOT / "src/main.rs").read_text(encoding="utf-8")
    return clap_fields(struct_body(source, "Cli"), source)


def check_flag_rows(command: str, table: dict, where: str) -> set[str]:
    """The rows naming a flag of `command` (or a global one): it exists, and
    a stated default is clap's."""
    options = {**cli_globals(), **cli_commands()[command]}
    default_col = column(table, "default")
    listed = set()
    for row in table["rows"]:
        flag = re.match(r"`(--[a-z-]+)", row[0])
        if not flag:
            continue
        listed.add(flag.group(1))
        assert flag.group(1) in options, f"{where}: `{command}` has no {flag.group(1)}"
        stated = documented_value(row[default_col])
        expected = options[flag.group(1)]
        if isinstance(stated, str) and isinstance(expected, str):
            stated, expected = stated.rstrip("/"), expected.rstrip("/")
        if stated is MISSING and expected is MISSING:
            continue
        assert stated == expected, f"{where}: {flag.group(1)} defaults to {expected!r}, the page says {row[default_col]!r}"
    return listed


def test_the_reference_lists_every_command_argument_and_flag():
    table = one_table(section(REFERENCE.read_text(encoding="utf-8"), "CLI"))
    documented: dict[str, set] = {}
    for row in table["rows"]:
        command = code_spans(row[0])[0]
        item = re.match(r"`(--[a-z-]+|[A-Z]+)", row[1])
        documented.setdefault(command, set())
        if item:
            documented[command].add(item.group(1))
    code = cli_commands()
    assert set(documented) == set(code), f"commands: {sorted(set(code) ^ set(documented))}"
    for command, options in code.items():
        assert documented[command] == set(options), f"{command}: code {sorted(options)}, page {sorted(documented[command])}"
    for command in code:
        rows = [r for r in table["rows"] if code_spans(r[0])[0] == command]
        check_flag_rows(command, {"header": ["flag", *table["header"][2:]], "rows": [r[1:] for r in rows]}, f"reference.md CLI, {command}")
    # The global flag, in the prose above the table.
    assert set(cli_globals()) == {"--data-dir"}
    assert f"`--data-dir` (default `{cli_globals()['--data-dir']}`)" in section(REFERENCE.read_text(encoding="utf-8"), "CLI")


# ---------------------------------------------------------------- routes


def normalized(path: str) -> str:
    """A route path with its query left out and every parameter `{}`."""
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


def documented_routes(table: dict) -> set[tuple[str, str]]:
    if "method" in table["header"]:
        return {(code_spans(r[0])[0], normalized(code_spans(r[1])[0])) for r in table["rows"]}
    return {tuple(normalized(part) if i else part for i, part in enumerate(code_spans(r[0])[0].split(" ", 1)))
            for r in table["rows"]}


def gateway_routes() -> set[tuple[str, str]]:
    """The routes the local gateway answers itself (`path == "/x" && request.method() == Method::GET`)."""
    source = strip_tests((ROOT / "src/gateway/mod.rs").read_text(encoding="utf-8"))
    found = {(method, path) for path, method in re.findall(r'path == "(/[^"]*)" && request\.method\(\) == Method::(\w+)', source)}
    assert found
    return found


ROUTERS = {
    "Issuer": lambda: {(m, normalized(p)) for m, p in axum_routes("issuer/src/routes*")},
    "Books backend": lambda: {(m, normalized(p)) for m, p in axum_routes("backend/src/routes*")},
    "Local gateway": gateway_routes,
}


@pytest.mark.parametrize("router", sorted(ROUTERS))
def test_the_reference_lists_every_route(router):
    table = one_table(section(REFERENCE.read_text(encoding="utf-8"), "HTTP routes", router))
    assert documented_routes(table) == ROUTERS[router]()


@pytest.mark.parametrize("page,router", [("docs/issuer.md", "Issuer"), ("docs/books.md", "Books backend")])
def test_a_task_pages_route_table_lists_every_route(page, router):
    table = next(t for t in tables((ROOT / page).read_text(encoding="utf-8")) if t["header"][0] == "route")
    assert documented_routes(table) == ROUTERS[router](), page


def test_the_default_route_scopes_are_the_authorizers():
    expected = {f"{m} {p}": scopes for m, p, scopes in default_route_scopes()}
    table = one_table(section(REFERENCE.read_text(encoding="utf-8"), "HTTP routes", "Default `ROUTE_SCOPES`"))
    assert {code_spans(r[0])[0]: " ".join(code_spans(r[1])) for r in table["rows"]} == expected
    # authorizer.md shows the same table as JSON, after "The default:".
    page = (ROOT / "docs/authorizer.md").read_text(encoding="utf-8")
    shown = re.search(r"The default:\n\n```json\n(.*?)```", page, re.S)
    assert shown, "docs/authorizer.md: the default ROUTE_SCOPES block is gone"
    assert json.loads(shown.group(1)) == expected


# ---------------------------------------------------------------- metrics


def function_body(source: str, name: str) -> str:
    """The body of `fn name` (up to its matching brace)."""
    start = re.search(rf"\bfn {name}\b[^{{]*\{{", source)
    assert start, f"fn {name} not found"
    depth, i = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        i += 1
    return source[start.end():i - 1]


def literals(text: str) -> set[str]:
    return set(re.findall(r'"([A-Za-z0-9_]+)"', text))


def metric_units(source: str) -> dict[str, str]:
    """{metric: unit} of `Metric::count("X", ..)` and `Metric::new("X", Unit::Y, ..)`."""
    units = {name: "Count" for name in re.findall(r'Metric::count\(\s*"(\w+)"', source)}
    units.update(re.findall(r'Metric::new\(\s*"(\w+)",\s*Unit::(\w+)', source))
    return units


@cache
def records() -> dict[str, dict]:
    """Per service, what its records carry: {metrics: {name: unit}, decisions, reasons}."""
    none = "none"  # telemetry's NONE
    assert 'pub const NONE: &str = "none";' in read(rust_files("telemetry/src"))

    authorizer = strip_tests((ROOT / "authorizer/src/metrics.rs").read_text(encoding="utf-8"))
    answer = strip_tests((ROOT / "authorizer/src/answer.rs").read_text(encoding="utf-8"))
    simple_response = strip_tests((ROOT / "authorizer/src/simple_response.rs").read_text(encoding="utf-8"))
    errors = strip_tests((ROOT / "authorizer/src/error.rs").read_text(encoding="utf-8"))
    # Sender constraints: ProofError::reason (the dpop crate) and SenderError::reason.
    proof_errors = strip_tests((ROOT / "dpop/src/error.rs").read_text(encoding="utf-8"))
    sender = strip_tests((ROOT / "authorizer/src/sender.rs").read_text(encoding="utf-8"))
    # Refused JWKs (JwksKeysRefused): JwkError::reason (the jose crate).
    jwk_errors = strip_tests((ROOT / "jose/src/error.rs").read_text(encoding="utf-8"))
    authorizer_records = {
        "metrics": metric_units(authorizer),
        # Outcome::as_str, the fetches' ok/failed, NONE for the others.
        "decisions": literals(function_body(authorizer, "as_str"))
        | set(re.findall(r'if ok \{ "(\w+)" \} else \{ "(\w+)" \}', authorizer)[0])
        | ({none} if re.search(r"emit\(\s*NONE", authorizer) else set()),
        # VerifyError::reason, the decisions answer.rs records (and its
        # simple responses, simple_response.rs), NONE for the others.
        "reasons": literals(function_body(errors, "reason"))
        | literals(function_body(proof_errors, "reason"))
        | literals(function_body(sender, "reason"))
        | literals(function_body(jwk_errors, "reason"))
        | set(re.findall(r'decision\(\s*Outcome::\w+,\s*"(\w+)"', answer))
        | set(re.findall(r'\((?:true|false), "(\w+)"\)', function_body(answer, "permits")))
        | set(re.findall(r'\((?:true|false), "(\w+)"\)', function_body(simple_response, "reused_answer_holds")))
        | ({none} if "Record::new(SERVICE, decision, NONE" in authorizer else set()),
    }

    issuer_all = strip_tests((ROOT / "issuer/src/metrics.rs").read_text(encoding="utf-8"))
    issuer, rotation = issuer_all.split("fn step_name", 1)
    key_change = function_body(issuer, "key_change")
    revocation = function_body(issuer, "token_revocation")
    issuer_records = {
        "metrics": {**metric_units(issuer), **{n: "Count" for n in re.findall(r'KeyChange::\w+ => "(\w+)"', key_change)}},
        "decisions": literals(function_body(issuer, "login")) - {"Logins", "TokensIssued"}
        | set(re.findall(r'\(\s*"([a-z_]+)",', key_change + revocation))
        | set(re.findall(r'Record::new\(\s*SERVICE,\s*"(\w+)"', issuer)),
        "reasons": literals(function_body(issuer, "grant")) | literals(function_body(issuer, "error_kind"))
        | ({none} if re.search(r"=> (?:\(\"\w+\", )?NONE", issuer) else set())
        # How tokens were revoked, as the service names it; the key store's operations.
        | set(re.findall(r'token_revocation\("(\w+)"', read(rust_files("issuer/src"))))
        | set(re.findall(r'self\.count\("(\w+)"', (ROOT / "issuer/src/keys/metered.rs").read_text(encoding="utf-8"))),
    }
    rotation_records = {
        "metrics": metric_units(rotation),
        "decisions": set(re.findall(r'if result\.is_ok\(\) \{ "(\w+)" \} else \{ "(\w+)" \}', rotation)[0]),
        "reasons": literals(function_body(issuer_all, "step_name")) | set(re.findall(r'map_or\("(\w+)"', rotation)),
    }

    gateway = strip_tests((ROOT / "src/gateway/metrics.rs").read_text(encoding="utf-8"))
    gateway_records = {
        "metrics": metric_units(gateway),
        "decisions": literals(function_body(gateway, "decision")),
        "reasons": literals(function_body(gateway, "status_reason")),
    }
    return {"authorizer": authorizer_records, "issuer": issuer_records,
            "issuer-rotation": rotation_records, "gateway": gateway_records}


def documented_list(body: str, label: str) -> set[str]:
    """The names in code spans of the paragraph `label:` (up to the next
    label or blank line): decisions and reasons are never capitalised, so
    `Decisions` or `/healthz` there are a metric and a path, not names."""
    found = re.search(rf"(?:^|\. ){label}: (.*?)(?=\n\n|\. \w+: |\Z)", body, re.S | re.M)
    assert found, f"no {label}: paragraph"
    return {s for s in code_spans(found.group(1)) if re.fullmatch(r"[a-z0-9][A-Za-z0-9_]*", s)}


@pytest.mark.parametrize("service", ["authorizer", "issuer", "issuer-rotation", "gateway"])
def test_the_reference_lists_every_metric_decision_and_reason(service):
    body = section(REFERENCE.read_text(encoding="utf-8"), "Metrics", f"`{service}` records")
    table = one_table(body)
    units = {code_spans(r[0])[0]: r[column(table, "unit")] for r in table["rows"]}
    expected = records()[service]
    assert units == expected["metrics"]
    assert documented_list(body, "Decisions") == expected["decisions"]
    assert documented_list(body, "Reasons") == expected["reasons"]


def test_the_metrics_page_names_only_what_the_code_records():
    table = next(t for t in tables((ROOT / "docs/metrics.md").read_text(encoding="utf-8")) if t["header"][0] == "service")
    for row in table["rows"]:
        service = code_spans(row[0])[0]
        expected = records()[service]
        names = [s for s in code_spans(row[1]) if re.fullmatch(r"[A-Z]\w+", s)]
        assert set(names) <= set(expected["metrics"]), (service, names)
        decisions = {s for s in code_spans(row[3]) if re.fullmatch(r"\w+", s)}
        reasons = {s for s in code_spans(row[4]) if re.fullmatch(r"\w+", s)}
        assert decisions <= expected["decisions"], (service, sorted(decisions - expected["decisions"]))
        assert reasons <= expected["reasons"], (service, sorted(reasons - expected["reasons"]))
    assert {code_spans(r[0])[0] for r in table["rows"]} == set(records())


# ---------------------------------------------------------------- benches


def bench_ids() -> set[str]:
    """`group/id` of every bench in benches/benches/*.rs: literal ids,
    those of a helper the group is passed to (`helper(&mut group, ...)`),
    and the names of a `for (name, ...) in [("id", ...), ...]` loop."""
    ids = set()
    for path in sorted((ROOT / "benches/benches").glob("*.rs")):
        ids |= bench_ids_of(path.read_text(encoding="utf-8"))
    assert ids
    return ids


def bench_ids_of(source: str) -> set[str]:
    ids = set()
    for chunk in re.split(r"let mut group = c\.benchmark_group\(", source)[1:]:
        group = re.match(r'"([^"]+)"', chunk).group(1)
        chunk = chunk.split("group.finish()")[0]
        for helper in re.findall(r"\b(\w+)\(&mut group\b", chunk):
            body = re.search(rf"\nfn {helper}\(.*?\n}}\n", source, re.S)
            assert body, f"verify.rs: the bench helper {helper} is not found"
            chunk += body.group(0)
        ids |= {f"{group}/{i}" for i in re.findall(r'bench_function\(\s*"([^"]+)"', chunk)}
        if re.search(r"bench_function\(\s*name\b", chunk):
            loop = re.search(r"for \(name, [^)]*\) in \[(.*?)\]", chunk, re.S)
            ids |= {f"{group}/{i}" for i in re.findall(r'\(\s*"([^"]+)",', loop.group(1))}
    return ids


@pytest.mark.parametrize("page,where", [("docs/reference.md", "Benchmark ids"), ("docs/benchmarks.md", None)])
def test_the_bench_ids_are_the_benches(page, where):
    text = (ROOT / page).read_text(encoding="utf-8")
    table = one_table(section(text, where)) if where else next(t for t in tables(text) if t["header"][0] == "bench id")
    assert {code_spans(r[0])[0] for r in table["rows"]} == bench_ids()


# ---------------------------------------------------------------- Terraform


@cache
def terraform(module: str, kind: str) -> dict:
    """{name: body} of a module's `variable` or `output` blocks."""
    found = {}
    for tf in sorted((ROOT / module).glob("*.tf")):
        with open(tf, encoding="utf-8") as f:
            for block in hcl2.load(f).get(kind, []):
                found.update(block)
    assert found, (module, kind)
    return found


def unwrap(value):
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def terraform_value(cell: str):
    """A Terraform default as a page states it: `required` (none), `unset`
    (null), or an HCL value (`"x"`, `300`, `[]`, `null`; deploy.md leaves
    strings unquoted)."""
    cell = cell.strip()
    if cell.startswith("required"):
        return MISSING
    if cell.startswith("unset"):
        return None
    text = code_spans(cell)[0] if cell.startswith("`") else cell.split()[0]
    try:
        return json.loads(text)
    except ValueError:
        return text


def terraform_type(body: dict) -> str:
    type_ = unwrap(body["type"])
    return re.sub(r"^\$\{(\w+(?:\(\w+\))?).*\}$", r"\1", type_)


def check_terraform_table(module: str, table: dict, where: str, complete: bool):
    variables = terraform(module, "variable")
    default_col = column(table, "default")
    listed = set()
    for row in table["rows"]:
        names = code_spans(row[0])
        listed |= set(names)
        parts = [p.strip() for p in row[default_col].split(" / ")] if len(names) > 1 else [row[default_col]]
        assert len(parts) == len(names), f"{where}: {row[0]}"
        for name, cell in zip(names, parts):
            assert name in variables, f"{where}: {module} has no variable {name}"
            expected = unwrap(variables[name]["default"]) if "default" in variables[name] else MISSING
            assert terraform_value(cell) == expected, f"{where}: {name} defaults to {expected!r}, the page says {cell!r}"
            if "type" in table["header"]:
                assert row[column(table, "type")] == terraform_type(variables[name]), f"{where}: {name}'s type"
    if complete:
        assert listed == set(variables), f"{where}: {sorted(set(variables) ^ listed)}"


TERRAFORM_SECTIONS = [("Authorizer module", "infra/modules/authorizer"), ("Root module", "infra")]


@pytest.mark.parametrize("title,module", TERRAFORM_SECTIONS)
def test_the_reference_lists_every_module_input_and_output(title, module):
    text = REFERENCE.read_text(encoding="utf-8")
    inputs = "inputs" if module != "infra" else "variables"
    check_terraform_table(module, one_table(section(text, "Terraform", f"{title} {inputs}")), f"reference.md, {title}", complete=True)
    outputs = one_table(section(text, "Terraform", f"{title} outputs"))
    assert {code_spans(r[0])[0] for r in outputs["rows"]} == set(terraform(module, "output"))


# ---------------------------------------------------------------- load test


def test_the_summary_rows_are_the_runners():
    source = (ROOT / "loadtest/runner/summary.py").read_text(encoding="utf-8")
    row = re.search(r"def row\(.*?return \{(.*?)\n    \}", source, re.S).group(1)
    table = one_table(section(REFERENCE.read_text(encoding="utf-8"), "Load-test summary.json"))
    assert {code_spans(r[0])[0] for r in table["rows"]} == set(re.findall(r'"(\w+)":', row))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
