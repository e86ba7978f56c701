"""Where the load test's files are: the suite's directory, the repository,
the outputs, and the programs of loadtest/.venv."""

from pathlib import Path

LOADTEST = Path(__file__).resolve().parents[1]
ROOT = LOADTEST.parent
OUT = LOADTEST / "out"
VENV_BIN = LOADTEST / ".venv" / "bin"
SCENARIO_SCRIPTS = LOADTEST / "scenarios"
PYJWT_BOOTSTRAP = LOADTEST / "pyjwt_authorizer" / "bootstrap"
