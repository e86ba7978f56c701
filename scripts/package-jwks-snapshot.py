"""Puts a JWKS snapshot into the authorizer's bootstrap.zip as
`jwks-snapshot.json` (beside `bootstrap`, so `JWKS_SNAPSHOT=jwks-snapshot.json`
finds it under LAMBDA_TASK_ROOT), replacing one packaged before.

    python3 scripts/package-jwks-snapshot.py target/lambda/authorizer/bootstrap.zip SNAPSHOT.json
"""

import shutil
import sys
import tempfile
import zipfile

NAME = "jwks-snapshot.json"


def package(zip_path, snapshot_path):
    with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as scratch:
        with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                if item.filename != NAME:
                    target.writestr(item, source.read(item.filename))
            target.write(snapshot_path, NAME)
    shutil.move(scratch.name, zip_path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    package(sys.argv[1], sys.argv[2])
