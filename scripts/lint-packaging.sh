#!/usr/bin/env bash
# Checks the packaging files: the Dockerfile with hadolint, the systemd
# unit with systemd-analyze (where present), the maintainer scripts with sh -n.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/ensure-tools.sh" lint
"$ROOT/target/lint-venv/bin/hadolint" Dockerfile

for script in packaging/debian/*; do
  sh -n "$script"
done

if command -v systemd-analyze >/dev/null; then
  # The unit names /usr/bin/leitstand, which only an installed package has.
  out="$(systemd-analyze verify packaging/leitstand.service 2>&1 | grep -v 'Command /usr/bin/leitstand is not executable' || true)"
  if [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    exit 1
  fi
fi
echo "packaging: Dockerfile, systemd unit and maintainer scripts pass"
