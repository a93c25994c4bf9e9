package sheet

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// messyPieces are what the randomized inputs below are made of: plain
// text (ASCII, Thai, other multi-byte runes), everything the scanner
// treats specially, and bytes that are not valid UTF-8 (invalid, overlong,
// surrogates, cut sequences).
var messyPieces = []string{
	"a", "Ab1", "x y", "abcdefghijklmnopqrstuvwxyz0123456789", "=1+2", "TH-CL-0000042",
	" ", "\t", ",", ";", "|", "\x00",
	`"`, `""`, `"a,b"`, "\r", "\n", "\r\n",
	"ก", "ตัวอย่าง", "ด.ญ. ตัวอย่าง 7", "§", "é", "€", "、", "😀", "\uFFFD", "\u00a0", "\u200b",
	"\xff", "\x80", "\xc3", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\xf0\x8f\xbf\xbf", "\xe0\xb8", "\xf0\x9f\x98", "\xef\xbb\xbf", "\xfe\xff", "\xc2", "\xe3", "\xf0",
}

// messyInput builds a random input of about n pieces, mostly plain text
// so that long plain runs (the fast path's) meet every special case.
func messyInput(rng *rand.Rand, n int) []byte {
	var b []byte
	for range n {
		p := messyPieces[rng.IntN(len(messyPieces))]
		if rng.IntN(3) == 0 {
			p = messyPieces[rng.IntN(6)] // plain ASCII more often
		}
		b = append(b, p...)
	}
	return b
}

// messyRows builds random rows of cells joined by delim: plain cells,
// quoted cells holding delimiters, line breaks and doubled quotes, text
// after a closing quote, stray and unclosed quotes, blanks, mixed line
// endings.
func messyRows(rng *rand.Rand, delim rune, rows int) []byte {
	var b []byte
	text := func() {
		for range rng.IntN(4) {
			b = append(b, messyPieces[rng.IntN(len(messyPieces))]...)
		}
	}
	for range rows {
		for c := range 1 + rng.IntN(5) {
			if c > 0 {
				b = utf8.AppendRune(b, delim)
			}
			switch rng.IntN(8) {
			case 0, 1, 2:
				text()
			case 3: // quoted, maybe over lines
				b = append(b, '"')
				text()
				for range rng.IntN(3) {
					b = append(b, []string{"\n", "\r\n", "\r", `""`, string(delim)}[rng.IntN(5)]...)
					text()
				}
				b = append(b, '"')
			case 4: // text after the closing quote
				b = append(b, '"')
				text()
				if rng.IntN(2) == 0 {
					b = append(b, '\n')
				}
				b = append(b, '"')
				b = append(b, []string{" ", "\t", "x", "ตัว", "\xff", ` "`}[rng.IntN(6)]...)
				text()
			case 5: // a stray quote inside an unquoted cell
				text()
				b = append(b, '"')
				text()
			case 6: // an unclosed quote
				b = append(b, '"')
				text()
			case 7: // blanks around a quoted cell
				b = append(b, " \""...)
				text()
				b = append(b, "\" "...)
			}
		}
		b = append(b, []string{"\n", "\r\n", "\r", ""}[rng.IntN(4)]...)
	}
	return b
}

var (
	messyEncodings = []encoding{encUTF8, encUTF8, encUTF8, enc1252, enc874, encLatin1, encUTF16LE, encUTF16BE}
	messyDelims    = []rune{',', ',', ';', '\t', ' ', '|', 0, '§', '、', '€'}
)

// scanAll reads every record of data with a scanner whose buffer holds
// size bytes, reading through wrap; the records are copied.
func scanAll(t testing.TB, data []byte, f csvFormat, keepSpans, runeByRune bool, size int, wrap func(io.Reader) io.Reader) ([]csvRecord, *csvScanner) {
	t.Helper()
	s := &csvScanner{br: bufio.NewReaderSize(wrap(bytes.NewReader(data)), size), f: f, keepSpans: keepSpans, runeByRune: runeByRune}
	var recs []csvRecord
	var rec csvRecord
	for {
		ok, err := s.scan(&rec)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return recs, s
		}
		c := rec
		c.fields, c.spans, c.quotedLines = slices.Clone(rec.fields), slices.Clone(rec.spans), slices.Clone(rec.quotedLines)
		recs = append(recs, c)
	}
}

