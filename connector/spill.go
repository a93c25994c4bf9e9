package connector

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Spill keeps records read once to be passed again, more than fit in
// memory: a run planned in parts reads Salesforce once and hands every
// part the records read. Records are encoded compactly into a temporary
// file, encrypted (AES-256-GCM) under a key made for the spill and held
// only in memory: the file holds personal data no one can read, and is
// removed by Close (on systems that allow it, as soon as it is made, so
// that a crash leaves nothing behind). Records read with an error are
// kept in memory, without their fields.
//
// A Spill is not safe for concurrent use.
type Spill struct {
	f      *os.File
	path   string // "" once removed
	aead   cipher.AEAD
	buf    []byte // the chunk being filled (plain)
	sealed []byte
	chunk  uint64 // chunks written (the nonce of the next)
	errs   []Record
	names  []string
	index  map[string]uint64
	n      int
	err    error
}

// spillChunk is the plain size at which a chunk is sealed and written.
const spillChunk = 256 << 10

// NewSpill makes an empty spill in dir (os.TempDir() if "").
func NewSpill(dir string) (*Spill, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "casebridge-spill-*")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	s := &Spill{f: f, path: f.Name(), aead: aead, index: map[string]uint64{}}
	if os.Remove(f.Name()) == nil {
		s.path = "" // unlinked: gone with the process
	}
	return s, nil
}

// Len returns the number of records added.
func (s *Spill) Len() int { return s.n }

// Add appends rec.
func (s *Spill) Add(rec Record) error {
	if s.err != nil {
		return s.err
	}
	s.n++
	if rec.Err != nil {
		// Kept in memory, without its values: a record read with an
		// error is used for its key and error alone.
		rec.Fields = nil
		s.errs = append(s.errs, rec)
		return nil
	}
	b := s.buf
	b = appendString(b, rec.Key)
	b = appendString(b, rec.ID)
	var flags byte
	if rec.Deleted {
		flags |= 1
	}
	if !rec.Modified.IsZero() {
		flags |= 2
	}
	b = append(b, flags)
	if !rec.Modified.IsZero() {
		b = binary.AppendVarint(b, rec.Modified.UnixNano())
	}
	b = binary.AppendUvarint(b, uint64(len(rec.Fields)))
	for name, v := range rec.Fields {
		i, ok := s.index[name]
		if !ok {
			i = uint64(len(s.names))
			s.index[name] = i
			s.names = append(s.names, name)
		}
		b = binary.AppendUvarint(b, i)
		b = appendValue(b, v)
	}
	s.buf = b
	if len(s.buf) >= spillChunk {
		s.err = s.flush()
	}
	return s.err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v Value) []byte {
	b = append(b, byte(v.kind))
	switch v.kind {
	case KindText:
		b = appendString(b, v.str())
	case KindNumber:
		b = appendString(b, v.num.String())
	case KindBool:
		if v.b {
			return append(b, 1)
		}
		return append(b, 0)
	case KindDate:
		b = binary.AppendVarint(b, int64(v.d.Year))
		b = append(b, byte(v.d.Month), byte(v.d.Day))
	case KindDateTime:
		b = binary.AppendVarint(b, v.t.Unix())
		b = binary.AppendUvarint(b, uint64(v.t.Nanosecond()))
	case KindMulti:
		b = binary.AppendUvarint(b, uint64(len(v.multi)))
		for _, m := range v.multi {
			b = appendString(b, m)
		}
	}
	return b
}

// flush seals the chunk being filled and writes it.
func (s *Spill) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	binary.BigEndian.PutUint64(nonce[len(nonce)-8:], s.chunk)
	s.chunk++
	s.sealed = s.aead.Seal(s.sealed[:0], nonce, s.buf, nil)
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(s.sealed)))
	if _, err := s.f.Write(hdr[:n]); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	if _, err := s.f.Write(s.sealed); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	s.buf = s.buf[:0]
	return nil
}

