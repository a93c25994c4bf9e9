#!/bin/sh
# After the casebridge package is removed or upgraded: tell systemd the unit
# changed or is gone.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
