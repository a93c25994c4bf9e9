#!/bin/sh
# Before the casebridge package is removed (not upgraded): stop and disable
# the service. The state in /var/lib/casebridge and the configuration in
# /etc/casebridge stay.
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now casebridge.service >/dev/null 2>&1 || true
	fi
	;;
esac