// compareScans fails if the fast path reads data differently from the
// rune-by-rune path: any field, byte offset, line count, quoted line or
// damage report.
func compareScans(t *testing.T, data []byte, f csvFormat, keepSpans bool, size int, wrap func(io.Reader) io.Reader) {
	t.Helper()
	want, ws := scanAll(t, data, f, keepSpans, true, size, wrap)
	got, gs := scanAll(t, data, f, keepSpans, false, size, wrap)
	where := func() string {
		return fmt.Sprintf("input %q, %s, delimiter %q, buffer %d", data, f.enc, f.delim, size)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, rune by rune %d", where(), len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		switch {
		case !slices.Equal(g.fields, w.fields):
			t.Fatalf("%s: record %d: fields %q, rune by rune %q", where(), i, g.fields, w.fields)
		case !slices.Equal(g.spans, w.spans):
			t.Fatalf("%s: record %d: spans %v, rune by rune %v", where(), i, g.spans, w.spans)
		case !slices.Equal(g.quotedLines, w.quotedLines):
			t.Fatalf("%s: record %d: quoted lines %v, rune by rune %v", where(), i, g.quotedLines, w.quotedLines)
		case g.num != w.num || g.start != w.start || g.end != w.end || g.next != w.next || g.line != w.line || g.lines != w.lines:
			t.Fatalf("%s: record %d: num %d [%d,%d,%d) line %d+%d, rune by rune num %d [%d,%d,%d) line %d+%d", where(), i,
				g.num, g.start, g.end, g.next, g.line, g.lines, w.num, w.start, w.end, w.next, w.line, w.lines)
		case g.bad != w.bad || g.badCol != w.badCol:
			t.Fatalf("%s: record %d: bad %q at %d, rune by rune %q at %d", where(), i, g.bad, g.badCol, w.bad, w.badCol)
		}
	}
	if gs.off != ws.off || gs.line != ws.line || gs.eol != ws.eol || gs.num != ws.num {
		t.Fatalf("%s: ends at %d line %d eol %q num %d, rune by rune at %d line %d eol %q num %d", where(),
			gs.off, gs.line, gs.eol, gs.num, ws.off, ws.line, ws.eol, ws.num)
	}
}

// TestCSVScanFastPathMatchesRunePath reads random messy inputs both ways,
// through buffers of random small sizes (runs and multi-byte sequences
// cut by a buffer's end) and readers that return a byte or half a buffer
// at a time.
func TestCSVScanFastPathMatchesRunePath(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	wraps := []func(io.Reader) io.Reader{
		func(r io.Reader) io.Reader { return r },
		iotest.OneByteReader,
		iotest.HalfReader,
	}
	for range 20000 {
		f := csvFormat{enc: messyEncodings[rng.IntN(len(messyEncodings))], delim: messyDelims[rng.IntN(len(messyDelims))]}
		data := messyInput(rng, 1+rng.IntN(60))
		if rng.IntN(2) == 0 {
			data = messyRows(rng, f.delim, 1+rng.IntN(6))
		}
		size := 16 + rng.IntN(48) // bufio's smallest buffer is 16 bytes
		if rng.IntN(4) == 0 {
			size = 4 << 10
		}
		compareScans(t, data, f, rng.IntN(2) == 0, size, wraps[rng.IntN(len(wraps))])
	}
}

