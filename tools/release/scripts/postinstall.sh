#!/bin/sh
# After installing or upgrading the casebridge package: create the casebridge
# system user, give it read access to /etc/casebridge and its state folder
# /var/lib/casebridge, and tell systemd about the unit. The service is
# neither enabled nor started: it needs a configuration first (see
# /usr/lib/systemd/system/casebridge.service).
set -e
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers /usr/lib/sysusers.d/casebridge.conf
elif ! getent passwd casebridge >/dev/null 2>&1; then
	useradd --system --user-group --home-dir /var/lib/casebridge --no-create-home \
		--shell /usr/sbin/nologin --comment "casebridge sync daemon" casebridge
fi
chown root:casebridge /etc/casebridge
chmod 0750 /etc/casebridge
# The state folder, made now rather than at the service's first start
# (StateDirectory=) so that `sudo -u casebridge casebridge validate` finds
# the state store's folder before the service is enabled.
install -d -m 0700 -o casebridge -g casebridge /var/lib/casebridge
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	# An upgrade restarts a service that was running, on the new binary.
	systemctl try-restart casebridge.service >/dev/null 2>&1 || true
fi
