package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// Where the packages put things.
const (
	pkgBinary   = "/usr/bin/casebridge"
	pkgUnit     = "/usr/lib/systemd/system/casebridge.service"
	pkgSysusers = "/usr/lib/sysusers.d/casebridge.conf"
	pkgConfDir  = "/etc/casebridge"
	pkgDocDir   = "/usr/share/doc/casebridge"
)

// packageInfo describes the casebridge package for one architecture. Each
// packager changes the Info it is given (its architecture names), so every
// package gets its own.
func packageInfo(opt Options, goarch, bin string) *nfpm.Info {
	root := opt.Root
	file := func(src, dst string, mode os.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: mode, MTime: opt.Date}}
	}
	info := &nfpm.Info{
		Name:        "casebridge",
		Arch:        goarch,
		Platform:    "linux",
		Version:     opt.Version,
		Release:     "1",
		Section:     "admin",
		Priority:    "optional",
		Maintainer:  "casebridge maintainers",
		Description: "keeps case records in step between a Salesforce org and local sheets and databases\n" + "casebridge syncs survivor case records between Salesforce and CSV/Excel sheets, SQLite,\nPostgreSQL and MySQL/MariaDB, field by field, on a schedule (systemd unit included).",
		Vendor:      "casebridge",
		Homepage:    "https://github.com/casebridge/casebridge",
		License:     "Apache-2.0",
		MTime:       opt.Date,
		Overridables: nfpm.Overridables{
			Contents: files.Contents{
				file(bin, pkgBinary, 0o755),
				file(filepath.Join(root, "deploy/systemd/casebridge.service"), pkgUnit, 0o644),
				file(filepath.Join(root, "deploy/systemd/casebridge.sysusers"), pkgSysusers, 0o644),
				file(filepath.Join(root, "README.md"), pkgDocDir+"/README.md", 0o644),
				file(filepath.Join(root, "LICENSE"), pkgDocDir+"/LICENSE", 0o644),
				file(filepath.Join(root, "fixtures/configs/sample.yaml"), pkgDocDir+"/examples/sample.yaml", 0o644),
				{Destination: pkgConfDir, Type: files.TypeDir, FileInfo: &files.ContentFileInfo{Mode: 0o750, MTime: opt.Date}},
			},
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(root, "tools/release/scripts/postinstall.sh"),
				PreRemove:   filepath.Join(root, "tools/release/scripts/preremove.sh"),
				PostRemove:  filepath.Join(root, "tools/release/scripts/postremove.sh"),
			},
			RPM: nfpm.RPM{
				Group:     "Applications/System",
				Summary:   "keeps case records in step between Salesforce and local sheets and databases",
				BuildHost: "casebridge-release", // not this machine's name: builds of one commit are the same
			},
		},
	}
	return nfpm.WithDefaults(info)
}

// writePackages makes the .deb and .rpm for one linux architecture.
func writePackages(opt Options, goarch, bin string) ([]string, error) {
	var out []string
	for _, format := range []string{"deb", "rpm"} {
		pkgr, err := nfpm.Get(format)
		if err != nil {
			return nil, err
		}
		info := packageInfo(opt, goarch, bin)
		path := filepath.Join(opt.Out, pkgr.ConventionalFileName(info))
		info.Target = path
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := pkgr.Package(info, f); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		out = append(out, path)
	}
	return out, nil
}