// TestCSVScanFastPathRuns makes sure the comparison above compares
// something: plain text is read as runs, up to what the fast path leaves
// to the rune path.
func TestCSVScanFastPathRuns(t *testing.T) {
	for _, c := range []struct {
		in     string
		enc    encoding
		delim  rune
		quoted bool
		want   string
	}{
		{"abc,def", encUTF8, ',', false, "abc"},
		{"abc,def", encUTF8, ';', false, "abc,def"},
		{"abc,def", encUTF8, ';', true, "abc,def"},
		{`ab"c`, encUTF8, ',', false, "ab"},
		{"ตัวอย่าง,x", encUTF8, ',', false, "ตัวอย่าง"},
		{"ตัว、x", encUTF8, '、', false, "ตัว"},
		{"ตัว、x", encUTF8, '、', true, "ตัว、x"},
		{"ab\xffc", encUTF8, ',', false, "ab"},
		{"ab\xed\xa0\x80", encUTF8, ',', false, "ab"},
		{"ab\r\n", encUTF8, ',', true, "ab"},
		{"ab\xe9,c", enc1252, ',', false, "ab"},
		{"abc", encUTF16LE, ',', false, ""},
	} {
		s := newCSVScanner(bytes.NewReader([]byte(c.in)), csvFormat{enc: c.enc, delim: c.delim}, false)
		s.br.Peek(1) // fill the buffer
		n := s.plain(c.quoted)
		if got := string(s.buf); n != len(c.want) || got != c.want || s.off != int64(n) {
			t.Errorf("%q (%s, %q, quoted %v): run %q (%d bytes, offset %d), want %q", c.in, c.enc, c.delim, c.quoted, got, n, s.off, c.want)
		}
	}
}

// TestValidRune checks validRune against utf8.DecodeRune on every
// sequence of up to three bytes and on the four-byte edges.
func TestValidRune(t *testing.T) {
	check := func(b []byte) {
		r, n := utf8.DecodeRune(b)
		want := n
		if r == utf8.RuneError && n == 1 || !utf8.FullRune(b) {
			want = 0
		}
		if got := validRune(b); got != want {
			t.Fatalf("% x: %d, want %d", b, got, want)
		}
	}
	for a := 0x80; a < 0x100; a++ {
		check([]byte{byte(a)})
		for b := range 0x100 {
			check([]byte{byte(a), byte(b)})
			for _, c := range []byte{0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF} {
				check([]byte{byte(a), byte(b), c})
				check([]byte{byte(a), byte(b), c, 0x80})
				check([]byte{byte(a), byte(b), c, 0xC0})
			}
		}
	}
}

// FuzzCSVScanFastPath compares the fast path with the rune path on
// arbitrary input.
func FuzzCSVScanFastPath(f *testing.F) {
	rng := rand.New(rand.NewPCG(13, 2))
	for range 20 {
		f.Add(messyInput(rng, 30), uint8(rng.IntN(256)), uint8(rng.IntN(256)))
	}
	f.Fuzz(func(t *testing.T, data []byte, enc, delim uint8) {
		if len(data) > 4096 {
			return
		}
		format := csvFormat{enc: messyEncodings[int(enc)%len(messyEncodings)], delim: messyDelims[int(delim)%len(messyDelims)]}
		compareScans(t, data, format, enc&0x80 != 0, 16+int(delim)%48, func(r io.Reader) io.Reader { return r })
	})
}

// BenchmarkCSVScan reads the file BenchmarkReadCSV reads (1,000,000 rows,
// Thai text) with the scanner alone: the fast path, and rune by rune.
func BenchmarkCSVScan(b *testing.B) {
	const rows = 1_000_000
	p := writeBigCSV(b, rows)
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	sc := &sheetConf{}
	sc.Path, sc.Key = p, "Case No"
	for _, runeByRune := range []bool{false, true} {
		name := "fast"
		if runeByRune {
			name = "runeByRune"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for range b.N {
				file, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				s, _, err := openCSV(sc, file, false)
				if err != nil {
					b.Fatal(err)
				}
				s.runeByRune = runeByRune
				var rec csvRecord
				n := 0
				for {
					ok, err := s.scan(&rec)
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
					n++
				}
				file.Close()
				if n != rows+1+rows/100_000*2 {
					b.Fatalf("read %d rows", n)
				}
			}
		})
	}
}
