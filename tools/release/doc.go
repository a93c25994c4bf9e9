// Command release builds casebridge's release files from a clone of the
// repository, with nothing but Go installed:
//
//	go run ./tools/release --out dist                       # every platform, packages, checksums
//	go run ./tools/release --only linux/amd64 --out dist    # one platform (what CI builds)
//	go run ./tools/release --version v1.2.0 --out dist      # a release of a tag
//
// For each of windows, darwin and linux on amd64 and arm64 it builds a
// static binary (CGO_ENABLED=0: the SQLite driver is pure Go) with the
// version, commit and build date stamped in (what `casebridge version`
// prints) and packs it with LICENSE and README.md into
// casebridge_VERSION_OS_ARCH.tar.gz (.zip for Windows). For linux it also
// makes a .deb and an .rpm (with nfpm) that install the binary as
// /usr/bin/casebridge, the hardened systemd unit
// deploy/systemd/casebridge.service, the casebridge system user, an empty
// /etc/casebridge and the sample configuration. casebridge_VERSION_checksums.txt
// holds the SHA-256 of every file made, in the format `sha256sum -c` reads.
//
// The version defaults to the tag on HEAD, otherwise v0.0.0-dev.gSHORTSHA;
// the commit to HEAD (with -dirty when the work tree has changes); the date
// to $SOURCE_DATE_EPOCH or else HEAD's commit time, so two builds of one
// commit give the same files. Every file in the archives and packages
// carries that date.
//
// When it builds the platform it runs on, it runs the new binary's
// `version` and refuses to finish unless the stamps are there.
package main
