package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Release builds every target of opt and writes its archives, packages and
// the checksums file into opt.Out; it returns the paths it wrote, the
// checksums file last.
func Release(ctx context.Context, opt Options, build BuildFunc) ([]string, error) {
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "casebridge-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	var files []string
	for _, t := range opt.Targets {
		goos, goarch, _ := strings.Cut(t, "/")
		name := "casebridge"
		if goos == "windows" {
			name += ".exe"
		}
		bin := filepath.Join(work, goos+"_"+goarch, name)
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			return nil, err
		}
		fmt.Fprintf(opt.Log, "release: building %s\n", t)
		if err := build(ctx, opt, goos, goarch, bin); err != nil {
			return nil, err
		}
		archive, err := writeArchive(opt, goos, goarch, bin)
		if err != nil {
			return nil, fmt.Errorf("archive for %s: %w", t, err)
		}
		files = append(files, archive)
		if goos == "linux" && opt.Packages {
			pkgs, err := writePackages(opt, goarch, bin)
			if err != nil {
				return nil, fmt.Errorf("packages for %s: %w", t, err)
			}
			files = append(files, pkgs...)
		}
	}
	sums, err := writeChecksums(opt, files)
	if err != nil {
		return nil, err
	}
	return append(files, sums), nil
}

// baseName is casebridge_1.2.3_linux_amd64: the archive's name and the
// folder inside it.
func baseName(opt Options, goos, goarch string) string {
	return fmt.Sprintf("casebridge_%s_%s_%s", strings.TrimPrefix(opt.Version, "v"), goos, goarch)
}

// archiveMember is one file in an archive.
type archiveMember struct {
	src  string
	name string
	mode os.FileMode
}

func archiveMembers(opt Options, bin string) []archiveMember {
	return []archiveMember{
		{bin, filepath.Base(bin), 0o755},
		{filepath.Join(opt.Root, "LICENSE"), "LICENSE", 0o644},
		{filepath.Join(opt.Root, "README.md"), "README.md", 0o644},
	}
}

// writeArchive packs the binary, LICENSE and README.md into a folder named
// like the archive: a .zip for Windows, a .tar.gz elsewhere. Every entry has
// the build date and no owner, so one commit always gives the same bytes.
func writeArchive(opt Options, goos, goarch, bin string) (string, error) {
	base := baseName(opt, goos, goarch)
	ext := ".tar.gz"
	if goos == "windows" {
		ext = ".zip"
	}
	path := filepath.Join(opt.Out, base+ext)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if goos == "windows" {
		err = writeZip(f, opt, base, bin)
	} else {
		err = writeTarGz(f, opt, base, bin)
	}
	if err != nil {
		return "", err
	}
	return path, f.Close()
}

func writeTarGz(w io.Writer, opt Options, base, bin string) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	dir := &tar.Header{Typeflag: tar.TypeDir, Name: base + "/", Mode: 0o755, ModTime: opt.Date, Format: tar.FormatPAX}
	if err := tw.WriteHeader(dir); err != nil {
		return err
	}
	for _, m := range archiveMembers(opt, bin) {
		data, err := os.ReadFile(m.src)
		if err != nil {
			return err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: base + "/" + m.name, Mode: int64(m.mode), Size: int64(len(data)), ModTime: opt.Date, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, opt Options, base, bin string) error {
	zw := zip.NewWriter(w)
	for _, m := range archiveMembers(opt, bin) {
		data, err := os.ReadFile(m.src)
		if err != nil {
			return err
		}
		h := &zip.FileHeader{Name: base + "/" + m.name, Method: zip.Deflate, Modified: opt.Date}
		h.SetMode(m.mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeChecksums writes casebridge_VERSION_checksums.txt: one line per file,
// "SHA-256 hex, two spaces, file name", sorted by name, as sha256sum writes
// and `sha256sum -c` reads.
func writeChecksums(opt Options, files []string) (string, error) {
	var lines []string
	for _, p := range files {
		sum, err := sha256File(p)
		if err != nil {
			return "", err
		}
		lines = append(lines, sum+"  "+filepath.Base(p))
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	path := filepath.Join(opt.Out, fmt.Sprintf("casebridge_%s_checksums.txt", strings.TrimPrefix(opt.Version, "v")))
	return path, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
