#!/usr/bin/env bash
# Installs what is missing, then serves the playground on http://127.0.0.1:8080 with trunk
# (rebuilding on change). Ctrl+C stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
ensure_build_tools
cd "$REPO_ROOT"
say "serving on http://127.0.0.1:8080"
exec trunk serve --address 127.0.0.1 --port 8080 "$@"