// Each passes every record added, in the order added (those read with an
// error first). It may be called any number of times.
func (s *Spill) Each(fn func(Record) error) error {
	if s.err != nil {
		return s.err
	}
	for _, rec := range s.errs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return s.chunks(func(c uint64, plain []byte) error {
		for d := (spillDecoder{b: plain, names: s.names}); len(d.b) > 0; {
			rec, err := d.record()
			if err != nil {
				return fmt.Errorf("spill: chunk %d: %w", c, err)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddRaw appends b, a record its caller encodes (a spill holds records
// added by Add or by AddRaw, not both). b is copied.
func (s *Spill) AddRaw(b []byte) error {
	if s.err != nil {
		return s.err
	}
	s.n++
	s.buf = binary.AppendUvarint(s.buf, uint64(len(b)))
	s.buf = append(s.buf, b...)
	if len(s.buf) >= spillChunk {
		s.err = s.flush()
	}
	return s.err
}

// EachRaw passes every record AddRaw added, in the order added. The slice
// is valid until fn returns.
func (s *Spill) EachRaw(fn func([]byte) error) error {
	if s.err != nil {
		return s.err
	}
	return s.chunks(func(c uint64, plain []byte) error {
		for len(plain) > 0 {
			n, k := binary.Uvarint(plain)
			if k <= 0 || uint64(len(plain)-k) < n {
				return fmt.Errorf("spill: chunk %d: %w", c, errSpillCorrupt)
			}
			if err := fn(plain[k : k+int(n)]); err != nil {
				return err
			}
			plain = plain[k+int(n):]
		}
		return nil
	})
}

// Seal writes what is buffered and lets go of the buffers: a caller that
// has added all it will for a while (many spills filled, then read one at
// a time) holds no 256 KiB per spill meanwhile. Add may still follow.
func (s *Spill) Seal() error {
	if s.err != nil {
		return s.err
	}
	if err := s.flush(); err != nil {
		s.err = err
		return err
	}
	s.buf, s.sealed = nil, nil
	return nil
}

// chunks writes the chunk being filled, then passes every chunk, opened,
// from the start of the file.
func (s *Spill) chunks(fn func(c uint64, plain []byte) error) error {
	if err := s.Seal(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	br := bufio.NewReaderSize(s.f, 64<<10)
	nonce := make([]byte, s.aead.NonceSize())
	var sealed, plain []byte
	for c := uint64(0); c < s.chunk; c++ {
		size, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("spill: chunk %d: %w", c, err)
		}
		sealed = slices.Grow(sealed[:0], int(size))[:size]
		if _, err := io.ReadFull(br, sealed); err != nil {
			return fmt.Errorf("spill: chunk %d: %w", c, err)
		}
		binary.BigEndian.PutUint64(nonce[len(nonce)-8:], c)
		plain, err = s.aead.Open(plain[:0], nonce, sealed, nil)
		if err != nil {
			return fmt.Errorf("spill: chunk %d: %w", c, err)
		}
		if err := fn(c, plain); err != nil {
			return err
		}
	}
	if _, err := s.f.Seek(0, io.SeekEnd); err != nil { // Add may follow
		return fmt.Errorf("spill: %w", err)
	}
	return nil
}

// Close removes the spill's file.
func (s *Spill) Close() error {
	err := s.f.Close()
	if s.path != "" {
		err = errors.Join(err, os.Remove(s.path))
	}
	s.err = errors.New("spill: closed")
	return err
}

// spillDecoder reads records back from a chunk.
type spillDecoder struct {
	b     []byte
	names []string
}

var errSpillCorrupt = errors.New("corrupt record")

func (d *spillDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spillDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spillDecoder) byte() (byte, bool) {
	if len(d.b) == 0 {
		return 0, false
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, true
}

func (d *spillDecoder) string() (string, bool) {
	n := d.uvarint()
	if uint64(len(d.b)) < n {
		return "", false
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s, true
}

func (d *spillDecoder) record() (Record, error) {
	var rec Record
	var ok bool
	if rec.Key, ok = d.string(); !ok {
		return rec, errSpillCorrupt
	}
	if rec.ID, ok = d.string(); !ok {
		return rec, errSpillCorrupt
	}
	flags, ok := d.byte()
	if !ok {
		return rec, errSpillCorrupt
	}
	rec.Deleted = flags&1 != 0
	if flags&2 != 0 {
		rec.Modified = time.Unix(0, d.varint()).UTC()
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return rec, errSpillCorrupt
	}
	rec.Fields = make(map[string]Value, n)
	for range n {
		i := d.uvarint()
		if i >= uint64(len(d.names)) {
			return rec, errSpillCorrupt
		}
		v, err := d.value()
		if err != nil {
			return rec, err
		}
		rec.Fields[d.names[i]] = v
	}
	return rec, nil
}

func (d *spillDecoder) value() (Value, error) {
	k, ok := d.byte()
	if !ok {
		return Value{}, errSpillCorrupt
	}
	switch Kind(k) {
	case KindNull:
		return Null(), nil
	case KindText:
		s, ok := d.string()
		if !ok {
			return Value{}, errSpillCorrupt
		}
		return Text(s), nil
	case KindNumber:
		s, ok := d.string()
		if !ok {
			return Value{}, errSpillCorrupt
		}
		n, err := decimal.NewFromString(s)
		if err != nil {
			return Value{}, errSpillCorrupt
		}
		return Number(n), nil
	case KindBool:
		b, ok := d.byte()
		if !ok {
			return Value{}, errSpillCorrupt
		}
		return Bool(b == 1), nil
	case KindDate:
		y := d.varint()
		m, ok1 := d.byte()
		day, ok2 := d.byte()
		if !ok1 || !ok2 {
			return Value{}, errSpillCorrupt
		}
		return DateValue(Date{Year: int(y), Month: time.Month(m), Day: int(day)}), nil
	case KindDateTime:
		sec := d.varint()
		ns := d.uvarint()
		if d.b == nil {
			return Value{}, errSpillCorrupt
		}
		return DateTime(time.Unix(sec, int64(ns))), nil
	case KindMulti:
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			return Value{}, errSpillCorrupt
		}
		vals := make([]string, n)
		for i := range vals {
			if vals[i], ok = d.string(); !ok {
				return Value{}, errSpillCorrupt
			}
		}
		return Multi(vals...), nil
	}
	return Value{}, errSpillCorrupt
}
